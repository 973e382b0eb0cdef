// Signed outgoing webhooks through the outbox, to a receiver that verifies them with the very code
// docs/outgoing-webhooks.md shows: every event of an incident, versioned JSON, signed, one
// idempotency key per event; a replay rejected, a duplicate dropped, every failure in the timeline.
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { sign } from '../../src/notify/webhook/webhook-event.js';
import { alert, API_TOKEN, payload, postWebhook, shippedConfigText, uniqueGroup } from '../helpers.js';
import { documentedVerify, WebhookReceiver } from '../fakes/webhook-receiver.js';
import { pagingApp } from './paging-helpers.js';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';

function config() {
  const text = shippedConfigText()
    .replace(
      'critical: { channels: ["#security-incident"],',
      'critical: { channels: ["#security-incident"], to: ["webhook:status-page", "webhook:tickets"],',
    )
    .replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["webhook:status-page"],');
  return parseConfig(text, 'triage.yml');
}

async function setup(t: Test, timeoutMs?: number, secret = SECRET) {
  let now = () => Date.now();
  const status = await WebhookReceiver.create(SECRET, () => now());
  const tickets = await WebhookReceiver.create(SECRET, () => now());
  await status.start();
  await tickets.start();
  t.teardown(() => status.stop());
  t.teardown(() => tickets.stop());
  const ctx = await pagingApp(
    t,
    { triage: config() },
    {},
    {
      outgoingWebhooks: {
        STATUS_PAGE: { url: `${status.url}/hooks/triage?token=s3cr3t-path`, secret },
        TICKETS: { url: `${tickets.url}/incoming`, secret },
      },
      ...(timeoutMs ? { httpTimeoutMs: timeoutMs } : {}),
    },
  );
  now = () => ctx.clock.now();
  return { ...ctx, status, tickets };
}

const open = async (app: Awaited<ReturnType<typeof setup>>['app'], name: string) =>
  (await postWebhook(app, payload(uniqueGroup(), [alert(name)]))).json().incident.id as number;
const auth = { authorization: `Bearer ${API_TOKEN}` };

t.test('every event of an incident reaches each webhook its route names, signed and versioned', async (t) => {
  const { app, status, tickets, settle, clock, slack, mail } = await setup(t);
  const id = await open(app, 'DDoSAttack');
  await settle();
  t.equal(status.events.length, 1, 'the status page got the opening');
  t.equal(tickets.events.length, 1, 'the ticket system too');
  const [req] = status.requests;
  t.equal(req!.path, '/hooks/triage?token=s3cr3t-path');
  t.match(req!.headers, {
    'content-type': 'application/json',
    'user-agent': 'alert-triage-webhook/1',
    'x-alert-triage-event': 'incident.opened',
    'x-alert-triage-timestamp': String(Math.floor(clock.now() / 1000)),
    'x-alert-triage-signature': /^v1=[0-9a-f]{64}$/,
    'idempotency-key': /^evt_[0-9a-f]{32}$/,
  });
  const event = status.events[0]!.body;
  t.match(event, {
    version: 1,
    id: req!.headers['idempotency-key'],
    type: 'incident.opened',
    occurredAt: new Date(clock.now()).toISOString(),
    summary: 'New incident',
    incident: {
      id,
      url: `https://triage.example.com/incidents/${id}`,
      title: /^DDoSAttack/,
      severity: 'critical',
      status: 'open',
      labels: { alertname: 'DDoSAttack' },
      alerts: { firing: 1, resolved: 0 },
    },
    cause: null,
  });
  t.not(tickets.events[0]!.key, status.events[0]!.key, 'one key per event and webhook');

  await app.inject({ method: 'POST', url: `/api/incidents/${id}/ack`, headers: auth, payload: { by: 'carol', note: 'on it' } });
  await settle();
  await app.inject({ method: 'POST', url: `/api/incidents/${id}/resolve`, headers: auth, payload: { by: 'carol' } });
  await app.triage.service.saveReview(id, { name: 'carol', via: 'web' }, { rootCause: 'a flood', impact: 'none', prevention: 'limits' });
  await settle();
  t.same(
    status.events.map((e) => e.type),
    ['incident.opened', 'incident.acknowledged', 'incident.resolved', 'incident.review_saved'],
  );
  t.match(status.events[1]!.body, {
    summary: 'Acknowledged by carol: on it',
    incident: { status: 'acknowledged', acknowledgedBy: 'carol' },
  });
  t.match(status.events[3]!.body, { cause: { kind: 'review', rootCause: 'a flood', impact: 'none', prevention: 'limits' } });
  t.equal(new Set(status.events.map((e) => e.key)).size, 4, 'each event its own key');
  t.notOk(
    slack.messages.some((m) => /review/i.test(m.text)) || mail.received.some((m) => /review/i.test(m.mail.text ?? '')),
    'a saved review goes to webhooks only, not to people',
  );
  t.equal(status.rejected.length + status.duplicates.length, 0);
});

t.test('a captured request replayed later is rejected; within the window its key drops it', async (t) => {
  const { app, status, settle, fastForward } = await setup(t);
  await open(app, 'ServiceDown');
  await settle();
  const captured = status.requests[0]!;
  t.equal(await status.replay(captured), 200, 'replayed at once: the signature holds...');
  t.equal(status.events.length, 1, '...but the key was seen: dropped');
  t.equal(status.duplicates.length, 1);
  await fastForward(5 * 60_000 + 1000);
  t.equal(await status.replay(captured), 401, 'replayed after five minutes: rejected');
  t.equal(status.rejected.length, 1);

  // A body changed in flight does not verify.
  const forged = { ...captured, body: captured.body.replace('"status":"open"', '"status":"resolved"') };
  t.not(forged.body, captured.body);
  t.equal(await status.replay({ ...forged, headers: { ...captured.headers, 'idempotency-key': 'evt_other' } }), 401);
});

t.test('failures are retried with backoff, each one in the timeline; the event arrives once', async (t) => {
  const { app, status, drain, fastForward, store } = await setup(t);
  status.failNext({ status: 503 }, 4);
  status.failNext({ status: 429, retryAfter: 30 });
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(120_000, 1000);
  t.equal(status.events.length, 1, 'delivered once');
  const timeline = (await store.getIncident(id))!.timeline.filter((e) => 'channel' in e && e.channel === 'webhook');
  const retries = timeline.filter((e) => e.kind === 'page_retrying');
  t.equal(retries.length, 5, 'every failed attempt is in the timeline, not only the first three');
  t.match(
    retries.map((e) => e.kind === 'page_retrying' && e.reason),
    [/503/, /503/, /503/, /503/, /^webhook status-page HTTP 429/],
  );
  const gaps = retries.map((e) => (e.kind === 'page_retrying' ? e.nextAttemptAt - e.at : 0));
  t.ok(gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!, `backoff grows (${gaps.join(', ')} ms)`);
  t.equal(gaps[4], 30_000, 'Retry-After obeyed');
  t.match(timeline.at(-1), { kind: 'paged', outcome: 'sent' });
  t.notOk(JSON.stringify(timeline).includes('s3cr3t-path'), 'the URL is never in the timeline');
});

t.test('an unknown outcome is sent again with the same key, and the receiver drops the copy', async (t) => {
  const { app, status, drain, fastForward, store } = await setup(t, 300);
  status.failNext({ hang: true, record: true });
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(10_000, 1000);
  t.equal(status.events.length, 1, 'processed once');
  t.equal(status.duplicates.length, 1, 'the second copy dropped by its key');
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'page_retrying'),
    {
      unknownOutcome: true,
      noLookup: true,
      reason: 'webhook status-page unreachable: timed out',
    },
  );
});

t.test('a refusal is final: a receiver that does not know the secret, or a 410', async (t) => {
  const { app, status, drain, fastForward, store } = await setup(t, undefined, 'whsec-not-the-receivers-secret');
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(60_000, 5000);
  t.equal(status.requests.length, 1, 'not retried');
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed'),
    {
      channel: 'webhook',
      outcome: 'failed',
      reason: 'webhook status-page HTTP 401: {"error":"bad signature or stale timestamp"}',
    },
  );
});

t.test('a webhook that is gone (410) is not asked again', async (t) => {
  const { app, status, drain, fastForward, store } = await setup(t);
  status.failNext({ status: 410, body: 'gone' });
  const id = await open(app, 'ServiceDown');
  await drain();
  await fastForward(60_000, 5000);
  t.equal(status.requests.length, 1);
  t.match(
    (await store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed'),
    { reason: 'webhook status-page HTTP 410: gone' },
  );
});

t.test('the documented verification: five lines, and it agrees with the signer', async (t) => {
  const verify = await documentedVerify();
  const body = '{"version":1}';
  const ts = 1_795_000_000;
  const sig = sign(SECRET, ts, body);
  t.ok(verify(SECRET, String(ts), sig, body, ts * 1000 + 299_000), 'inside the window');
  t.notOk(verify(SECRET, String(ts), sig, body, ts * 1000 + 301_000), 'outside it: a replay');
  t.notOk(verify(SECRET, String(ts), sig, `${body} `, ts * 1000), 'another body');
  t.notOk(verify('another-secret-0000', String(ts), sig, body, ts * 1000), 'another secret');
  t.notOk(verify(SECRET, undefined, sig, body, ts * 1000), 'no timestamp');
  t.notOk(verify(SECRET, String(ts), undefined, body, ts * 1000), 'no signature');
  const doc = (await import('node:fs')).readFileSync(new URL('../../docs/outgoing-webhooks.md', import.meta.url), 'utf8');
  const block = /<!-- verify:start -->\s*```js\n([\s\S]*?)```/.exec(doc)![1]!;
  const body5 = block.split('\n').filter((l) => l.trim() && !/^(import|export function|\})/.test(l.trim()));
  t.equal(body5.length, 5, `five lines of code besides the import and the signature:\n${block}`);
});
