import t, { type Test } from 'tap';
import { PostgresStore } from '../../src/store/postgres-store.js';
import type { IncidentStore } from '../../src/store/store.js';
import { alert, api, makeApp, payload, postWebhook, T0 } from '../helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';

const BAD = 'a\u0000b\ud800c';
const GOOD = 'a\ufffdb\ufffdc';

/**
 * Input PostgreSQL can never store (a NUL, a lone surrogate) is mended where it enters, so that a
 * group is never refused for good; it is answered 200 on both stores, and reads back the same.
 */
async function edges(t: Test, store?: () => Promise<IncidentStore>) {
  const open = async (tt: Test) => (await makeApp(tt, store ? { store: await store() } : {})).app;

  t.test('a webhook with a NUL or a lone surrogate anywhere is taken, mended, and its group can still resolve', async (t) => {
    const app = await open(t);
    const firing = alert('DataBreachExfiltration', {
      fingerprint: 'fp1',
      labels: { [BAD]: BAD, note: `x${BAD}` },
      annotations: { [`summary${BAD}`]: BAD },
    });
    const body = payload(`{}:{alertname="${BAD}"}`, [firing], { receiver: BAD, groupLabels: { [BAD]: BAD } });
    const res = await postWebhook(app, body);
    t.equal(res.statusCode, 200, res.body);
    const id = res.json().incident.id as number;
    const got = (await api(app, 'GET', `/api/incidents/${id}`)).body;
    t.equal(got.groupKey, `{}:{alertname="${GOOD}"}`);
    t.equal(got.receiver, GOOD);
    t.match(got.alerts[0].labels, { [GOOD]: GOOD, note: `x${GOOD}` });
    t.same(got.alerts[0].annotations, { [`summary${GOOD}`]: GOOD });

    // An open group with such an alert added keeps taking its notifications.
    const second = alert('DataBreachExfiltration', { fingerprint: 'fp2', labels: { x: BAD } });
    t.equal((await postWebhook(app, { ...body, alerts: [firing, second] })).statusCode, 200);
    const resolved = {
      ...body,
      status: 'resolved',
      alerts: [firing, second].map((a) => ({ ...a, status: 'resolved', endsAt: new Date(T0).toISOString() })),
    };
    const r = await postWebhook(app, resolved);
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { incident: { id, status: 'resolved' } }, 'auto-resolved');
  });

  t.test('an API action, note and override whose text holds one are taken and mended', async (t) => {
    const app = await open(t);
    const id = (await postWebhook(app, payload('{}:{alertname="X"}', [alert('ServiceDown')]))).json().incident.id as number;
    const ack = await api(app, 'POST', `/api/incidents/${id}/ack`, { by: BAD, note: `note ${BAD}` });
    t.equal(ack.status, 200, JSON.stringify(ack.body));
    t.equal(ack.body.acknowledgedBy, GOOD);
    const timeline = (await api(app, 'GET', `/api/incidents/${id}`)).body.timeline as { kind: string; actor: string; note?: string }[];
    t.match(
      timeline.find((e) => e.kind === 'acknowledged'),
      { actor: GOOD, note: `note ${GOOD}` },
    );
    const o = await api(app, 'POST', '/api/oncall/overrides', {
      contact: 'bob',
      from: new Date(T0).toISOString(),
      until: new Date(T0 + 3_600_000).toISOString(),
      by: BAD,
    });
    t.equal(o.status, 201, JSON.stringify(o.body));
    t.match((await api(app, 'GET', '/api/oncall/overrides')).body, { overrides: [{ by: GOOD }] });
  });

  t.test('a query string or path with %00 is a 4xx, never a 500', async (t) => {
    const app = await open(t);
    for (const url of ['/api/incidents?status=%00', '/api/incidents/%00', '/api/oncall?team=%00', '/api/incidents/1%ED%A0%80']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer test-api-token' } });
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`);
    }
  });
}

t.test('on SQLite', async (t) => edges(t));

t.test('on PostgreSQL', async (t) => {
  let schemas = 0;
  const db = await testDatabase(t);
  if ('skip' in db) {
    t.comment(db.skip);
    return;
  }
  await edges(t, () => PostgresStore.open({ url: db.url, schema: `wf${++schemas}` }));
});
