// Status page subscribers through the real SMTP server, with two replicas on one PostgreSQL database:
// double opt-in, each public update e-mailed once (both dispatchers claiming), RFC 8058's one-click
// unsubscribe, nothing after it, and the plan's "Users notified" once the closing update went out.
import t, { type Test } from 'tap';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { ManualClock } from '../../src/clock.js';
import { MailServer } from '../fakes/mail-server.js';
import { alert, api, makeApp, payload, postWebhook, T0, uniqueGroup } from '../helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';

const db = await testDatabase(t);
if ('skip' in db) {
  t.plan(0, db.skip);
} else {
  const url = db.url;
  let schemas = 0;
  async function twoReplicas(t: Test) {
    const mail = await new MailServer().start();
    t.teardown(() => mail.stop());
    const schema = `status${++schemas}_${process.pid}`;
    const clock = new ManualClock(T0);
    const replica = async (owner: string) => {
      const store = await PostgresStore.open({ url, schema, poolSize: 4 });
      return makeApp(t, {
        store,
        clock,
        config: {
          statusCacheMs: 0,
          dispatch: { autoStart: false, owner, random: () => 0.5 },
          channels: {
            smtpUrl: mail.url,
            emailFrom: 'status@example.com',
            statusPublicUrl: 'https://status.example.com',
            statusEmailIntervalMs: 1,
          },
        },
      });
    };
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    return { a, b, mail, clock };
  }

  const form = (fields: Record<string, string>) => ({
    method: 'POST' as const,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

  t.test('confirm, one e-mail per update with two replicas, one-click unsubscribe, nothing after', async (t) => {
    const { a, b, mail, clock } = await twoReplicas(t);
    const asked = await a.app.inject({ url: '/status/subscribe', ...form({ email: 'Reader@Example.com' }) });
    t.equal(asked.statusCode, 200);
    t.match(asked.body, /Check your inbox/);
    const again = await b.app.inject({ url: '/status/subscribe', ...form({ email: 'reader@example.com' }) });
    t.equal(again.body.replace(/<[^>]+>/g, ''), asked.body.replace(/<[^>]+>/g, ''), 'the same answer for an address already waiting');

    await Promise.all([a.app.triage.scheduler.tick(), b.app.triage.scheduler.tick()]);
    const confirmations = mail.received.filter((m) => /Confirm your subscription/.test(m.mail.subject ?? ''));
    t.equal(confirmations.length, 1, 'one confirmation e-mail, claimed by one replica');
    t.same(confirmations[0]!.rcptTo, ['reader@example.com']);
    const link = /https:\/\/status\.example\.com(\/status\/confirm\/[A-Za-z0-9_-]+)/.exec(confirmations[0]!.mail.text ?? '')?.[1];
    t.ok(link, 'the e-mail carries the confirmation link on the status host');
    t.equal((await a.app.inject({ url: link! })).statusCode, 200, 'a GET only shows the button');
    t.equal((await a.app.triage.store.confirmedSubscribers()).length, 0, 'a link scanner confirms nobody');
    t.match((await b.app.inject({ url: link!, method: 'POST' })).body, /Subscribed/);

    const r = await postWebhook(a.app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { service: 'api' } })]));
    const id = r.json().incident.id as number;
    const incident = (await a.app.triage.store.incidentHead(id, { offset: 0, limit: 1 }))!;
    const carol = { name: 'Carol Diaz', contact: 'carol', via: 'web' as const };
    const post = (state: 'investigating' | 'resolved', message: string) =>
      a.app.triage.status.post(
        incident,
        carol,
        { state, title: 'API errors', message, components: [{ id: 'api', status: state === 'resolved' ? 'operational' : 'major_outage' }] },
        true,
      );
    const drain = async () => {
      for (let n = 0; n < 10; n++) {
        clock.advance(1000);
        const [x, y] = await Promise.all([a.app.triage.dispatcher.tick(), b.app.triage.dispatcher.tick()]);
        if (x + y === 0) return;
      }
    };
    const updates = () =>
      mail.received.filter((m) => /\[Example status\]/.test(m.mail.subject ?? '') && !/Confirm/.test(m.mail.subject ?? ''));

    await post('investigating', 'We are looking into it.');
    await drain();
    t.equal(updates().length, 1, 'the update reached the subscriber once, though both replicas claimed');
    const m = updates()[0]!;
    t.equal(m.mail.subject, '[Example status] Investigating: API errors');
    t.same(m.rcptTo, ['reader@example.com']);
    const header = (name: string) => m.mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');
    const unsubscribe = /^<(https:\/\/status\.example\.com\/status\/unsubscribe\/[A-Za-z0-9_-]+)>$/.exec(
      header('list-unsubscribe') ?? '',
    )?.[1];
    t.ok(unsubscribe, 'List-Unsubscribe: an https URL');
    t.equal(header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click', 'RFC 8058 one-click');
    t.notMatch(m.mail.text ?? '', /ServiceDown|service=|Carol|carol/, 'nothing internal in the e-mail');
    const timeline = (await api(a.app, 'GET', `/api/incidents/${id}`)).body.timeline as { kind: string; step?: string }[];
    t.notOk(
      timeline.some((e) => e.kind === 'paged' && JSON.stringify(e).includes('status-email')),
      'no delivery entry per subscriber',
    );
    t.notOk(
      timeline.some((e) => e.step === 'Users notified (if applicable)'),
      'not yet: this was no closing update',
    );

    await post('resolved', 'Fixed.');
    await drain();
    t.equal(updates().length, 2, 'the closing update, once');
    const after = (await api(a.app, 'GET', `/api/incidents/${id}`)).body.timeline as { kind: string; step?: string; actor: string }[];
    t.match(
      after.filter((e) => e.step === 'Users notified (if applicable)'),
      [{ kind: 'checklist', actor: 'system', state: 'done' }],
      '"Users notified" ticked once, when the closing update went to subscribers',
    );

    // A mail provider's one-click: a POST without Origin, the body RFC 8058 says.
    const path = new URL(unsubscribe!).pathname;
    const one = await b.app.inject({ url: path, ...form({ 'List-Unsubscribe': 'One-Click' }) });
    t.equal(one.statusCode, 200);
    t.match(one.body, /Unsubscribed/);
    await post('investigating', 'It is back.');
    await drain();
    t.equal(updates().length, 2, 'nothing after unsubscribing');
    t.same(await a.app.triage.store.listSubscribers(), [], 'the address is gone');
  });
}
