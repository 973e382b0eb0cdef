import t from 'tap';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { api, makeApp, postWebhook, shippedConfigText, T0 } from '../helpers.js';
import { pagingApp, SLACK_TOKEN } from '../notify/paging-helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { ManualClock } from '../../src/clock.js';

const MIN = 60_000;
const HEARTBEATS = `
heartbeats:
  watchdog:
    timeout: 5m
    sources:
      - name: am-main
        externalUrls: ["http://am-1:9093", "http://am-2:9093/"]
  monitors:
    - name: nightly-backup
      timeout: 26h
`;
const BACKUP_TOKEN = 'backup-token-1234';

async function app(t: Test, yaml = HEARTBEATS) {
  const triage = parseConfig(shippedConfigText(yaml), 'triage.yml');
  return pagingApp(t, { triage, heartbeatTokens: { HEARTBEAT_TOKEN_NIGHTLY_BACKUP: BACKUP_TOKEN } });
}

/** Alertmanager's notification of the always-firing Watchdog, from the Alertmanager at `externalURL`. */
function watchdog(externalURL: string, status: 'firing' | 'resolved' = 'firing') {
  return {
    version: '4',
    receiver: 'alert-triage-watchdog',
    status,
    groupKey: '{}/{alertname="Watchdog"}:{alertname="Watchdog"}',
    groupLabels: { alertname: 'Watchdog' },
    externalURL,
    alerts: [
      {
        status,
        labels: { alertname: 'Watchdog', severity: 'none' },
        annotations: { summary: 'The alerting pipeline is alive' },
        startsAt: '2026-11-23T20:00:00Z',
        endsAt: status === 'resolved' ? '2026-11-23T22:00:00Z' : '0001-01-01T00:00:00Z',
        fingerprint: 'f1b4e8c2d3a5b6c7',
      },
    ],
  };
}

const incidents = async (a: Awaited<ReturnType<typeof app>>['app']) =>
  (await api(a, 'GET', '/api/incidents')).body.incidents as { id: number; title: string; severity: string; status: string }[];

t.test(
  'a Watchdog is a beat, never an incident; a silent Alertmanager opens one critical incident, paged once, and its return resolves it',
  async (t) => {
    const p = await app(t);
    const res = await postWebhook(p.app, watchdog('http://am-1:9093'));
    t.same(res.json(), { status: 'ok', changed: false, incident: null, heartbeats: ['am-main'] });
    t.same(await incidents(p.app), [], 'the Watchdog opened nothing');

    // Beats from either peer of the HA pair keep the one source alive.
    await p.fastForward(4 * MIN);
    await postWebhook(p.app, watchdog('http://am-2:9093'));
    await p.fastForward(4 * MIN);
    t.same(await incidents(p.app), [], 'beats kept coming');

    // Then nothing for longer than the timeout.
    await p.fastForward(2 * MIN);
    let list = await incidents(p.app);
    t.equal(list.length, 1);
    t.match(list[0], { title: 'Alerting pipeline silent: am-main', severity: 'critical', status: 'open' });
    const details = (await api(p.app, 'GET', `/api/incidents/${list[0]!.id}`)).body;
    t.match(details.alerts[0].annotations.description, /No Watchdog alert from am-main for 5m: the last came at /);
    t.equal(details.externalUrl, 'http://am-1:9093', 'links to the Alertmanager it watches');
    // Paged through the critical route (Slack and e-mail: neither goes through Alertmanager).
    const slack = p.expect.slack('#security-incident', /Alerting pipeline silent: am-main/);
    t.ok(slack);
    const mails = p.mail.received.filter((m) => /Alerting pipeline silent: am-main/.test(m.mail.subject ?? ''));
    t.equal(mails.length, 1, 'one e-mail');
    p.expect.email(mails[0]!.rcptTo, /Alerting pipeline silent: am-main/);

    // Later passes, and a resolved Watchdog (its Prometheus stopped sending it), change nothing.
    await p.fastForward(30_000, 5_000);
    await postWebhook(p.app, watchdog('http://am-1:9093', 'resolved'));
    await p.fastForward(10_000, 5_000);
    t.equal((await incidents(p.app)).length, 1, 'still one incident');
    // Acknowledge it, or the escalation steps would page more people while we wait.
    t.equal((await api(p.app, 'POST', `/api/incidents/${list[0]!.id}/ack`, { by: 'carol' })).status, 200);

    // The Watchdog comes back: the incident resolves.
    const back = await postWebhook(p.app, watchdog('http://am-1:9093'));
    t.equal(back.statusCode, 200);
    list = await incidents(p.app);
    t.match(list[0], { status: 'resolved' });
    await p.settle();
    // The thread hears the acknowledgement and the resolution; nothing else was sent.
    p.expect.slack('#security-incident', /Acknowledged by carol/);
    p.expect.slack('#security-incident', /Resolved automatically: all 1 alerts resolved/);
    p.expect.nothingElse();
  },
);

t.test('a Watchdog from an Alertmanager nobody listed is recorded but never paged; its last beat is a metric', async (t) => {
  const p = await app(t);
  t.same((await postWebhook(p.app, watchdog('http://elsewhere:9093'))).json().heartbeats, ['http://elsewhere:9093']);
  await p.fastForward(60 * MIN, 5 * MIN);
  const titles = (await incidents(p.app)).map((i) => i.title);
  t.notOk(titles.includes('Alerting pipeline silent: http://elsewhere:9093'));
  const metrics = (await p.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /triage_heartbeat_last_seen_timestamp_seconds\{kind="watchdog",source="http:\/\/elsewhere:9093"\} \d+/);
  t.match(metrics, /triage_heartbeat_deadline_timestamp_seconds\{kind="watchdog",source="am-main"\} \d+/);
});

t.test('a Watchdog in a group with other alerts: the others open their incident, the Watchdog does not', async (t) => {
  const p = await app(t);
  const body = watchdog('http://am-1:9093');
  body.alerts.push({ ...body.alerts[0]!, labels: { alertname: 'ServiceDown', severity: 'none' }, fingerprint: 'aa' });
  const res = (await postWebhook(p.app, body)).json();
  t.match(res, { changed: true, heartbeats: ['am-main'], incident: { id: 1 } });
  const got = (await api(p.app, 'GET', '/api/incidents/1')).body;
  t.same(
    got.alerts.map((a: { labels: { alertname: string } }) => a.labels.alertname),
    ['ServiceDown'],
  );
});

t.test('heartbeat monitors: their own token, their own timeout, the same incident when missed', async (t) => {
  // Only the monitor: no Watchdog is expected here.
  const p = await app(t, 'heartbeats:\n  monitors: [{ name: nightly-backup, timeout: 26h }]\n');
  const beat = (token?: string, name = 'nightly-backup') =>
    p.app.inject({ method: 'POST', url: `/api/heartbeats/${name}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
  t.equal((await beat()).statusCode, 401);
  t.equal((await beat('test-api-token')).statusCode, 401, 'the API token is not a heartbeat token');
  const unknown = await beat(BACKUP_TOKEN, 'weekly-report');
  t.equal(unknown.statusCode, 401);
  t.match(unknown.json().message, /set HEARTBEAT_TOKEN_WEEKLY_REPORT/);
  t.equal((await beat(BACKUP_TOKEN, 'Bad Name')).statusCode, 400);
  const ok = await beat(BACKUP_TOKEN);
  t.equal(ok.statusCode, 200);
  t.match(ok.json(), { status: 'ok', name: 'nightly-backup', deadline: '2026-11-25T00:08:00.000Z' });

  await p.fastForward(26 * 60 * MIN - 1000, 60 * MIN);
  t.same(await incidents(p.app), [], 'within 26h: nothing');
  await p.fastForward(2 * MIN);
  const list = await incidents(p.app);
  t.equal(list.length, 1);
  t.match(list[0], { title: 'Alerting pipeline silent: nightly-backup', severity: 'critical' });
  t.match(
    (await api(p.app, 'GET', `/api/incidents/${list[0]!.id}`)).body.alerts[0].annotations.description,
    /No heartbeat from nightly-backup for 1d2h/,
  );
  t.equal((await beat(BACKUP_TOKEN)).statusCode, 200);
  t.match((await incidents(p.app))[0], { status: 'resolved' });
});

t.test('the config: defaults, per-source timeouts, and names that are refused', async (t) => {
  const c = parseConfig(shippedConfigText(HEARTBEATS), 'triage.yml').heartbeats;
  t.same(c, {
    watchdog: {
      alertname: 'Watchdog',
      sources: [{ name: 'am-main', externalUrls: ['http://am-1:9093', 'http://am-2:9093'], timeoutMs: 5 * MIN }],
    },
    monitors: [{ name: 'nightly-backup', timeoutMs: 26 * 60 * MIN }],
  });
  t.same(parseConfig(shippedConfigText(''), 'x.yml').heartbeats, { watchdog: { alertname: 'Watchdog', sources: [] }, monitors: [] });
  t.throws(() => parseConfig(shippedConfigText('heartbeats:\n  monitors: [{ name: "a b", timeout: 1h }]'), 'x.yml'), /heartbeats/);
  t.throws(
    () => parseConfig(shippedConfigText('heartbeats:\n  monitors: [{ name: a, timeout: 1h }, { name: a, timeout: 2h }]'), 'x.yml'),
    /heartbeats.monitors: "a" is listed twice/,
  );
  t.ok(parse(HEARTBEATS));
});

t.test('two replicas on PostgreSQL: a missed Watchdog opens exactly one incident, paged once', async (t) => {
  const db = await testDatabase(t);
  if ('skip' in db) return t.plan(0, db.skip);
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  t.teardown(() => slack.stop());
  const clock = new ManualClock(T0);
  const triage = parseConfig(shippedConfigText(HEARTBEATS), 'triage.yml');
  const replica = async () =>
    (
      await makeApp(t, {
        clock,
        store: await PostgresStore.open({ url: db.url }),
        config: {
          triage,
          channels: { slackBotToken: SLACK_TOKEN, slackApiUrl: slack.url },
          dispatch: { autoStart: false, random: () => 0.5 },
        },
      })
    ).app;
  const [a, b] = [await replica(), await replica()];
  t.equal((await postWebhook(a, watchdog('http://am-1:9093'))).statusCode, 200);
  clock.advance(6 * MIN);
  // Both replicas' scheduler passes, at the same moment, several times over; then both dispatchers.
  for (let i = 0; i < 3; i++) await Promise.all([a.triage.scheduler.tick(), b.triage.scheduler.tick()]);
  for (let i = 0; i < 5; i++) await Promise.all([a.triage.dispatcher.tick(), b.triage.dispatcher.tick()]);
  const list = (await api(b, 'GET', '/api/incidents')).body.incidents as { title: string }[];
  t.same(
    list.map((i) => i.title),
    ['Alerting pipeline silent: am-main'],
  );
  const posted = slack.messages.filter(
    (m) => /Alerting pipeline silent: am-main/.test(m.text) && m.channel === SlackApiServer.channelId('#security-incident'),
  );
  t.equal(posted.length, 1, 'one Slack message');
  // The Watchdog comes back, through either replica: resolved once.
  t.equal((await postWebhook(b, watchdog('http://am-2:9093'))).statusCode, 200);
  await Promise.all([a.triage.scheduler.tick(), b.triage.scheduler.tick()]);
  t.match((await api(a, 'GET', '/api/incidents')).body.incidents, [{ status: 'resolved' }]);
});
