import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfigFile, parseConfig } from '../../src/config/load-config.js';
import { oncallRecords, type Statement } from '../../src/store/oncall-records.js';
import { api, makeApp, shippedConfigText, TEAMS_YAML, tempDir } from '../helpers.js';

// Issue 23 point 3: what a hostile tester found. At T0 (Mon 2026-11-23 22:08Z) payments has alice on call.
const teamsConfig = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');
const auth = { authorization: 'Bearer test-api-token' };

t.test('times are refused in words, and so are years outside a sane range', async (t) => {
  const { app } = await makeApp(t, { config: { triage: teamsConfig } });
  const cases: [string, string, string][] = [
    ['tonight', '2026-11-24T08:00+01:00', 'from must be a date and time with an offset, like 2026-12-24T18:00+01:00'],
    ['2026-11-23T22:00+01:00', 'tomorrow 9am', 'until must be a date and time with an offset, like 2026-12-24T18:00+01:00'],
    ['2026-11-23T22:00+01:00', '2026-11-31T09:00+01:00', 'until: "2026-11-31T09:00+01:00" is not a time that exists'],
    ['9999-01-01T00:00Z', '9999-01-02T00:00Z', 'until must be within two years from now'],
    ['2026-11-23T22:00Z', '2029-01-01T00:00Z', 'until must be within two years from now'],
    ['1000-01-01T00:00Z', '2026-11-24T08:00Z', 'from is more than a year ago'],
    ['2026-11-01T00:00Z', '2026-11-02T00:00Z', 'until is in the past: that override would already have ended'],
  ];
  for (const [from, until, message] of cases) {
    const res = await api(app, 'POST', '/api/oncall/overrides', { team: 'payments', contact: 'bob', from, until });
    t.equal(res.status, 400, `${from} → ${until}`);
    t.equal(res.body.message, message);
  }
  const ok = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T22:00+01:00',
    until: '2028-11-20T09:00+01:00',
  });
  t.equal(ok.status, 201, 'within two years, written as the example says (no seconds)');
});

t.test('at most 500 overrides open per rotation, and the list comes in pages', async (t) => {
  const { app, clock } = await makeApp(t, { config: { triage: teamsConfig } });
  const hour = 3_600_000;
  const at = (n: number) => new Date(clock.now() + n * hour).toISOString();
  for (let i = 0; i < 500; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/oncall/overrides',
      headers: auth,
      payload: { team: 'payments', contact: 'bob', from: at(i), until: at(i + 1) },
    });
    if (res.statusCode !== 201) t.fail(`override ${i}: ${res.body}`);
  }
  const full = await api(app, 'POST', '/api/oncall/overrides', { team: 'payments', contact: 'bob', from: at(600), until: at(601) });
  t.equal(full.status, 409);
  t.match(full.body.message, /500 overrides not yet ended/);
  t.equal(
    (await api(app, 'POST', '/api/oncall/overrides', { team: 'platform', contact: 'dan', from: at(600), until: at(601) })).status,
    201,
    'another rotation has its own bound',
  );

  const first = await api(app, 'GET', '/api/oncall/overrides?team=payments');
  t.equal(first.body.overrides.length, 100, 'a page of 100 by default');
  t.equal(first.body.next, first.body.overrides.at(-1).id);
  let seen = first.body.overrides.length;
  for (let next = first.body.next; next !== null;) {
    const page = await api(app, 'GET', `/api/oncall/overrides?team=payments&limit=500&after=${next}`);
    seen += page.body.overrides.length;
    next = page.body.next;
  }
  t.equal(seen, 500, 'every one, page by page');
  t.equal((await api(app, 'GET', '/api/oncall/overrides?limit=501')).status, 400, 'a page holds at most 500');

  // Time passes: ended overrides no longer count.
  clock.advance(10 * hour);
  t.equal(
    (await api(app, 'POST', '/api/oncall/overrides', { team: 'payments', contact: 'bob', from: at(600), until: at(601) })).status,
    201,
  );
});

t.test('a contact a reload removed is never shown on call: its overrides are void, and the log says so', async (t) => {
  const file = join(tempDir(t), 'triage.yml');
  const withJo = shippedConfigText(TEAMS_YAML).replace(
    'contacts:\n',
    'contacts:\n  - { id: jo, name: Jo Park, email: jo@example.com, slack: U0000000J05 }\n',
  );
  writeFileSync(file, withJo);
  const { app } = await makeApp(t, { config: { triage: loadConfigFile(file), loadConfig: () => loadConfigFile(file) } });
  const made = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'jo',
    from: '2026-11-23T22:00Z',
    until: '2026-11-24T08:00Z',
    by: 'jo',
  });
  t.equal(made.status, 201);
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'jo' }, override: true } });

  writeFileSync(file, shippedConfigText(TEAMS_YAML));
  t.equal((await app.inject({ method: 'POST', url: '/-/reload', headers: auth })).statusCode, 200);
  // Shown by the rotation at once, whether or not the void has been written yet.
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'alice' }, override: false } });
  t.match((await api(app, 'GET', '/api/oncall')).body.teams[0], { team: 'payments', current: { contact: { id: 'alice' } } });
  await new Promise((r) => setImmediate(r));
  const store = app.triage.store;
  for (let i = 0; i < 20 && (await store.overridesAt(Date.parse('2026-11-23T23:00Z'))).length > 0; i++)
    await new Promise((r) => setImmediate(r));
  t.same((await api(app, 'GET', '/api/oncall/overrides')).body.overrides, [], 'void: no longer listed');
  const log = (await api(app, 'GET', '/api/oncall/log?team=payments')).body.entries;
  t.match(log[0], {
    kind: 'override_voided',
    actor: 'config',
    overrideId: made.body.id,
    data: { contact: 'jo', reason: /removed from the config/ },
  });
  t.match(log[1], { kind: 'override_added', actor: 'jo' });
});

t.test('an override can be ended early; the log has who did what', async (t) => {
  const { app, clock } = await makeApp(t, { config: { triage: teamsConfig } });
  const made = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T22:00Z',
    until: '2026-11-24T08:00Z',
  });
  clock.advance(3_600_000);
  const ended = await app.inject({ method: 'POST', url: `/api/oncall/overrides/${made.body.id}/end?by=bob`, headers: auth });
  t.equal(ended.statusCode, 200);
  t.match(ended.json(), { id: made.body.id, until: '2026-11-23T23:08:00.000Z' });
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'alice' } } });
  t.equal((await app.inject({ method: 'POST', url: `/api/oncall/overrides/${made.body.id}/end`, headers: auth })).statusCode, 409);
  t.match((await api(app, 'GET', '/api/oncall/log?team=payments')).body.entries, [
    { kind: 'override_ended', actor: 'bob', at: '2026-11-23T23:08:00.000Z' },
    { kind: 'override_added', actor: 'api' },
  ]);
});

t.test('the decision reads the overrides in force by index, not by scanning the table', async (t) => {
  const { app } = await makeApp(t, { config: { triage: teamsConfig } });
  const db = (app.triage.store as unknown as { db: import('better-sqlite3').Database }).db;
  const { sql } = oncallRecords((n) => `$p${n}`)
    .overridesAt(0)
    .next().value as Statement;
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ p1: 0 }) as { detail: string }[];
  t.match(plan.map((p) => p.detail).join('\n'), /USING INDEX oncall_overrides_(until|from)/);
});

t.test(
  'shift export: who was on call when over a range, as CSV in the rotation zone, across a DST change (issue 23 point 8)',
  async (t) => {
    const { app } = await makeApp(t, { config: { triage: teamsConfig } });
    // Payments over March 2026: Paris goes to summer time on the 29th; an override for a night.
    const made = await api(app, 'POST', '/api/oncall/overrides', {
      team: 'payments',
      contact: 'bob',
      from: '2026-11-24T19:00+01:00',
      until: '2026-11-25T09:00+01:00',
      by: 'bob',
    });
    t.equal(made.status, 201);
    const res = await app.inject({
      method: 'GET',
      url: '/api/oncall/shifts?team=payments&from=2026-03-16T00:00%2B01:00&until=2026-04-06T09:00%2B02:00&format=csv',
      headers: auth,
    });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^text\/csv/);
    t.match(res.headers['content-disposition'], /attachment; filename="oncall-payments-2026-03-15-2026-04-06\.csv"/);
    t.same(res.body.split('\r\n'), [
      'rotation,contact,name,from_utc,until_utc,from_local (Europe/Paris),until_local (Europe/Paris),hours,override,override_by,covers',
      // Bob's week of 9 March, cut to the range: 9 hours.
      'payments,bob,Bob Chen,2026-03-15T23:00:00.000Z,2026-03-16T08:00:00.000Z,2026-03-16 00:00,2026-03-16 09:00,9,no,,',
      'payments,alice,Alice Martin,2026-03-16T08:00:00.000Z,2026-03-23T08:00:00.000Z,2026-03-16 09:00,2026-03-23 09:00,168,no,,',
      // The week of the change to summer time: 09:00 to 09:00, an hour shorter.
      'payments,bob,Bob Chen,2026-03-23T08:00:00.000Z,2026-03-30T07:00:00.000Z,2026-03-23 09:00,2026-03-30 09:00,167,no,,',
      'payments,alice,Alice Martin,2026-03-30T07:00:00.000Z,2026-04-06T07:00:00.000Z,2026-03-30 09:00,2026-04-06 09:00,168,no,,',
      '',
    ]);
    const json = await api(app, 'GET', '/api/oncall/shifts?team=payments&from=2026-11-24T00:00Z&until=2026-11-26T00:00Z');
    t.match(json.body, {
      timeZone: 'Europe/Paris',
      shifts: [
        { contact: { id: 'alice' }, until: '2026-11-24T18:00:00.000Z', override: false },
        { contact: { id: 'bob' }, from: '2026-11-24T18:00:00.000Z', until: '2026-11-25T08:00:00.000Z', override: true, overrideBy: 'bob' },
        { contact: { id: 'alice' }, from: '2026-11-25T08:00:00.000Z', until: '2026-11-26T00:00:00.000Z' },
      ],
    });
    const bad = await api(app, 'GET', '/api/oncall/shifts?from=2026-01-01T00:00Z&until=2027-06-01T00:00Z');
    t.equal(bad.status, 400);
    t.equal(bad.body.message, 'the range may span at most 366 days: ask for several');
  },
);
