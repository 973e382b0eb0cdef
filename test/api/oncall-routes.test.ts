import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { api, makeApp, shippedConfig, shippedConfigText, TEAMS_YAML, tempDir } from '../helpers.js';

t.test('who is on call now and next, with handoffs at 09:00 Paris time', async (t) => {
  // Monday 2026-03-23 starts week 11 of the rotation that began on 2026-01-05: members[11 % 3] is alice.
  // The next handoff is 09:00 Paris time on 2026-03-30, after the DST change: 07:00Z, not 08:00Z.
  const { app } = await makeApp(t, { clock: new ManualClock(Date.parse('2026-03-25T12:00:00Z')) });
  const res = await api(app, 'GET', '/api/oncall');
  t.equal(res.status, 200);
  t.same(res.body, {
    timeZone: 'Europe/Paris',
    at: '2026-03-25T12:00:00.000Z',
    current: {
      contact: { id: 'alice', name: 'Alice Martin', email: 'alice@example.com', slack: 'U0000000A01' },
      from: '2026-03-23T08:00:00.000Z',
      until: '2026-03-30T07:00:00.000Z',
      override: false,
    },
    next: {
      contact: { id: 'carol', name: 'Carol Diaz', email: 'carol@example.com', slack: 'U0000000C03' },
      from: '2026-03-30T07:00:00.000Z',
      until: '2026-04-06T07:00:00.000Z',
      override: false,
    },
    teams: [],
  });
  t.equal((await app.inject({ method: 'GET', url: '/api/oncall' })).statusCode, 401, 'needs the API token');
});

t.test('404 with a reason when no rotation is configured', async (t) => {
  const { app } = await makeApp(t, { config: { triage: { ...shippedConfig, paging: { ...shippedConfig.paging, rotation: null } } } });
  const res = await api(app, 'GET', '/api/oncall');
  t.equal(res.status, 404);
  t.match(res.body.message, /no on-call rotation/);
});

const teamsConfig = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');

t.test('?team=ID answers for that team; without it the top level plus every team', async (t) => {
  const { app } = await makeApp(t, { config: { triage: teamsConfig } });
  const payments = await api(app, 'GET', '/api/oncall?team=payments');
  t.equal(payments.status, 200);
  t.match(payments.body, {
    team: 'payments',
    timeZone: 'Europe/Paris',
    at: '2026-11-23T22:08:00.000Z',
    current: { contact: { id: 'alice' }, until: '2026-11-30T08:00:00.000Z' },
    next: { contact: { id: 'bob' } },
  });
  const all = await api(app, 'GET', '/api/oncall');
  t.match(all.body, { timeZone: 'Europe/Paris', current: { contact: { id: 'dan' } } });
  t.same(
    all.body.teams.map((x: { team: string; current: { contact: { id: string } } }) => [x.team, x.current.contact.id]),
    [
      ['payments', 'alice'],
      ['platform', 'carol'],
    ],
  );
  t.match(
    all.body.teams[1],
    { timeZone: 'America/New_York', current: { from: '2026-11-23T13:00:00.000Z', until: '2026-11-24T13:00:00.000Z' } },
    '08:00 in New York',
  );
  t.equal((await api(app, 'GET', '/api/oncall?team=nobody')).status, 404);
  t.equal((await api(app, 'GET', '/api/oncall?team=BAD!')).status, 400);
});

t.test('overrides: created (201, with an id), listed, applied at once, removed; bad ones are 400', async (t) => {
  const dbPath = `${tempDir(t)}/o.db`;
  const { app, clock } = await makeApp(t, { config: { triage: teamsConfig }, dbPath });
  const made = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T20:00:00Z',
    until: '2026-11-24T08:00:00+01:00',
    by: 'bob',
  });
  t.equal(made.status, 201);
  t.same(made.body, {
    id: 1,
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T20:00:00.000Z',
    until: '2026-11-24T07:00:00.000Z',
    by: 'bob',
    createdAt: '2026-11-23T22:08:00.000Z',
    covers: null,
  });
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, {
    current: { contact: { id: 'bob' }, override: true, until: '2026-11-24T07:00:00.000Z' },
    next: { contact: { id: 'alice' } },
  });
  const top = await api(app, 'POST', '/api/oncall/overrides', {
    contact: 'alice',
    from: '2026-11-23T22:00:00Z',
    until: '2026-11-23T23:00:00Z',
  });
  t.match(top.body, { id: 2, team: null, by: 'api' }, "no team: the top level's rotation");
  t.same(
    (await api(app, 'GET', '/api/oncall/overrides?team=payments')).body.overrides.map((o: { id: number }) => o.id),
    [1],
  );
  t.same(
    (await api(app, 'GET', '/api/oncall/overrides')).body.overrides.map((o: { id: number }) => o.id),
    [1, 2],
  );

  const bad: [object, RegExp][] = [
    [{ team: 'nobody', contact: 'bob', from: '2026-11-24T00:00:00Z', until: '2026-11-24T01:00:00Z' }, /no team "nobody"/],
    [{ team: 'payments', contact: 'zoe', from: '2026-11-24T00:00:00Z', until: '2026-11-24T01:00:00Z' }, /no contact "zoe"/],
    [{ team: 'payments', contact: 'bob', from: '2026-11-24T01:00:00Z', until: '2026-11-24T01:00:00Z' }, /until must be after from/],
    [
      { team: 'payments', contact: 'bob', from: 'tonight', until: '2026-11-24T01:00:00Z' },
      /^from must be a date and time with an offset, like 2026-12-24T18:00\+01:00$/,
    ],
    [{ team: 'payments', contact: 'bob', from: '2026-11-24T01:00:00', until: '2026-11-24T02:00:00Z' }, /from/],
    [
      { team: 'payments', contact: 'bob', from: '2026-13-45T01:00:00Z', until: '2026-11-24T02:00:00Z' },
      /from: .* is not a time that exists/,
    ],
    [
      { team: 'payments', contact: 'bob', from: '2026-11-24T01:00:00Z', until: '2026-02-30T09:00:00Z' },
      /until: "2026-02-30T09:00:00Z" is not a time that exists/,
    ],
    [{ team: 'payments', contact: 'bob', until: '2026-11-24T02:00:00Z' }, /from/],
    [{ team: 'payments', contact: 'bob', from: '2026-11-24T01:00:00Z', until: '2026-11-24T02:00:00Z', extra: 1 }, /extra|additional/],
  ];
  for (const [body, message] of bad) {
    const res = await api(app, 'POST', '/api/oncall/overrides', body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(res.body.message, message);
  }

  // A restart keeps them: a new app on the same database.
  await app.close();
  const again = await makeApp(t, { config: { triage: teamsConfig }, dbPath, clock });
  t.match((await api(again.app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'bob' } } }, 'survives a restart');
  const del = await again.app.inject({
    method: 'DELETE',
    url: '/api/oncall/overrides/1?by=bob',
    headers: { authorization: 'Bearer test-api-token' },
  });
  t.equal(del.statusCode, 204);
  t.match(
    (await api(again.app, 'GET', '/api/oncall?team=payments')).body,
    { current: { contact: { id: 'alice' } } },
    'removed: the rotation again',
  );
  t.equal(
    (await again.app.inject({ method: 'DELETE', url: '/api/oncall/overrides/1', headers: { authorization: 'Bearer test-api-token' } }))
      .statusCode,
    404,
  );
  t.equal((await again.app.inject({ method: 'DELETE', url: '/api/oncall/overrides/1' })).statusCode, 401, 'needs the API token');
  clock.advance(2 * 3_600_000);
  t.same((await api(again.app, 'GET', '/api/oncall/overrides')).body.overrides, [], 'an override that ended is no longer listed');
});
