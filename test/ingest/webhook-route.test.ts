import Database from 'better-sqlite3';
import t from 'tap';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import {
  alert,
  api,
  fixture,
  makeApp,
  metric,
  payload,
  postWebhook,
  shippedConfig,
  tempDir,
  uniqueGroup,
  WEBHOOK_TOKEN,
} from '../helpers.js';
import { join } from 'node:path';

/** The incident's own history, without the page entries (no channel is configured in these tests). */
const incidentKinds = (timeline: { kind: string }[]) => timeline.map((e) => e.kind).filter((k) => !k.startsWith('page'));

t.test('a real Alertmanager 0.25 capture opens one incident with both alerts', async (t) => {
  const { app } = await makeApp(t);
  const { body } = fixture('firing-two-alerts');
  const res = await postWebhook(app, body);
  t.equal(res.statusCode, 200);
  // DatabaseDown is a high by name, but the alerts declare severity="critical": never paged below that.
  t.match(res.json(), { status: 'ok', changed: true, incident: { id: 1, status: 'open', severity: 'critical' } });
  const got = await api(app, 'GET', '/api/incidents/1');
  t.match(got.body, { severity: 'critical', rule: 'label:severity=critical', respondBy: '2026-11-23T22:13:00.000Z' });
  t.match(got.body.timeline[0], {
    kind: 'opened',
    rule: 'label:severity=critical',
    detail: /^Opened as critical by rule label:severity=critical/,
  });
  t.equal(got.body.key, 'incident/{}:{alertname="DatabaseDown"}');
  t.same(got.body.alerts.map((a: { fingerprint: string }) => a.fingerprint).sort(), ['2c19d853f629360e', 'e3bf07dcd70cbf25']);
  t.equal(
    got.body.alerts.find((a: { fingerprint: string }) => a.fingerprint === '2c19d853f629360e').annotations.runbook_url,
    'https://runbooks.example/db',
  );
});

t.test('mixed firing and resolved alerts in one payload (the fixture)', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(app, fixture('firing-two-alerts').body);
  const res = await postWebhook(app, fixture('firing-with-one-resolved').body);
  t.equal(res.statusCode, 200);
  const got = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(got.status, 'open');
  const byFp = Object.fromEntries(got.alerts.map((a: { fingerprint: string; status: string; endsAt: string }) => [a.fingerprint, a]));
  t.equal(byFp['2c19d853f629360e'].status, 'resolved');
  t.equal(byFp['2c19d853f629360e'].endsAt, '2026-11-23T22:07:49.000Z');
  t.equal(byFp['e3bf07dcd70cbf25'].status, 'firing');
  t.same(incidentKinds(got.timeline), ['opened', 'alert_resolved']);
});

t.test('the mixed capture on its own opens an incident with the firing alert', async (t) => {
  const { app } = await makeApp(t);
  const res = await postWebhook(app, fixture('firing-with-one-resolved').body);
  t.equal(res.statusCode, 200);
  const got = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(got.status, 'open');
  t.equal(got.alerts.length, 2);
});

t.test('re-deliveries change nothing: retries, repeat_interval and an HA pair', async (t) => {
  const { app, clock } = await makeApp(t);
  const { body } = fixture('firing-two-alerts');
  await postWebhook(app, body);
  for (let i = 0; i < 5; i++) {
    clock.advance(60_000);
    const res = await postWebhook(app, body);
    t.equal(res.statusCode, 200);
    t.same(
      res.json(),
      { status: 'ok', changed: false, incident: { id: 1, status: 'open', severity: 'critical' } },
      'a re-delivery still names its incident',
    );
  }
  // The second Alertmanager of an HA pair sends the same group with its own externalURL.
  t.equal((await postWebhook(app, { ...body, externalURL: 'http://am-2:9093' })).json().changed, false);
  const list = (await api(app, 'GET', '/api/incidents')).body.incidents;
  t.equal(list.length, 1);
  t.equal(incidentKinds((await api(app, 'GET', '/api/incidents/1')).body.timeline).length, 1);
  t.equal(await metric(app, 'triage_incidents_opened_total{severity="critical"}'), 1);
});

t.test('auto-resolve, then a re-fire opens a new incident', async (t) => {
  const { app, clock } = await makeApp(t);
  const key = uniqueGroup();
  await postWebhook(app, payload(key, [alert('ServiceDown')]));
  clock.advance(120_000);
  await postWebhook(app, payload(key, [alert('ServiceDown', { status: 'resolved' })]));
  const first = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(first.status, 'resolved');
  t.equal(first.resolvedBy, 'alertmanager');
  t.match(
    first.timeline.find((e: { kind: string }) => e.kind === 'resolved'),
    { detail: /Resolved automatically/ },
  );
  // Alertmanager repeats the resolved notification: still nothing new, about the same incident.
  t.same((await postWebhook(app, payload(key, [alert('ServiceDown', { status: 'resolved' })]))).json(), {
    status: 'ok',
    changed: false,
    incident: { id: 1, status: 'resolved', severity: 'high' },
  });
  clock.advance(600_000);
  const res = await postWebhook(app, payload(key, [alert('ServiceDown', { startsAt: '2026-11-23T22:20:00Z' })]));
  t.match(res.json(), { changed: true, incident: { id: 2, status: 'open' } });
  t.equal(await metric(app, 'triage_incidents_resolved_total{severity="high"}'), 1);
  t.equal(await metric(app, 'triage_incidents_open{severity="high"}'), 1);
});

t.test('a new, more severe alert raises the severity and tightens the deadline', async (t) => {
  const { app, clock } = await makeApp(t);
  const key = uniqueGroup();
  await postWebhook(app, payload(key, [alert('SlowAPI')]));
  const before = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(before.severity, 'low');
  clock.advance(60_000);
  await postWebhook(app, payload(key, [alert('SlowAPI'), alert('DDoSAttack')]));
  const after = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(after.severity, 'critical');
  t.equal(after.respondBy, new Date(clock.now() + 5 * 60_000).toISOString());
  t.match(incidentKinds(after.timeline), ['opened', 'alert_firing', 'severity_raised']);
});

t.test('401 without the right credentials; basic auth with the token as password works', async (t) => {
  const { app } = await makeApp(t);
  const body = payload(uniqueGroup(), [alert('ServiceDown')]);
  const cases: [Record<string, string>, number][] = [
    [{}, 401],
    [{ authorization: 'Bearer wrong' }, 401],
    [{ authorization: `Bearer ${WEBHOOK_TOKEN}x` }, 401],
    [{ authorization: WEBHOOK_TOKEN }, 401],
    [{ authorization: `Basic ${Buffer.from(`alertmanager:wrong`).toString('base64')}` }, 401],
    [{ authorization: 'Basic !!!' }, 401],
    [{ authorization: `Basic ${Buffer.from(`alertmanager:${WEBHOOK_TOKEN}`).toString('base64')}` }, 200],
    [{ authorization: `bearer ${WEBHOOK_TOKEN}` }, 200],
  ];
  for (const [headers, code] of cases) {
    const res = await app.inject({ method: 'POST', url: '/webhook/alertmanager', headers, payload: body });
    t.equal(res.statusCode, code, JSON.stringify(headers));
  }
  // Tokens are never taken from the URL.
  for (const q of [`token=${WEBHOOK_TOKEN}`, `access_token=${WEBHOOK_TOKEN}`]) {
    const res = await app.inject({ method: 'POST', url: `/webhook/alertmanager?${q}`, payload: body });
    t.equal(res.statusCode, 401, q);
  }
  const res = await app.inject({ method: 'POST', url: '/webhook/alertmanager', payload: body });
  t.match(res.json(), { error: 'Unauthorized' });
  t.equal(await metric(app, 'triage_webhook_requests_total{code="401"}'), 9);
});

t.test('400 with a clear message for payloads that fail the schema', async (t) => {
  const { app } = await makeApp(t);
  const good = payload(uniqueGroup(), [alert('ServiceDown')]);
  const cases: [unknown, RegExp][] = [
    [{ ...good, alerts: undefined }, /has no "alerts" array/],
    [{ ...good, groupKey: 4.5 }, /groupKey must be string/],
    [{ ...good, groupKey: '' }, /groupKey must NOT have fewer than 1 characters/],
    [{ ...good, alerts: [{ ...good.alerts[0], labels: { a: 1 } }] }, /alerts\/0\/labels\/a must be string/],
    [{ ...good, alerts: [{ ...good.alerts[0], status: 'pending' }] }, /alerts\/0\/status must be equal to one of the allowed values/],
    [{ ...good, alerts: [{ ...good.alerts[0], fingerprint: 7 }] }, /fingerprint must be string/],
    [{ ...good, alerts: [{ ...good.alerts[0], labels: undefined }] }, /alerts\[0\]\) has no labels/],
    [{ ...good, alerts: [{ ...good.alerts[0], startsAt: 'yesterday' }] }, /alerts\/0\/startsAt is not an RFC 3339 time/],
    [{ ...good, alerts: 'many' }, /has no "alerts" array/],
    [[good], /The body is not a JSON object/],
  ];
  for (const [body, message] of cases) {
    const res = await postWebhook(app, body);
    t.equal(res.statusCode, 400, String(message));
    t.match(res.json().message, message);
  }
  const broken = await app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    payload: '{"version": "4", ',
  });
  t.equal(broken.statusCode, 400);
  t.equal((await api(app, 'GET', '/api/incidents')).body.incidents.length, 0, 'nothing stored');
});

t.test('fields newer Alertmanagers add are accepted', async (t) => {
  const { app } = await makeApp(t);
  const body = {
    ...payload(uniqueGroup(), [{ ...alert('ServiceDown'), ...{ silencedBy: [], inhibitedBy: [] } }]),
    notification_reason: 'firing',
    routeLabels: { team: 'db' },
    groupId: 'abc',
  };
  t.equal((await postWebhook(app, body)).statusCode, 200);
});

t.test('413 over the body limit', async (t) => {
  const { app } = await makeApp(t, { config: { triage: { ...shippedConfig, server: { ...shippedConfig.server, bodyLimit: 4096 } } } });
  const res = await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { annotations: { description: 'x'.repeat(5000) } })]));
  t.equal(res.statusCode, 413);
  t.equal(await metric(app, 'triage_webhook_requests_total{code="413"}'), 1);
});

t.test('503 with Retry-After when the store cannot commit, and the retry lands', async (t) => {
  const dbPath = join(tempDir(t), 'locked.db');
  const { app } = await makeApp(t, { dbPath, store: new SqliteStore({ path: dbPath, lockWaitMs: 300 }) });
  const other = new Database(dbPath);
  t.teardown(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  const body = payload(uniqueGroup(), [alert('ServiceDown')]);
  const res = await postWebhook(app, body);
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '5');
  t.match(res.json(), { error: 'Service Unavailable' });
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503, 'not ready: a write would fail');
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: 'Bearer test-api-token' } })).statusCode,
    200,
    'reads still work in WAL mode',
  );
  other.exec('ROLLBACK');
  // What Alertmanager does next: retry the same notification.
  const retry = await postWebhook(app, body);
  t.equal(retry.statusCode, 200);
  t.equal(retry.json().changed, true);
  t.equal(await metric(app, 'triage_webhook_requests_total{code="503"}'), 1);
});

t.test('readyz is 503 and webhooks 503 once the store is gone; healthz still answers', async (t) => {
  const { app, store } = await makeApp(t);
  await store.close();
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]))).statusCode, 503);
});

t.test('hostile and malformed input never yields a 500 and never pollutes prototypes', async (t) => {
  const { app } = await makeApp(t);
  const group = uniqueGroup();
  const hostile = `{
    "version": "4", "groupKey": ${JSON.stringify(group)}, "receiver": "triage", "status": "firing",
    "__proto__": { "polluted": "yes" },
    "constructor": { "prototype": { "polluted": "yes" } },
    "groupLabels": { "alertname": "ServiceDown", "__proto__": { "polluted": "yes" } },
    "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
    "alerts": [{
      "status": "firing", "startsAt": "2026-11-23T22:07:46Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "f1",
      "labels": { "alertname": "ServiceDown", "__proto__": { "triage_severity": "critical" }, "constructor": "x", "toString": "y" },
      "annotations": { "summary": "<script>alert(1)</script>", "constructor": { "prototype": { "polluted": "yes" } } }
    }]
  }`;
  const res = await app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    payload: hostile,
  });
  t.equal(res.statusCode, 200, res.body);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.equal((Object.prototype as Record<string, unknown>)['triage_severity'], undefined);
  const got = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(got.severity, 'high', 'a __proto__ key cannot smuggle in triage_severity');
  t.same(Object.keys(got.alerts[0].labels).sort(), ['alertname', 'toString']);
  t.equal(got.alerts[0].annotations.summary, '<script>alert(1)</script>', 'stored as data');

  const huge = 'v'.repeat(2 * 1024 * 1024);
  const bad: unknown[] = [
    null,
    0,
    'string',
    true,
    [],
    {},
    { version: '4' },
    payload(uniqueGroup(), [alert('Huge', { labels: { big: huge } })]),
    payload(uniqueGroup(), [
      alert('ManyLabels', { labels: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`l${i}`, `v${i}`])) }),
    ]),
    payload(
      uniqueGroup(),
      Array.from({ length: 2000 }, (_, i) => alert('Many', { fingerprint: `m${i}` })),
    ),
    payload(uniqueGroup(), []),
    payload(uniqueGroup(), [alert('Dup', { fingerprint: 'same' }), alert('Dup', { fingerprint: 'same', status: 'resolved' })]),
    { ...payload(uniqueGroup(), [alert('X')]), truncatedAlerts: -1 },
    { ...payload(uniqueGroup(), [alert('X')]), truncatedAlerts: 'lots' },
    { ...payload(uniqueGroup(), [alert('X')]), receiver: { name: 'x' } },
    { ...payload(uniqueGroup(), [alert('X')]), groupLabels: [] },
    { ...payload(uniqueGroup(), [alert('X', { startsAt: '9999-99-99T99:99:99Z' })]) },
    { ...payload(uniqueGroup(), [alert('X', { endsAt: '' })]) },
    { ...payload(uniqueGroup(), [alert('X', { startsAt: '2026-11-23T22:07:46.123456789Z' })]) },
    { ...payload(uniqueGroup(), [{ ...alert('X'), labels: null as never }]) },
    { ...payload(uniqueGroup(), [{ ...alert('X'), annotations: 'text' as never }]) },
    { ...payload(`\u0000${'k'.repeat(10000)}\u202e`, [alert('\u0000\ud800weird', { labels: { 'emoji🔥': '🔥' } })]) },
  ];
  const codes: number[] = [];
  for (const body of bad) {
    const r = await app.inject({
      method: 'POST',
      url: '/webhook/alertmanager',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    codes.push(r.statusCode);
    t.ok(r.statusCode < 500, `no 5xx for ${JSON.stringify(body)?.slice(0, 80)}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    if (r.statusCode >= 400) t.type(r.json().message, 'string', 'a message says why');
  }
  // An empty endsAt (17) is "not said", as senders other than Alertmanager write it.
  t.same(codes, [400, 400, 400, 400, 400, 400, 400, 200, 200, 200, 200, 200, 400, 400, 400, 400, 400, 200, 200, 400, 400, 200]);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still up');
  const dup = (await api(app, 'GET', '/api/incidents?limit=1000')).body.incidents.find((i: { title: string }) => i.title.startsWith('Dup'));
  t.notOk(dup, 'a payload whose only alert (listed twice) ends resolved opens nothing');
});

t.test('webhook metrics count alerts, codes and truncation', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(app, fixture('firing-with-one-resolved').body);
  await postWebhook(app, { ...payload(uniqueGroup(), [alert('ServiceDown')]), truncatedAlerts: 3 });
  t.equal(await metric(app, 'triage_alerts_received_total{status="firing"}'), 2);
  t.equal(await metric(app, 'triage_alerts_received_total{status="resolved"}'), 1);
  t.equal(await metric(app, 'triage_alerts_truncated_total'), 3);
  t.equal(await metric(app, 'triage_webhook_requests_total{code="200"}'), 2);
  t.equal(await metric(app, 'triage_webhook_duration_seconds_count'), 2);
});

t.test('a 1 MB alertname that made the backtracking regex run a minute is answered and classified', async (t) => {
  const { app } = await makeApp(t);
  const breach = 'breach'.repeat(170_000);
  // With the trailing newline the shipped critical-by-name rule (.*(breach|…).*) does not match,
  // as in Alertmanager (. stops at a newline): it falls to the default.
  const withNewline = await postWebhook(app, payload(uniqueGroup(), [alert(`${breach}\n`, { fingerprint: 'nl' })]));
  t.equal(withNewline.statusCode, 200);
  t.match(withNewline.json(), { changed: true, incident: { severity: 'medium' } });
  const plain = await postWebhook(app, payload(uniqueGroup(), [alert(breach, { fingerprint: 'plain' })]));
  t.equal(plain.statusCode, 200);
  t.match(plain.json(), { changed: true, incident: { severity: 'critical' } });
  const got = (await api(app, 'GET', `/api/incidents/${plain.json().incident.id}`)).body;
  t.equal(got.rule, 'critical-by-name');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still up');
});

t.test('times that are not RFC 3339 and absurd truncation counts get 400 with the field', async (t) => {
  const { app } = await makeApp(t);
  const cases: [unknown, number, RegExp | undefined][] = [
    [payload(uniqueGroup(), [alert('X', { startsAt: '1' })]), 400, /^body\/alerts\/0\/startsAt is not an RFC 3339 time: "1"$/],
    [payload(uniqueGroup(), [alert('X', { startsAt: '2026-11-23' })]), 400, /startsAt is not an RFC 3339 time/],
    [payload(uniqueGroup(), [alert('X', { startsAt: '2026-11-23T22:07:46' })]), 400, /startsAt is not an RFC 3339 time/],
    [
      payload(uniqueGroup(), [alert('X', { status: 'resolved', endsAt: 'May 1' })]),
      400,
      /^body\/alerts\/0\/endsAt is not an RFC 3339 time/,
    ],
    [{ ...payload(uniqueGroup(), [alert('X')]), truncatedAlerts: 1e308 }, 400, /truncatedAlerts must be <= 1000000000/],
    [{ ...payload(uniqueGroup(), [alert('X')]), truncatedAlerts: 1.5 }, 400, /truncatedAlerts must be integer/],
    // Go's zero time still means "not set", and an offset is fine.
    [payload(uniqueGroup(), [alert('X', { startsAt: '2026-11-23T23:07:46+01:00', endsAt: '0001-01-01T00:00:00Z' })]), 200, undefined],
    [{ ...payload(uniqueGroup(), [alert('X')]), truncatedAlerts: 1_000_000_000 }, 200, undefined],
  ];
  for (const [body, code, message] of cases) {
    const res = await postWebhook(app, body);
    t.equal(res.statusCode, code, res.body);
    if (message) t.match(res.json().message, message);
  }
  t.equal(await metric(app, 'triage_alerts_truncated_total'), 1_000_000_000);
  const opened = (await api(app, 'GET', '/api/incidents')).body.incidents;
  t.equal(opened.length, 2, 'nothing was stored for the refused ones');
});
