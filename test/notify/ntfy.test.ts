// ntfy through the outbox, against a stand-in that answers as ntfy does (tokens, topics, priorities,
// its visitor rate limit, its message cache): a team topic from `to:`, each paged person's own topic,
// priority by severity, 429 and 5xx retried, a refusal not retried, an unknown outcome looked up.
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { alert, payload, postWebhook, shippedConfigText, uniqueGroup } from '../helpers.js';
import { NtfyServer } from '../fakes/ntfy-server.js';
import { pagingApp } from './paging-helpers.js';

const TOKEN = 'tk_alerttriage0000000000000000';

function config(extra = '') {
  const text = shippedConfigText()
    .replace(
      'critical: { channels: ["#security-incident"],',
      'critical: { channels: ["#security-incident"], to: ["ntfy:ops-alerts"], ntfy: true,',
    )
    .replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["ntfy:ops-alerts"],')
    .replace('medium:   { channels: ["#incidents"],', 'medium:   { channels: ["#incidents"], to: ["ntfy:ops-alerts"],')
    .replace('low:      { channels: ["#alerts"],', 'low:      { channels: ["#alerts"], to: ["ntfy:ops-alerts"],')
    .replace('    name: Alice Martin\n', '    name: Alice Martin\n    addresses: { ntfy: alice-phone }\n')
    .replace('    name: Bob Chen\n', '    name: Bob Chen\n    addresses: { ntfy: bob-phone }\n');
  return parseConfig(text + extra, 'triage.yml');
}

async function setup(t: Test, opts: ConstructorParameters<typeof NtfyServer>[0] = {}, timeoutMs?: number) {
  let now = () => Date.now();
  const ntfy = await new NtfyServer({ tokens: { [TOKEN]: ['*'] }, now: () => now(), ...opts }).start();
  t.teardown(() => ntfy.stop());
  const ctx = await pagingApp(
    t,
    { triage: config() },
    {},
    { ntfyUrl: `${ntfy.url}/`, ntfyToken: TOKEN, ...(timeoutMs ? { httpTimeoutMs: timeoutMs } : {}) },
  );
  now = () => ctx.clock.now();
  return { ...ctx, ntfy };
}

const open = async (app: Awaited<ReturnType<typeof setup>>['app'], name: string) =>
  (await postWebhook(app, payload(uniqueGroup(), [alert(name)]))).json().incident.id as number;

t.test('a Critical pushes the team topic and each paged person with a topic, at priority 5 with a link', async (t) => {
  const { app, ntfy, settle, store } = await setup(t);
  const id = await open(app, 'DDoSAttack');
  await settle();
  const team = ntfy.topic('ops-alerts');
  t.equal(team.length, 1, 'the team topic once');
  t.match(team[0], {
    priority: 5,
    tags: ['rotating_light', 'critical', `incident-${id}`, /^page-\d+$/],
    click: `https://triage.example.com/incidents/${id}`,
    actions: [{ action: 'view', label: 'Open incident', url: `https://triage.example.com/incidents/${id}` }],
    title: /^CRITICAL: DDoSAttack/,
    message: /New incident[\s\S]*Respond by: [\s\S]*First response:\n1\. /,
  });
  // Critical pages on-call (Carol, no topic), the security lead (Alice) and the CTO (Bob).
  t.equal(ntfy.topic('alice-phone').length, 1, "Alice's own topic once");
  t.equal(ntfy.topic('bob-phone').length, 1, "Bob's own topic once");
  t.equal(ntfy.messages.length, 3, 'nothing else');
  t.ok(
    ntfy.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`),
    'the access token on every request',
  );
  const timeline = (await store.getIncident(id))!.timeline;
  t.match(
    timeline.filter((e) => e.kind === 'paged' && e.channel === 'ntfy'),
    [
      { target: 'ops-alerts', outcome: 'sent' },
      { target: 'alice-phone', recipients: ['alice'], outcome: 'sent' },
      { target: 'bob-phone', recipients: ['bob'], outcome: 'sent' },
    ],
  );
});

t.test('priorities follow severity (High 4, Medium 3, Low 2); acknowledgements are quiet', async (t) => {
  const { app, ntfy, settle } = await setup(t);
  const high = await open(app, 'ServiceDown');
  await open(app, 'HighCPU');
  await open(app, 'LowDiskSpace');
  await settle();
  t.same(
    ntfy.topic('ops-alerts').map((m) => [m.priority, m.tags![1]]),
    [
      [4, 'high'],
      [3, 'medium'],
      [2, 'low'],
    ],
  );
  await app.inject({
    method: 'POST',
    url: `/api/incidents/${high}/ack`,
    headers: { authorization: 'Bearer test-api-token' },
    payload: { by: 'carol' },
  });
  await settle();
  const ack = ntfy.topic('ops-alerts').at(-1)!;
  t.match(ack, {
    priority: 2,
    message:
      /^Acknowledged by carol \(recorded with API_TOKEN for this name, not by that person signed in\)\nStatus: acknowledged by carol\n/,
  });
});

t.test('a 429 pauses the topic and the push goes out once after it; a refusal is not retried', async (t) => {
  const { app, ntfy, drain, fastForward, store } = await setup(t, { burst: 1 });
  await open(app, 'ServiceDown');
  const second = await open(app, 'ServiceDown2');
  await drain();
  await fastForward(1000); // the topic's pace
  t.equal(ntfy.messages.length, 1, 'the bucket held one');
  t.ok(
    ntfy.requests.some((r) => r.status === 429),
    'ntfy said 429',
  );
  const retrying = (await store.getIncident(second))!.timeline.find((e) => e.kind === 'page_retrying');
  t.match(retrying, { channel: 'ntfy', reason: /ntfy HTTP 429: .*too many requests/ });
  await fastForward(5000);
  t.equal(ntfy.topic('ops-alerts').length, 2, 'both pushed, each once');

  // A token that may not write the topic: 403, final.
  ntfy.failNext({ status: 403, body: '{"code":40301,"http":403,"error":"forbidden"}' });
  const third = await open(app, 'ServiceDown3');
  await fastForward(10_000);
  const failed = (await store.getIncident(third))!.timeline.find((e) => e.kind === 'page_failed');
  t.match(failed, { channel: 'ntfy', outcome: 'failed', reason: 'ntfy HTTP 403: {"code":40301,"http":403,"error":"forbidden"}' });
  t.equal(ntfy.requests.filter((r) => r.method === 'POST').length, 4, 'one push, a 429, the push again, the 403: no retry after it');
});

t.test('an unknown outcome is looked up in the topic cache: found, it is not pushed again', async (t) => {
  const { app, ntfy, drain, fastForward, store } = await setup(t, {}, 300);
  ntfy.failNext({ hang: true, record: true });
  const id = await open(app, 'ServiceDown');
  await drain();
  t.equal(ntfy.messages.length, 1, 'ntfy has it; the answer never came');
  await fastForward(5000);
  t.equal(ntfy.messages.length, 1, 'not pushed twice');
  t.ok(
    ntfy.requests.some((r) => r.method === 'GET' && /\/ops-alerts\/json\?poll=1&since=\d+/.test(r.path)),
    'the cache was polled',
  );
  const timeline = (await store.getIncident(id))!.timeline;
  t.match(
    timeline.find((e) => e.kind === 'page_retrying'),
    { unknownOutcome: true, reason: 'ntfy unreachable: timed out' },
  );
  t.match(
    timeline.find((e) => e.kind === 'paged' && e.channel === 'ntfy'),
    { outcome: 'found' },
  );
});

t.test('without a cache to look in, an unknown outcome is pushed again: at least once', async (t) => {
  const { app, ntfy, drain, fastForward } = await setup(t, { cache: false }, 300);
  ntfy.failNext({ status: 502, record: true });
  await open(app, 'ServiceDown');
  await drain();
  await fastForward(5000);
  t.equal(ntfy.messages.length, 2, 'the server kept the first; nothing told us so');
});

t.test('hostile text stays plain text', async (t) => {
  const { app, ntfy, settle } = await setup(t);
  await postWebhook(
    app,
    payload(uniqueGroup(), [alert('ServiceDown', { annotations: { summary: '**bold** [x](https://evil.example) \u202Eevil' } })]),
  );
  await settle();
  const m = ntfy.topic('ops-alerts')[0]!;
  t.match(m.message, /\*\*bold\*\* \[x\]\(https:\/\/evil\.example\) \[U\+202E\]evil/, 'as typed, markdown off, bidi shown');
  t.notOk('markdown' in m);
});
