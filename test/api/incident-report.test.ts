import t from 'tap';
import { addNote } from '../../src/incidents/incident-machine.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { alert, API_TOKEN, api, makeApp, payload, postWebhook, T0, uniqueGroup } from '../helpers.js';
import { countingStore, largestRead } from '../store/counting-store.js';

const MIN = 60_000;

t.test('the report tells the whole story of a real incident', async (t) => {
  const { app, clock } = await makeApp(t);
  const key = uniqueGroup();
  await postWebhook(app, payload(key, [alert('SlowAPI', { labels: { instance: 'api-1' } })]));
  clock.advance(2 * MIN);
  await postWebhook(
    app,
    payload(key, [
      alert('SlowAPI', { labels: { instance: 'api-1' } }),
      alert('DDoSAttack', { labels: { instance: 'lb|1' }, annotations: { summary: 'flood <b>now</b>' } }),
    ]),
  );
  clock.advance(6 * MIN);
  await app.triage.scheduler.tick();
  clock.advance(MIN);
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice', note: 'blocking at the edge' });
  clock.advance(30 * MIN);
  await postWebhook(
    app,
    payload(key, [
      alert('SlowAPI', { status: 'resolved', labels: { instance: 'api-1' } }),
      alert('DDoSAttack', { status: 'resolved', labels: { instance: 'lb|1' } }),
    ]),
  );

  const res = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/markdown/);
  const md = res.body;
  t.match(md, /^## Incident Report - 2026-11-23: SlowAPI: SlowAPI summary\n/);
  t.match(md, '| Severity | Critical, chosen by rule `critical-by-name` |');
  t.match(md, '| Status | resolved |');
  t.match(
    md,
    '| Detected | 2026-11-23 22:07:46 UTC (first alert started; received 2026-11-23 22:08:00 UTC) |',
    'detection is when Prometheus saw it',
  );
  // Raised to critical at 22:10, so the deadline tightened to 22:15; nobody acknowledged by then.
  t.match(md, '| Response deadline | 2026-11-23 22:15:00 UTC (5m for critical): **missed** |');
  t.match(md, '| Acknowledged | 2026-11-23 22:17:00 UTC by alice, 9m14s after detection |');
  t.match(md, '| Resolved | 2026-11-23 22:47:00 UTC by alertmanager, 39m14s after detection |');
  const timeline = md.slice(md.indexOf('### Timeline'), md.indexOf('### Alerts'));
  t.match(timeline, /- 2026-11-23 22:08:00 - Detection: Opened as low by rule low-by-name/);
  t.match(timeline, /- 22:10:00 - Escalation: Severity raised from low to critical/);
  t.match(timeline, /- 22:15:00 - SLA missed:/);
  t.match(timeline, /- 22:17:00 - Response: Acknowledged by alice: blocking at the edge/);
  t.match(timeline, /- 22:47:00 - Resolution: Resolved automatically: all 2 alerts resolved/);
  t.ok(
    timeline.indexOf('Escalation') < timeline.indexOf('SLA missed') && timeline.indexOf('SLA missed') < timeline.indexOf('Response'),
    'in order',
  );
  t.match(md, '| DDoSAttack: flood \\<b>now\\</b> | instance=lb\\|1 | critical (critical-by-name) | resolved |', 'alert text is escaped');
  for (const heading of ['### Root Cause', '### Impact', '### Prevention']) t.match(md, heading);
});

t.test('an open incident reports a pending deadline; unknown ids are 404; the token is needed', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  const md = (await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } })).body;
  t.match(md, '(1h for high): pending |');
  t.match(md, '| Acknowledged | not yet |');
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/incidents/9/report', headers: { authorization: `Bearer ${API_TOKEN}` } })).statusCode,
    404,
  );
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents/1/report' })).statusCode, 401);
});

t.test("after a manual resolve, Alertmanager's later resolved settles the alerts and reopens nothing", async (t) => {
  const { app, clock } = await makeApp(t);
  const key = uniqueGroup();
  const firing = alert('ServiceDown', { labels: { instance: 'web-1' } });
  await postWebhook(app, payload(key, [firing]));
  clock.advance(5 * MIN);
  await api(app, 'POST', '/api/incidents/1/resolve', { by: 'alice', note: 'restarted' });
  t.match((await api(app, 'GET', '/api/incidents/1')).body.alerts, [{ status: 'firing' }], 'still firing as far as Alertmanager said');

  clock.advance(2 * MIN);
  const res = await postWebhook(app, payload(key, [alert('ServiceDown', { status: 'resolved', labels: { instance: 'web-1' } })]));
  t.match(res.json(), { changed: true, incident: { id: 1, status: 'resolved' } });
  const got = (await api(app, 'GET', '/api/incidents/1')).body;
  t.match(got, { status: 'resolved', resolvedBy: 'alice', alerts: [{ status: 'resolved', endsAt: '2026-11-23T22:30:00.000Z' }] });
  t.match(got.timeline.at(-1), { kind: 'alert_resolved', actor: 'alertmanager' });
  t.equal((await api(app, 'GET', '/api/incidents')).body.incidents.length, 1, 'no new incident');
  const md = (await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } })).body;
  t.match(md, /\| ServiceDown: ServiceDown summary \| instance=web-1 \| high \(high-by-name\) \| resolved \|/);

  // The same firing alert delivered late (an HA peer) changes nothing either.
  t.match((await postWebhook(app, payload(key, [firing]))).json(), { changed: false, incident: { id: 1 } });
});

t.test(
  'the report of a huge incident summarises: the first and last entries, the alerts by name; its size and its reads are bounded',
  async (t) => {
    const counted = countingStore(new SqliteStore({ path: ':memory:' }));
    const { app, store } = await makeApp(t, { store: counted.store });
    const key = uniqueGroup();
    const alerts = Array.from({ length: 1500 }, (_, i) =>
      alert(i % 3 ? 'InstanceDown' : 'DiskFull', { fingerprint: `fp${i}`, labels: { instance: `host-${i}` } }),
    );
    await postWebhook(app, payload(key, alerts));
    const lee = { name: 'Lee', via: 'api' } as const;
    for (let n = 1; n <= 400; n++) await store.updateIncident(1, (i) => addNote(i, lee, `note ${n}`, T0 + n * 1000));
    const whole = (await store.getIncident(1))!.timeline.length;

    counted.reset();
    const res = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } });
    t.equal(res.statusCode, 200);
    t.ok(largestRead(counted.calls) <= 150, 'no read returns more than 150 entries or alerts');
    const md = res.body;
    t.ok(md.length < 80_000, `bounded: ${md.length} characters`);
    const timeline = md.slice(md.indexOf('### Timeline'), md.indexOf('### Alerts'));
    const lines = timeline.split('\n').filter((l) => l.startsWith('- '));
    t.equal(lines.length, 50 + 1 + 150, 'the first 50, a line for the omitted ones, the last 150');
    t.match(lines[0], /Detection: Opened/);
    t.equal(lines[50], `- … ${whole - 200} entries omitted (GET /api/incidents/1/timeline has them all) …`);
    t.match(lines.at(-1), /note 400/);
    t.match(lines[51], new RegExp(`note ${400 - 149}$`));
    const alertPart = md.slice(md.indexOf('### Alerts'), md.indexOf('### Checklist'));
    t.match(alertPart, '1,500 alerts, 1,500 firing. By name:');
    t.match(alertPart, '| InstanceDown | 1,000 | 1,000 |');
    t.match(alertPart, '| DiskFull | 500 | 500 |');
    t.match(alertPart, 'The first 100 by start');
    t.equal(
      alertPart.split('\n').filter((l) => /^\| (InstanceDown|DiskFull): /.test(l)).length,
      100,
      'a row for each of the first 100 alerts',
    );
  },
);
