import t from 'tap';
import { alert, api, API_TOKEN, makeApp, metric, payload, postWebhook, T0, uniqueGroup } from '../helpers.js';
import { addNote } from '../../src/incidents/incident-machine.js';

async function seeded(t: Parameters<typeof makeApp>[0]) {
  const ctx = await makeApp(t);
  for (const name of ['DDoSAttack', 'ServiceDown', 'SlowAPI', 'ServiceDown']) {
    await postWebhook(ctx.app, payload(uniqueGroup(), [alert(name)]));
  }
  return ctx;
}

t.test('every /api route needs the API token, which is not the webhook token', async (t) => {
  const { app } = await seeded(t);
  for (const [method, url] of [
    ['GET', '/api/incidents'],
    ['GET', '/api/incidents/1'],
    ['POST', '/api/incidents/1/ack'],
    ['POST', '/api/incidents/1/resolve'],
  ] as const) {
    t.equal((await app.inject({ method, url })).statusCode, 401, `${method} ${url} without a token`);
    t.equal(
      (await app.inject({ method, url, headers: { authorization: 'Bearer test-webhook-token' } })).statusCode,
      401,
      `${method} ${url} with the webhook token`,
    );
    t.equal((await app.inject({ method, url: `${url}?token=${API_TOKEN}` })).statusCode, 401, `${method} ${url} with the token in the URL`);
  }
  const basic = Buffer.from(`x:${API_TOKEN}`).toString('base64');
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Basic ${basic}` } })).statusCode,
    401,
    'bearer only',
  );
});

t.test('lists newest first, filters by status and severity, limits', async (t) => {
  const { app } = await seeded(t);
  const all = (await api(app, 'GET', '/api/incidents')).body.incidents;
  t.same(
    all.map((i: { id: number }) => i.id),
    [4, 3, 2, 1],
  );
  t.match(all[3], {
    id: 1,
    severity: 'critical',
    status: 'open',
    rule: 'critical-by-name',
    slaBreached: false,
    openedAt: '2026-11-23T22:08:00.000Z',
    respondBy: '2026-11-23T22:13:00.000Z',
  });
  t.same(
    (await api(app, 'GET', '/api/incidents?severity=high')).body.incidents.map((i: { id: number }) => i.id),
    [4, 2],
  );
  t.same(
    (await api(app, 'GET', '/api/incidents?limit=1')).body.incidents.map((i: { id: number }) => i.id),
    [4],
  );
  await api(app, 'POST', '/api/incidents/2/ack', { by: 'alice' });
  t.same(
    (await api(app, 'GET', '/api/incidents?status=acknowledged')).body.incidents.map((i: { id: number }) => i.id),
    [2],
  );
  t.same(
    (await api(app, 'GET', '/api/incidents?status=open&severity=high')).body.incidents.map((i: { id: number }) => i.id),
    [4],
  );
  for (const q of ['status=closed', 'severity=urgent', 'limit=0', 'limit=abc', 'limit=100000', 'bogus=1']) {
    const res = await api(app, 'GET', `/api/incidents?${q}`);
    t.equal(res.status, 400, q);
    t.type(res.body.message, 'string');
  }
});

t.test('one incident with its alerts and timeline; 404 and 400 for bad ids', async (t) => {
  const { app } = await seeded(t);
  const got = await api(app, 'GET', '/api/incidents/1');
  t.equal(got.status, 200);
  t.match(got.body, {
    id: 1,
    title: 'DDoSAttack: DDoSAttack summary',
    alerts: [
      { fingerprint: String, status: 'firing', labels: { alertname: 'DDoSAttack' }, startsAt: '2026-11-23T22:07:46.000Z', endsAt: null },
    ],
    timeline: [{ kind: 'opened', at: '2026-11-23T22:08:00.000Z', detail: /Opened as critical/ }],
  });
  t.equal((await api(app, 'GET', '/api/incidents/99')).status, 404);
  t.equal((await api(app, 'GET', '/api/incidents/abc')).status, 400);
  t.equal((await api(app, 'GET', '/api/incidents/0')).status, 400);
});

t.test('acknowledge and resolve are idempotent and recorded', async (t) => {
  const { app, clock } = await seeded(t);
  clock.advance(90_000);
  const ack = await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice', note: 'looking' });
  t.equal(ack.status, 200);
  t.match(ack.body, { id: 1, status: 'acknowledged', acknowledgedBy: 'alice', acknowledgedAt: '2026-11-23T22:09:30.000Z', changed: true });
  clock.advance(1000);
  const again = await api(app, 'POST', '/api/incidents/1/ack', { by: 'bob' });
  t.match(again.body, { status: 'acknowledged', acknowledgedBy: 'alice', changed: false });
  t.equal(await metric(app, 'triage_time_to_acknowledge_seconds_count{severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_time_to_acknowledge_seconds_sum{severity="critical"}'), 90);

  const res = await api(app, 'POST', '/api/incidents/1/resolve', { by: 'alice', note: 'blocked at the edge' });
  t.match(res.body, { status: 'resolved', resolvedBy: 'alice', changed: true });
  t.match((await api(app, 'POST', '/api/incidents/1/resolve', { by: 'bob' })).body, { resolvedBy: 'alice', changed: false });
  const conflict = await api(app, 'POST', '/api/incidents/1/ack', { by: 'bob' });
  t.equal(conflict.status, 409);
  t.match(conflict.body.message, /already resolved/);

  // Without Slack or SMTP configured the outbox adds page_failed entries; this test is about the rest.
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline.filter((e: { kind: string }) => !e.kind.startsWith('page'));
  t.same(timeline, [
    {
      at: '2026-11-23T22:08:00.000Z',
      kind: 'opened',
      actor: 'alertmanager',
      severity: 'critical',
      rule: 'critical-by-name',
      firing: 1,
      respondBy: '2026-11-23T22:13:00.000Z',
      slaMs: 300_000,
      detail: 'Opened as critical by rule critical-by-name with 1 firing alert; respond by 2026-11-23 22:13 UTC (5m SLA)',
    },
    // "alice" is a contact's id in the shipped config, so the actor is that contact; API_TOKEN named
    // her, and the entry says so (she did not sign in).
    {
      at: '2026-11-23T22:09:30.000Z',
      kind: 'acknowledged',
      actor: 'alice',
      recordedBy: 'API_TOKEN',
      by: 'alice',
      via: 'api',
      note: 'looking',
      detail: 'Acknowledged by alice: looking (recorded with API_TOKEN for this name, not by that person signed in)',
    },
    {
      at: '2026-11-23T22:09:31.000Z',
      kind: 'resolved',
      actor: 'alice',
      recordedBy: 'API_TOKEN',
      by: 'alice',
      via: 'api',
      note: 'blocked at the edge',
      detail: 'Resolved by alice: blocked at the edge (recorded with API_TOKEN for this name, not by that person signed in)',
    },
  ]);
  const skipped = (await api(app, 'GET', '/api/incidents/1')).body.timeline.find((e: { kind: string }) => e.kind === 'page_failed');
  t.match(skipped, {
    actor: 'system',
    channel: 'slack',
    target: '#security-incident',
    event: 'opened',
    outcome: 'skipped',
    reason: /SLACK_BOT_TOKEN unset/,
    detail: /^Slack #security-incident: skipped \(not sent\)/,
  });
  t.equal(await metric(app, 'triage_incidents_resolved_total{severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_incidents_open{severity="critical"}'), 0);
});

t.test('ack without a body, bad bodies, unknown incidents', async (t) => {
  const { app } = await seeded(t);
  const bare = await app.inject({ method: 'POST', url: '/api/incidents/2/ack', headers: { authorization: `Bearer ${API_TOKEN}` } });
  t.equal(bare.statusCode, 200);
  t.equal(bare.json().acknowledgedBy, 'api');
  t.match(
    (await api(app, 'GET', '/api/incidents/2')).body.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
    { actor: 'api', by: 'api', via: 'api', recordedBy: undefined },
  );
  await api(app, 'POST', '/api/incidents/3/ack', { by: 'Carol Diaz' });
  t.match(
    (await api(app, 'GET', '/api/incidents/3')).body.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
    { actor: 'carol', by: 'Carol Diaz', recordedBy: 'API_TOKEN' },
    "a contact's name is recorded as that contact, and as given by API_TOKEN",
  );
  t.equal((await api(app, 'POST', '/api/incidents/3/ack', { by: '' })).status, 400);
  t.equal((await api(app, 'POST', '/api/incidents/3/ack', { by: 42 })).status, 400);
  t.equal((await api(app, 'POST', '/api/incidents/3/ack', { who: 'x' })).status, 400);
  t.equal((await api(app, 'POST', '/api/incidents/99/ack', { by: 'x' })).status, 404);
  t.equal((await api(app, 'POST', '/api/incidents/99/resolve', { by: 'x' })).status, 404);
});

t.test('without API_TOKEN the API is open (local trial)', async (t) => {
  const { app } = await makeApp(t, { config: { apiToken: undefined } });
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents' })).statusCode, 200);
});

t.test('a large incident answers one page of its alerts, with the count and the next page', async (t) => {
  const { app } = await makeApp(t);
  const alerts = Array.from({ length: 1200 }, (_, i) =>
    alert('InstanceDown', { fingerprint: `fp${String(i).padStart(4, '0')}`, labels: { instance: `host-${i}` } }),
  );
  t.equal((await postWebhook(app, payload(uniqueGroup(), alerts))).statusCode, 200);
  const first = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(first.alertCount, 1200);
  t.equal(first.alerts.length, 500, 'the first 500 by default');
  t.same(first.alertsPage, { offset: 0, limit: 500, nextOffset: 500 });
  t.equal(first.alerts[0].fingerprint, 'fp0000');
  const seen = new Set<string>(first.alerts.map((a: { fingerprint: string }) => a.fingerprint));
  let next: number | null = first.alertsPage.nextOffset;
  while (next !== null) {
    const page = (await api(app, 'GET', `/api/incidents/1?alertsOffset=${next}&alertsLimit=300`)).body;
    t.equal(page.alertCount, 1200);
    for (const a of page.alerts) seen.add(a.fingerprint);
    next = page.alertsPage.nextOffset;
  }
  t.equal(seen.size, 1200, 'paging reaches every alert once');
  t.same((await api(app, 'GET', '/api/incidents/1?alertsOffset=1200')).body.alertsPage, { offset: 1200, limit: 500, nextOffset: null });
  t.equal((await api(app, 'GET', '/api/incidents/1?alertsLimit=5000')).body.alerts.length, 1200);
  for (const q of ['alertsLimit=0', 'alertsLimit=5001', 'alertsOffset=-1', 'alertsOffset=x', 'alerts=1']) {
    t.equal((await api(app, 'GET', `/api/incidents/1?${q}`)).status, 400, q);
  }
});

t.test('a long timeline answers its newest page, with a cursor to the older ones; the pages reach every entry once', async (t) => {
  const { app, store } = await makeApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  const lee = { name: 'Lee', via: 'api' } as const;
  for (let n = 1; n <= 250; n++) await store.updateIncident(1, (i) => addNote(i, lee, `note ${n}`, T0 + n * 1000));
  const whole = (await store.getIncident(1))!.timeline.length;

  const first = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(first.timeline.length, 100, 'the newest 100 by default, not all of them');
  t.match(first.timeline.at(-1), { kind: 'note', text: 'note 250' }, 'the newest last: the page is in time order');
  t.match(first.timeline[0], { kind: 'note', text: 'note 151' });
  t.match(first.timelinePage, { limit: 100, older: /^\d+-\d+$/ });
  t.type(first.version, 'number');

  const seen: string[] = first.timeline.map((e: { detail: string }) => e.detail);
  let older: string | null = first.timelinePage.older;
  while (older !== null) {
    const page = (await api(app, 'GET', `/api/incidents/1/timeline?before=${older}&limit=70`)).body;
    t.ok(page.timeline.length <= 70);
    seen.unshift(...page.timeline.map((e: { detail: string }) => e.detail));
    older = page.timelinePage.older;
  }
  t.equal(seen.length, whole, 'every entry once');
  t.match(seen[0], /Opened/);
  t.equal((await api(app, 'GET', '/api/incidents/1?timelineLimit=1000')).body.timeline.length, whole);
  for (const q of ['timelineLimit=0', 'timelineLimit=1001']) t.equal((await api(app, 'GET', `/api/incidents/1?${q}`)).status, 400, q);
  for (const q of ['before=x', 'before=1-', 'before=-1-2', 'limit=0', 'other=1']) {
    t.equal((await api(app, 'GET', `/api/incidents/1/timeline?${q}`)).status, 400, q);
  }
  t.equal((await api(app, 'GET', '/api/incidents/9/timeline')).status, 404);
});
