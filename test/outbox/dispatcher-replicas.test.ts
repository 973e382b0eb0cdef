// Two replicas' dispatchers on one PostgreSQL database, under one manual clock: a page whose
// replica stalls mid-send is taken over when its lease runs out, looked up and not posted twice,
// and the stalled replica's late outcome is not recorded; Slack's pace is shared by both.
import t, { type Test } from 'tap';
import { PostgresStore } from '../../src/store/postgres-store.js';
import type { IncidentStore } from '../../src/store/store.js';
import { alert, api, failingOnce, makeApp, metric, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { pagingApp, SLACK_TOKEN } from '../notify/paging-helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';

const db = await testDatabase(t);
if ('skip' in db) {
  t.plan(0, db.skip);
} else {
  const url = db.url;
  let schemas = 0;
  const LEASE_MS = 30_000;

  /**
   * Replica A (with the fake Slack and SMTP servers) and replica B, on one fresh schema. `faults`
   * wraps A's store, for a database that fails at one precise step.
   */
  async function twoReplicas(t: Test, faults: (store: IncidentStore) => IncidentStore = (s) => s) {
    const schema = `replicas${++schemas}`;
    const open = async () => {
      const store = await PostgresStore.open({ url, schema, poolSize: 4 });
      t.teardown(() => store.close());
      return store;
    };
    const dispatch = { autoStart: false, random: () => 0.5, leaseMs: LEASE_MS };
    // A long client timeout: only the lease, never the timeout, can end A's hanging call here.
    const a = await pagingApp(
      t,
      { dispatch: { ...dispatch, owner: 'replica-a' } },
      { store: faults(await open()) },
      { slackTimeoutMs: 120_000 },
    );
    const b = await makeApp(t, {
      store: await open(),
      clock: a.clock,
      config: {
        channels: {
          slackBotToken: SLACK_TOKEN,
          slackApiUrl: a.slack.url,
          smtpUrl: a.mail.url,
          emailFrom: 'alert-triage@example.com',
          publicUrl: 'https://triage.example.com',
        },
        dispatch: { ...dispatch, owner: 'replica-b' },
      },
    });
    return { a, b };
  }

  const sentMetric = 'triage_notifications_total{channel="slack",outcome="sent"}';

  t.test(
    'a replica stalls mid-send: the other takes the page over when the lease runs out, finds it in Slack, and posts nothing twice',
    async (t) => {
      const { a, b } = await twoReplicas(t);
      a.slack.failNext('chat.postMessage', { hang: true, record: true });
      t.equal((await postWebhook(a.app, payload(uniqueGroup(), [alert('RateLimitSpike')]))).statusCode, 200);
      // A claims and posts; Slack stores the message and never answers. A's heartbeat is not running
      // (the loop is driven by hand here), exactly as if the replica had died or stalled.
      const stalled = a.app.triage.dispatcher.tick();
      for (const deadline = Date.now() + 10_000; a.slack.hanging.length === 0; await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() > deadline) throw new Error('the Slack call never came');
      }
      t.equal(await b.app.triage.dispatcher.tick(), 0, 'B never takes a page under a live lease');
      a.clock.advance(LEASE_MS - 1);
      t.equal(await b.app.triage.dispatcher.tick(), 0, 'not even a moment before it ends');

      a.clock.advance(1);
      t.equal(await b.app.triage.dispatcher.tick(), 1, 'taken over once the lease ran out');
      t.equal(a.slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
      t.equal(a.slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'B looked it up instead of posting');
      const paged = (await api(b.app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => e.kind === 'paged');
      t.match(paged, [{ outcome: 'found', detail: /found already delivered, not sent again/ }]);

      // A's call finally breaks. Its outcome is not recorded: the page is B's now.
      a.slack.hanging[0]!.destroy();
      await stalled;
      const after = (await api(b.app, 'GET', '/api/incidents/1')).body.timeline;
      t.equal(
        after.filter((e: { kind: string }) => e.kind === 'paged' || e.kind === 'page_retrying' || e.kind === 'page_failed').length,
        1,
        "one outcome in the timeline, B's",
      );
      t.equal((await b.store.queueDepth()).slack ?? 0, 0, 'nothing queued again for Slack');
      t.equal(await metric(b.app, sentMetric), 1, 'the replica that did the work counts it');
      t.not(await metric(a.app, sentMetric), 1, 'the stalled one does not');
    },
  );

  t.test('a replica that stops hands its leases over at once', async (t) => {
    const { a, b } = await twoReplicas(t);
    a.slack.failNext('chat.postMessage', { hang: true, record: true });
    await postWebhook(a.app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
    void a.app.triage.dispatcher.tick();
    for (const deadline = Date.now() + 10_000; a.slack.hanging.length === 0; await new Promise((r) => setTimeout(r, 10))) {
      if (Date.now() > deadline) throw new Error('the Slack call never came');
    }
    await a.app.triage.dispatcher.stop();
    t.ok((await b.app.triage.dispatcher.tick()) >= 1, 'B takes it over without waiting for the lease');
    t.equal(a.slack.postedTo('#incidents').length, 1, 'and finds it rather than posting again');
  });

  t.test("two replicas share one Slack channel's pace: one message per interval between them", async (t) => {
    const { a, b } = await twoReplicas(t);
    await postWebhook(a.app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
    await a.app.triage.dispatcher.tick();
    t.equal(a.slack.postedTo('#incidents').length, 1);
    // A second incident for the same channel, at the same moment, handled by the other replica.
    await postWebhook(b.app, payload(uniqueGroup(), [alert('RateLimitSpike', { fingerprint: 'other' })]));
    await b.app.triage.dispatcher.tick();
    t.equal(a.slack.postedTo('#incidents').length, 1, 'B waits for the pace A took');
    a.clock.advance(1100);
    await b.app.triage.dispatcher.tick();
    t.equal(a.slack.postedTo('#incidents').length, 2, 'and posts once the channel is free');
  });

  t.test('the database fails just after Slack took the page: the page is handed over and found, never posted again', async (t) => {
    const { a } = await twoReplicas(t, (store) =>
      failingOnce(store, 'completePage', (args) => (args[1] as { status: string }).status === 'sent'),
    );
    await postWebhook(a.app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
    await a.app.triage.dispatcher.tick();
    t.equal(a.slack.postedTo('#incidents').length, 1, 'Slack has it');
    // The failed batch ended its lease at once: the next pass (once the channel's pace allows) takes
    // the page again, as an unknown outcome.
    a.clock.advance(1100);
    await a.app.triage.dispatcher.tick();
    t.equal(a.slack.postedTo('#incidents').length, 1, 'exactly one message');
    t.equal(a.slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'never posted again');
    t.match(
      (await api(a.app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => e.kind === 'paged'),
      [{ outcome: 'found' }],
    );
  });

  t.test('pages claimed but never delivered (reading the incident failed) are handed over, not held by the heartbeat', async (t) => {
    const { a, b } = await twoReplicas(t, (store) => failingOnce(store, 'getIncidents'));
    await postWebhook(a.app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
    // The failed read ends that target's delivery (logged), not the pass: other targets go on.
    t.ok((await a.app.triage.dispatcher.tick()) >= 1, 'A claimed the pages');
    t.equal(a.slack.postedTo('#incidents').length, 0, 'and sent nothing');
    t.ok((await b.app.triage.dispatcher.tick()) >= 1, 'the other replica takes them at once');
    t.equal(a.slack.postedTo('#incidents').length, 1, 'and delivers once');
  });
}
