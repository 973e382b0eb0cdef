import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { api, makeApp, shippedConfig } from '../helpers.js';

t.test('who is on call now and next, with handoffs at 09:00 Paris time', async (t) => {
  // Monday 2026-03-23 starts week 11 of the rotation that began on 2026-01-05: members[11 % 3] is alice.
  // The next handoff is 09:00 Paris time on 2026-03-30, after the DST change: 07:00Z, not 08:00Z.
  const { app } = await makeApp(t, { clock: new ManualClock(Date.parse('2026-03-25T12:00:00Z')) });
  const res = await api(app, 'GET', '/api/oncall');
  t.equal(res.status, 200);
  t.same(res.body, {
    timeZone: 'Europe/Paris',
    at: '2026-03-25T12:00:00.000Z',
    current: { contact: { id: 'alice', name: 'Alice Martin', email: 'alice@example.com', slack: 'U0000000A01' }, from: '2026-03-23T08:00:00.000Z', until: '2026-03-30T07:00:00.000Z', override: false },
    next: { contact: { id: 'carol', name: 'Carol Diaz', email: 'carol@example.com', slack: 'U0000000C03' }, from: '2026-03-30T07:00:00.000Z', until: '2026-04-06T07:00:00.000Z', override: false },
  });
  t.equal((await app.inject({ method: 'GET', url: '/api/oncall' })).statusCode, 401, 'needs the API token');
});

t.test('404 with a reason when no rotation is configured', async (t) => {
  const { app } = await makeApp(t, { config: { triage: { ...shippedConfig, paging: { ...shippedConfig.paging, rotation: null } } } });
  const res = await api(app, 'GET', '/api/oncall');
  t.equal(res.status, 404);
  t.match(res.body.message, /no on-call rotation/);
});
