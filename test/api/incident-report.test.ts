import t from 'tap';
import { alert, API_TOKEN, api, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';

const MIN = 60_000;

t.test('the report tells the whole story of a real incident', async (t) => {
  const { app, clock } = await makeApp(t);
  const key = uniqueGroup();
  await postWebhook(app, payload(key, [alert('SlowAPI', { labels: { instance: 'api-1' } })]));
  clock.advance(2 * MIN);
  await postWebhook(app, payload(key, [alert('SlowAPI', { labels: { instance: 'api-1' } }), alert('DDoSAttack', { labels: { instance: 'lb|1' }, annotations: { summary: 'flood <b>now</b>' } })]));
  clock.advance(6 * MIN);
  await app.triage.scheduler.tick();
  clock.advance(MIN);
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice', note: 'blocking at the edge' });
  clock.advance(30 * MIN);
  await postWebhook(app, payload(key, [alert('SlowAPI', { status: 'resolved', labels: { instance: 'api-1' } }), alert('DDoSAttack', { status: 'resolved', labels: { instance: 'lb|1' } })]));

  const res = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/markdown/);
  const md = res.body;
  t.match(md, /^## Incident Report - 2026-11-23: SlowAPI: SlowAPI summary\n/);
  t.match(md, '| Severity | Critical, chosen by rule `critical-by-name` |');
  t.match(md, '| Status | resolved |');
  t.match(md, '| Detected | 2026-11-23 22:08:00 UTC |');
  // Raised to critical at 22:10, so the deadline tightened to 22:15; nobody acknowledged by then.
  t.match(md, '| Response deadline | 2026-11-23 22:15:00 UTC (5m for critical): **missed** |');
  t.match(md, '| Acknowledged | 2026-11-23 22:17:00 UTC by alice, 9m after detection |');
  t.match(md, '| Resolved | 2026-11-23 22:47:00 UTC by alertmanager, 39m after detection |');
  const timeline = md.slice(md.indexOf('### Timeline'), md.indexOf('### Alerts'));
  t.match(timeline, /- 2026-11-23 22:08:00 - Detection: Opened as low by rule low-by-name/);
  t.match(timeline, /- 22:10:00 - Escalation: Severity raised from low to critical/);
  t.match(timeline, /- 22:15:00 - SLA missed:/);
  t.match(timeline, /- 22:17:00 - Response: Acknowledged by alice: blocking at the edge/);
  t.match(timeline, /- 22:47:00 - Resolution: Resolved automatically: all 2 alerts resolved/);
  t.ok(timeline.indexOf('Escalation') < timeline.indexOf('SLA missed') && timeline.indexOf('SLA missed') < timeline.indexOf('Response'), 'in order');
  t.match(md, '| DDoSAttack: flood \\<b\\>now\\</b\\> | instance=lb\\|1 | critical (critical-by-name) | resolved |', 'alert text is escaped');
  for (const heading of ['### Root Cause', '### Impact', '### Prevention']) t.match(md, heading);
});

t.test('an open incident reports a pending deadline; unknown ids are 404; the token is needed', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  const md = (await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } })).body;
  t.match(md, '(1h for high): pending |');
  t.match(md, '| Acknowledged | not yet |');
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents/9/report', headers: { authorization: `Bearer ${API_TOKEN}` } })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents/1/report' })).statusCode, 401);
});
