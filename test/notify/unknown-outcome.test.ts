import t, { type Test } from 'tap';
import { alert, api, metric, payload, postWebhook, uniqueGroup } from '../helpers.js';
import type { Failure } from '../fakes/slack-api-server.js';
import { pagingApp } from './paging-helpers.js';

// Slack stores the message, but the answer is lost: the client's timeout (short here) fires, or the
// connection drops after the request was written. The outcome is unknown, as after a crash, so the
// retry looks the page up by its metadata and finds it instead of posting a second copy.
// Long enough that the fake has read (and stored) the request before the client gives up, even on a busy machine.
const TIMEOUT_MS = 1500;

async function lostAnswer(t: Test, failure: Failure) {
  const ctx = await pagingApp(t, {}, {}, { slackTimeoutMs: TIMEOUT_MS });
  const { app, slack, clock, drain } = ctx;
  slack.failNext('chat.postMessage', failure);
  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]))).statusCode, 200);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'Slack has the message, the answer was lost');

  const retrying = (await api(app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => e.kind === 'page_retrying');
  t.match(retrying, [
    {
      channel: 'slack',
      target: '#incidents',
      event: 'opened',
      attempt: 1,
      unknownOutcome: true,
      nextAttemptAt: String,
      detail:
        /^Slack #incidents: attempt 1 failed \(Slack unreachable: .*\); the outcome is unknown, so the channel is checked for the page first; retrying at /,
    },
  ]);
  t.equal(await metric(app, 'triage_notifications_retrying{channel="slack"}'), 1, 'retrying, from the first failure on');

  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'never posted again');
  t.ok(
    slack.calls.some((c) => c.method === 'conversations.history'),
    'looked it up first',
  );
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline.filter((e: { kind: string }) => e.kind === 'paged'),
    [{ outcome: 'found' }],
  );
  t.equal(await metric(app, 'triage_notifications_retrying{channel="slack"}'), 0);
  return ctx;
}

t.test('Slack stores the message but never answers: after the timeout the page is looked up, not posted twice', async (t) => {
  await lostAnswer(t, { hang: true, record: true });
});

t.test('Slack answers only after the client gave up: one message', async (t) => {
  await lostAnswer(t, { delayMs: TIMEOUT_MS + 1000, record: true });
});

t.test('the connection resets after the request was written: one message', async (t) => {
  await lostAnswer(t, { reset: true, record: true });
});

t.test('a thread reply whose answer is lost is looked up in the thread, not posted twice', async (t) => {
  const { app, slack, clock, drain } = await pagingApp(t, {}, {}, { slackTimeoutMs: TIMEOUT_MS });
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  clock.advance(2000);
  slack.failNext('chat.postMessage', { hang: true, record: true });
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  await drain();
  clock.advance(2000);
  await drain();
  const [root, ...replies] = slack.postedTo('#incidents');
  t.equal(replies.length, 1, 'one reply in the thread');
  t.equal(replies[0]!.thread_ts, root!.ts);
  t.ok(
    slack.calls.some((c) => c.method === 'conversations.replies'),
    'looked in the thread first',
  );
});

t.test('Slack lost the request itself (no message stored): the lookup finds nothing and it is sent, once', async (t) => {
  const { app, slack, clock, drain } = await pagingApp(t, {}, {}, { slackTimeoutMs: TIMEOUT_MS });
  slack.failNext('chat.postMessage', { hang: true });
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  t.equal(slack.postedTo('#incidents').length, 0);
  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'delivered once');
  t.match(
    (await api(app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => e.kind === 'paged'),
    [{ outcome: 'sent' }],
  );
});

t.test('e-mail: a retried page keeps its Message-ID (derived from the outbox id), so a duplicate folds in the client', async (t) => {
  const { app, mail, clock, drain, settle } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await settle();
  clock.advance(5 * 60_000);
  mail.failData.push(451);
  await app.triage.scheduler.tick(); // the deadline passes: the breach takes escalation step 1, by e-mail too
  await drain();
  clock.advance(2000);
  await settle();
  const retried = (await api(app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => e.kind === 'page_retrying');
  t.match(retried, [{ channel: 'email', attempt: 1, reason: /^SMTP 451/ }]);
  // The attempt the server refused and the one it took are the same message to a mail client.
  t.equal(mail.refused.length, 1, 'one attempt refused with 451');
  const refusedId = mail.refused[0]!.mail.messageId;
  const page = mail.refused[0]!.mail.headers.get('x-alert-triage-page');
  t.equal(refusedId, `<page-${String(page as unknown as number)}.incident-1@example.com>`, 'the outbox id names the message');
  const delivered = mail.received.filter((m) => m.mail.headers.get('x-alert-triage-page') === page);
  t.equal(delivered.length, 1, 'the retry delivered it');
  t.equal(delivered[0]!.mail.messageId, refusedId, 'with the same Message-ID as the refused attempt');
});
