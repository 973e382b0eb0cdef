// Several replicas on PostgreSQL, end to end with real processes (issue 9): two clustered
// Alertmanagers posting every group to two replicas; kill -9 of a replica in the middle of a Slack
// call, settled by the other one; the database cut and restored under a running replica.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { fixture, freePort, tempDir } from '../helpers.js';
import { start, waitFor, type Running } from '../fakes/server-process.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { TcpProxy } from '../fakes/tcp-proxy.js';
import { needs } from '../monitoring/tools.js';
import { testDatabase, TEST_DATABASE_URL } from '../store/postgres-test-db.js';

// Each test starts several Node processes loading TypeScript through tsx and waits out a 30 s
// lease: together well over tap's default 120 s per file on a shared 2-core machine.
t.setTimeout(420_000);

const AM = process.env['ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager';
const WEBHOOK = 'replicas-e2e-webhook-token-5150';
const API = 'replicas-e2e-api-token';
const SLACK = 'xoxb-replicas';

interface TimelineEntry {
  kind: string;
  detail: string;
  at: string;
}
interface IncidentSummary {
  id: number;
  title: string;
  severity: string;
  key: string;
}

/** Starts a replica and stops it (SIGKILL, by pid) at teardown unless it already exited. */
function replica(t: Test, env: Record<string, string>): Running {
  const r = start({ WEBHOOK_TOKEN: WEBHOOK, API_TOKEN: API, LOG_LEVEL: 'info', ...env });
  t.teardown(() => {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  });
  return r;
}

const base = (port: number) => `http://127.0.0.1:${port}`;

function postWebhook(port: number, body: object): Promise<Response> {
  return fetch(`${base(port)}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

async function incidents(port: number): Promise<IncidentSummary[]> {
  const res = await fetch(`${base(port)}/api/incidents`, { headers: { authorization: `Bearer ${API}` } });
  if (!res.ok) throw new Error(`GET /api/incidents answered ${res.status}`);
  return ((await res.json()) as { incidents: IncidentSummary[] }).incidents;
}

async function timeline(port: number, id: number): Promise<TimelineEntry[]> {
  const res = await fetch(`${base(port)}/api/incidents/${id}`, { headers: { authorization: `Bearer ${API}` } });
  if (!res.ok) throw new Error(`GET /api/incidents/${id} answered ${res.status}`);
  return ((await res.json()) as { timeline: TimelineEntry[] }).timeline;
}

/** The value of one series (`name{labels}` exactly as exposed) in a /metrics text, 0 when absent. */
function sample(text: string, series: string): number {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return 0;
}

/** The sum of every series of a metric whose labels include all of `labels` (e.g. `integration="webhook"`). */
function total(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m && labels.every((l) => (m[1] ?? '').includes(l))) sum += Number(m[2]);
  }
  return sum;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
}

/** Polls `check` until it holds, failing with `what` (and `log()`) after `ms`. */
async function until(check: () => Promise<boolean> | boolean, what: string, ms: number, log: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${what}\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One Alertmanager firing group for the webhook, as Alertmanager 0.25 would post it. */
function group(alertname: string, severity: string): object {
  const body = fixture('firing-two-alerts').body;
  return {
    ...body,
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: { alertname, severity },
    alerts: body.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname, severity }, fingerprint: `${a.fingerprint}-${alertname}` })),
  };
}

const amSkip = needs(AM, 'prometheus-alertmanager (or set ALERTMANAGER_BIN)');

t.test(
  'two clustered Alertmanagers post every group to two replicas on one database: one incident per group, one Slack message per incident',
  { skip: amSkip },
  async (t) => {
    const db = await testDatabase(t);
    if ('skip' in db) return t.plan(0, db.skip);
    const dir = tempDir(t);
    const slack = await new SlackApiServer(SLACK).start();
    t.teardown(() => slack.stop());

    const ports = [await freePort(), await freePort()];
    const replicas = ports.map((port) =>
      replica(t, { PORT: String(port), DATABASE_URL: db.url, SLACK_BOT_TOKEN: SLACK, SLACK_API_URL: slack.url }),
    );
    await Promise.all(replicas.map((r) => waitFor(r, 'alert-triage ready', 60_000)));

    // Both Alertmanagers have the same config: one receiver, one webhook_config per replica.
    const config = join(dir, 'alertmanager.yml');
    writeFileSync(
      config,
      `route:
  receiver: triage
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: triage
    webhook_configs:
${ports
  .map(
    (port) => `      - url: ${base(port)}/webhook/alertmanager
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: ${WEBHOOK}
`,
  )
  .join('')}`,
    );
    const amWeb = [await freePort(), await freePort()];
    const amCluster = [await freePort(), await freePort()];
    const ams = [0, 1].map((i) => {
      const am: ChildProcess & { log?: string } = spawn(AM, [
        `--config.file=${config}`,
        `--storage.path=${join(dir, `am-${i}`)}`,
        `--web.listen-address=127.0.0.1:${amWeb[i]}`,
        `--cluster.listen-address=127.0.0.1:${amCluster[i]}`,
        `--cluster.advertise-address=127.0.0.1:${amCluster[i]}`,
        `--cluster.peer=127.0.0.1:${amCluster[1 - i]}`,
        // Each peer skips a group that the other's notification log, gossiped, says is sent. Here
        // that gossip is slow (10 s) and the second peer waits only 10 ms (position × peer-timeout)
        // before it looks, so both peers post every group, as an HA pair does when gossip lags or
        // a peer is cut off: the receiver has to absorb that. (With 100 ms gossip a run saw the second
        // peer skip half the groups.) The membership itself is joined at once, without gossip.
        '--cluster.gossip-interval=10s',
        '--cluster.pushpull-interval=1m',
        '--cluster.peer-timeout=10ms',
        // Settling is measured in gossip intervals: cut short, or the first notification waits a minute.
        '--cluster.settle-timeout=2s',
        '--log.level=warn',
      ]);
      am.log = '';
      am.stdout!.on('data', (d) => (am.log += d));
      am.stderr!.on('data', (d) => (am.log += d));
      t.teardown(() => {
        if (am.exitCode === null && am.signalCode === null) am.kill('SIGKILL');
      });
      return am;
    });
    const amUrls = amWeb.map((p) => base(p));
    const amLogs = () => ams.map((am, i) => `--- alertmanager ${i}:\n${am.log}`).join('\n');
    for (const url of amUrls) await until(async () => (await fetch(`${url}/-/ready`)).ok, `${url} ready`, 30_000, amLogs);
    // Clustered: each sees both peers before any alert arrives.
    for (const url of amUrls) {
      await until(
        async () =>
          ((await (await fetch(`${url}/api/v2/status`)).json()) as { cluster: { peers?: unknown[] } }).cluster.peers?.length === 2,
        `${url} sees both cluster peers`,
        30_000,
        amLogs,
      );
    }

    const startsAt = new Date().toISOString();
    const groups = [
      { alertname: 'HighCpuLoad', severity: 'warning', channel: '#incidents' },
      { alertname: 'SlowApiResponses', severity: 'info', channel: '#alerts' },
      { alertname: 'LoginFailureBurst', severity: 'warning', channel: '#incidents' },
    ];
    const alerts = groups.flatMap((g) =>
      ['web-1:9100', 'web-2:9100'].map((instance) => ({
        labels: { alertname: g.alertname, severity: g.severity, instance },
        annotations: { summary: `${g.alertname} on ${instance}` },
        startsAt,
        generatorURL: 'http://prometheus:9090/graph',
      })),
    );
    // The same alerts to both peers at once, as Prometheus sends to every Alertmanager it knows.
    const posted = await Promise.all(
      amUrls.map((url) =>
        fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) }),
      ),
    );
    t.same(
      posted.map((r) => r.status),
      [200, 200],
      'both Alertmanagers took the alerts',
    );

    // Each replica has had every group (at least once) from the cluster: 200s counted in its own metrics.
    const delivered = async () =>
      Promise.all(ports.map(async (p) => sample(await metricsText(base(p)), 'triage_webhook_requests_total{code="200"}')));
    await until(async () => (await delivered()).every((n) => n >= groups.length), 'every group delivered to both replicas', 60_000, amLogs);
    // Then until the notifications settle: each peer's webhook counter (attempts, across both URLs)
    // stops moving for a few group intervals.
    const amSent = async () =>
      Promise.all(amUrls.map(async (url) => total(await metricsText(url), 'alertmanager_notifications_total', 'integration="webhook"')));
    let last = '';
    let stableSince = Date.now();
    await until(
      async () => {
        const now = JSON.stringify([await amSent(), await delivered()]);
        if (now !== last) [last, stableSince] = [now, Date.now()];
        return Date.now() - stableSince >= 5_000;
      },
      'the Alertmanagers to stop notifying',
      60_000,
      amLogs,
    );
    const [sentByPeer, okByReplica] = JSON.parse(last) as [number[], number[]];
    t.comment(`webhook notifications per Alertmanager: ${sentByPeer.join(', ')}; 200s per replica: ${okByReplica.join(', ')}`);
    // Whether the second peer skips a group is Alertmanager's gossip timing, not ours: the settings
    // above make it post all of them in practice, but only "both peers posted to both replicas" is
    // asserted; that every replica had every group is asserted above.
    t.ok(
      sentByPeer.every((n) => n >= 2),
      'both Alertmanagers posted to both replicas',
    );
    for (const [i, p] of ports.entries()) {
      const text = await metricsText(base(p));
      t.equal(total(text, 'triage_webhook_requests_total', 'code="500"'), 0, `replica ${i}: no 500`);
      t.comment(
        `replica ${i} webhook answers: ${text
          .split('\n')
          .filter((l) => l.startsWith('triage_webhook_requests_total'))
          .join('; ')}`,
      );
    }
    const failed = await Promise.all(
      amUrls.map(async (url) => total(await metricsText(url), 'alertmanager_notifications_failed_total', 'integration="webhook"')),
    );
    t.comment(`failed webhook notifications per Alertmanager (retried): ${failed.join(', ')}`);

    // One incident per group, the same list from either replica.
    const list = await incidents(ports[0]!);
    t.same((await incidents(ports[1]!)).map((i) => i.id).sort(), list.map((i) => i.id).sort(), 'both replicas read the same incidents');
    t.equal(list.length, groups.length, 'one incident per group');
    t.same(list.map((i) => i.title.split(' ')[0]).sort(), groups.map((g) => g.alertname).sort(), 'the incidents are the three groups');
    for (const g of groups)
      t.equal(list.filter((i) => i.key === `triage/{}:{alertname="${g.alertname}"}`).length, 1, `one incident for ${g.alertname}`);

    // One Slack message per incident, in the channel of its severity, once every page settled.
    await until(
      async () =>
        (await Promise.all(list.map(async (i) => (await timeline(ports[1]!, i.id)).some((e) => e.kind === 'paged')))).every(Boolean),
      'every incident paged',
      30_000,
    );
    // A duplicate would be a second page in the outbox: give a replica time to send it if there were one.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const i of list) {
      const g = groups.find((x) => i.title.startsWith(x.alertname))!;
      const messages = slack.messages.filter((m) => m.metadata?.event_payload['incident_id'] === i.id);
      t.equal(messages.length, 1, `one Slack message for incident ${i.id} (${g.alertname})`);
      t.equal(messages[0]?.channel, SlackApiServer.channelId(g.channel), `in ${g.channel}`);
    }
    t.equal(slack.messages.length, groups.length, 'no other message');
    t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, groups.length, 'one chat.postMessage per incident');
    // Counters count each event once across replicas: only the replica that did the work counts it.
    const texts = await Promise.all(ports.map((p) => metricsText(base(p))));
    const across = (name: string, ...labels: string[]) => texts.reduce((sum, text) => sum + total(text, name, ...labels), 0);
    t.equal(across('triage_incidents_opened_total'), groups.length, 'incidents opened, summed over the replicas: one per group');
    t.equal(
      across('triage_notifications_total', 'channel="slack"', 'outcome="sent"'),
      groups.length,
      'Slack pages sent, summed over the replicas: one per incident',
    );

    for (const am of ams) am.kill('SIGTERM');
    for (const r of replicas) r.child.kill('SIGTERM');
    t.same(await Promise.all(replicas.map((r) => r.exited)), [0, 0], 'both replicas exit cleanly');
  },
);

t.test(
  'kill -9 of a replica in the middle of a Slack call: the other replica leaves the live lease alone, then settles the page without posting it again',
  async (t) => {
    const db = await testDatabase(t);
    if ('skip' in db) return t.plan(0, db.skip);
    const slack = await new SlackApiServer(SLACK).start();
    t.teardown(() => slack.stop());
    // Slack stores the message but never answers; the client would wait a full minute.
    slack.failNext('chat.postMessage', { hang: true, record: true });
    const env = { DATABASE_URL: db.url, SLACK_BOT_TOKEN: SLACK, SLACK_API_URL: slack.url, SLACK_TIMEOUT: '60s' };
    const [portA, portB] = [await freePort(), await freePort()];
    const a = replica(t, { ...env, PORT: String(portA) });
    await waitFor(a, 'alert-triage ready', 60_000);

    const res = await postWebhook(portA, group('RateLimitSpike', 'warning'));
    t.equal(res.status, 200, 'A took the webhook');
    await until(() => slack.hanging.length === 1, 'the Slack call hanging on replica A', 20_000, a.output);
    t.equal(slack.postedTo('#incidents').length, 1, 'Slack has the message; A never hears back');

    const b = replica(t, { ...env, PORT: String(portB) });
    await waitFor(b, 'alert-triage ready', 60_000);
    const [incident] = await incidents(portB);
    t.ok(incident, 'B reads the incident');
    const id = incident!.id;

    // Longer than the 30 s lease: A, alive, keeps renewing it, so B must never take the page. The
    // whole watch runs even after a violation, so the counts below are those of the full 35 s.
    const watchStart = Date.now();
    let takenEarly: string | undefined;
    while (Date.now() - watchStart < 35_000) {
      const paged = (await timeline(portB, id)).filter((e) => e.kind === 'paged');
      if (paged.length && !takenEarly) takenEarly = `${Date.now() - watchStart} ms after B was ready: ${JSON.stringify(paged)}`;
      await new Promise((r) => setTimeout(r, 500));
    }
    t.notOk(takenEarly, 'B leaves the page alone while A, alive, holds its lease', { takenEarly });
    t.equal(slack.postedTo('#incidents').length, 1, 'still exactly one message after 35 s');
    t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'B never called chat.postMessage');
    t.equal(a.child.exitCode, null, 'A is alive, its Slack call still hanging');

    const killed = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    let entries: TimelineEntry[] = [];
    await until(
      async () => (entries = await timeline(portB, id)).some((e) => e.kind === 'paged'),
      'B to settle the page after A died',
      60_000,
      () => `B's log:\n${b.output()}\nA's log:\n${a.output()}`,
    );
    t.comment(`kill -9 of A to the page settled by B: ${Date.now() - killed} ms`);
    const paged = entries.filter((e) => e.kind === 'paged');
    t.equal(paged.length, 1, 'one paged entry');
    t.match(paged[0]!.detail, /found already delivered/, 'B found the message A had posted');
    t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
    t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'nobody posted it again');
    t.ok(
      slack.calls.some((c) => c.method === 'conversations.history'),
      'B looked in Slack before any resend',
    );

    b.child.kill('SIGTERM');
    t.equal(await b.exited, 0, 'B exits cleanly');
  },
);

t.test(
  'the database cut under a running replica: 503 with Retry-After, /readyz fails, /healthz stays up; restored, it recovers by itself',
  async (t) => {
    const db = await testDatabase(t);
    if ('skip' in db) return t.plan(0, db.skip);
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await new TcpProxy(Number(target.port || 5432), target.hostname).start();
    t.teardown(() => proxy.stop());
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);

    const port = await freePort();
    const r = replica(t, {
      PORT: String(port),
      DATABASE_URL: url.toString(),
      // Small, so a black hole is noticed quickly; the defaults are 5 s each.
      DATABASE_CONNECT_TIMEOUT: '2s',
      DATABASE_STATEMENT_TIMEOUT: '2s',
    });
    await waitFor(r, 'alert-triage ready', 60_000);
    const status = async (path: string) => (await fetch(`${base(port)}${path}`, { signal: AbortSignal.timeout(20_000) })).status;

    t.equal((await postWebhook(port, group('HighCpuLoad', 'warning'))).status, 200, 'a webhook before the cut');
    t.equal(await status('/readyz'), 200, '/readyz before the cut');

    for (const mode of ['reset', 'blackhole'] as const) {
      const alertname = mode === 'reset' ? 'DatabaseErrors' : 'HighMemoryUse';
      proxy.cut(mode);
      const cutAt = Date.now();
      const during = await postWebhook(port, group(alertname, 'warning'));
      const took = Date.now() - cutAt;
      t.comment(`${mode}: the first webhook after the cut answered ${during.status} in ${took} ms`);
      t.equal(during.status, 503, `${mode}: 503, not 200 or 500`);
      t.ok(Number(during.headers.get('retry-after')) > 0, `${mode}: with Retry-After (${during.headers.get('retry-after')})`);
      t.ok(took < 15_000, `${mode}: an answer, not a hang (a guard, not a speed test)`);
      // Every later one as well, while the database stays away.
      const again = await postWebhook(port, group(alertname, 'warning'));
      t.equal(again.status, 503, `${mode}: a retry during the cut gets 503 too`);
      t.equal(await status('/readyz'), 503, `${mode}: /readyz fails`);
      t.equal(await status('/healthz'), 200, `${mode}: /healthz stays up`);

      proxy.restore();
      const restoredAt = Date.now();
      // As Alertmanager would: retry the same group until it is taken.
      await until(
        async () => (await postWebhook(port, group(alertname, 'warning'))).status === 200,
        `${mode}: a webhook taken after the restore`,
        30_000,
        r.output,
      );
      t.comment(`${mode}: restore to the first 200: ${Date.now() - restoredAt} ms`);
      await until(async () => (await status('/readyz')) === 200, `${mode}: /readyz back`, 30_000, r.output);
      t.ok(
        (await incidents(port)).some((i) => i.title.startsWith(alertname)),
        `${mode}: the group refused during the cut is an incident now`,
      );
    }

    const list = await incidents(port);
    t.equal(list.length, 3, 'one incident per group: the one before and the two refused during the cuts');
    t.equal(r.child.exitCode, null, 'the process never exited');
    const text = await metricsText(base(port));
    t.equal(total(text, 'triage_webhook_requests_total', 'code="500"'), 0, 'no webhook ever answered 500');
    t.comment(
      `webhook answers: ${text
        .split('\n')
        .filter((l) => l.startsWith('triage_webhook_requests_total{'))
        .join('; ')}`,
    );
    t.comment(`connections through the proxy: ${proxy.accepted}`);
    r.child.kill('SIGTERM');
    t.equal(await r.exited, 0, 'a clean exit after all that');
  },
);
