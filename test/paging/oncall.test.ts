import t from 'tap';
import { oncallNow, overridesOf, shiftAt, type Rotation } from '../../src/paging/oncall.js';
import { instantOf, wallTime } from '../../src/paging/zoned-time.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const paris: Rotation = {
  members: ['alice', 'bob', 'carol'],
  lengthDays: 1,
  handoff: { hour: 9, minute: 0 },
  timeZone: 'Europe/Paris',
  start: { year: 2026, month: 3, day: 27 },
  overrides: [],
};

t.test('wall time and instants in a zone, across both DST changes', async (t) => {
  t.match(wallTime(Z('2026-03-29T00:59:00Z'), 'Europe/Paris'), { hour: 1, minute: 59 });
  t.match(wallTime(Z('2026-03-29T01:00:00Z'), 'Europe/Paris'), { hour: 3, minute: 0 });
  t.equal(iso(instantOf({ year: 2026, month: 3, day: 28, hour: 9, minute: 0 }, 'Europe/Paris')), '2026-03-28T08:00:00.000Z', 'CET');
  t.equal(iso(instantOf({ year: 2026, month: 3, day: 29, hour: 9, minute: 0 }, 'Europe/Paris')), '2026-03-29T07:00:00.000Z', 'CEST');
  t.equal(
    iso(instantOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Paris')),
    '2026-03-29T01:30:00.000Z',
    'a skipped time moves past the jump (03:30 CEST)',
  );
  t.equal(
    iso(instantOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Paris')),
    '2026-10-25T00:30:00.000Z',
    'a repeated time is its first occurrence',
  );
  t.equal(
    iso(instantOf({ year: 2026, month: 11, day: 1, hour: 9, minute: 0 }, 'America/New_York')),
    '2026-11-01T14:00:00.000Z',
    'EST after the autumn change',
  );
  t.equal(iso(instantOf({ year: 2026, month: 7, day: 1, hour: 0, minute: 0 }, 'UTC')), '2026-07-01T00:00:00.000Z');
});

t.test('a daily rotation hands off at 09:00 local time on both sides of the spring change', async (t) => {
  const table: [string, string, string, string][] = [
    // instant, who, from, until
    ['2026-03-27T08:00:00Z', 'alice', '2026-03-27T08:00:00.000Z', '2026-03-28T08:00:00.000Z'],
    ['2026-03-28T07:59:59Z', 'alice', '2026-03-27T08:00:00.000Z', '2026-03-28T08:00:00.000Z'],
    ['2026-03-28T08:00:00Z', 'bob', '2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z'], // a 23-hour shift
    ['2026-03-29T06:59:00Z', 'bob', '2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z'],
    ['2026-03-29T07:00:00Z', 'carol', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    ['2026-03-30T07:00:00Z', 'alice', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z'],
    // Before the start the rotation runs backwards.
    ['2026-03-27T07:00:00Z', 'carol', '2026-03-26T08:00:00.000Z', '2026-03-27T08:00:00.000Z'],
  ];
  for (const [at, who, from, until] of table) {
    const s = shiftAt(paris, Z(at));
    t.same([s.contact, iso(s.from), iso(s.until)], [who, from, until], at);
  }
});

t.test('a weekly rotation across the autumn change: the shift is an hour longer', async (t) => {
  const weekly: Rotation = { ...paris, lengthDays: 7, handoff: { hour: 10, minute: 30 }, start: { year: 2026, month: 10, day: 19 } };
  const s = shiftAt(weekly, Z('2026-10-25T12:00:00Z'));
  t.equal(s.contact, 'alice');
  t.equal(iso(s.from), '2026-10-19T08:30:00.000Z', '10:30 CEST');
  t.equal(iso(s.until), '2026-10-26T09:30:00.000Z', '10:30 CET');
  t.equal(s.until - s.from, (7 * 24 + 1) * 3_600_000);
  t.equal(shiftAt(weekly, Z('2026-10-26T09:30:00Z')).contact, 'bob');
});

t.test('overrides take precedence and end shifts early; now and next', async (t) => {
  const r: Rotation = {
    ...paris,
    overrides: [
      { from: Z('2026-03-28T12:00:00Z'), to: Z('2026-03-28T18:00:00Z'), contact: 'dana' },
      { from: Z('2026-03-28T16:00:00Z'), to: Z('2026-03-28T17:00:00Z'), contact: 'erin' },
    ],
  };
  t.match(shiftAt(r, Z('2026-03-28T11:00:00Z')), { contact: 'bob', until: Z('2026-03-28T12:00:00Z'), override: false });
  t.match(shiftAt(r, Z('2026-03-28T13:00:00Z')), {
    contact: 'dana',
    from: Z('2026-03-28T12:00:00Z'),
    until: Z('2026-03-28T16:00:00Z'),
    override: true,
  });
  t.match(shiftAt(r, Z('2026-03-28T16:30:00Z')), { contact: 'erin', override: true }, 'the last listed wins where two overlap');
  t.match(shiftAt(r, Z('2026-03-28T17:30:00Z')), { contact: 'dana' });
  t.match(shiftAt(r, Z('2026-03-28T18:00:00Z')), { contact: 'bob', override: false });

  const { current, next } = oncallNow(r, Z('2026-03-28T11:00:00Z'));
  t.equal(current.contact, 'bob');
  t.match(next, { contact: 'dana', from: Z('2026-03-28T12:00:00Z') });
  const later = oncallNow(r, Z('2026-03-28T19:00:00Z'));
  t.match(later, { current: { contact: 'bob' }, next: { contact: 'carol', from: Z('2026-03-29T07:00:00Z') } });
});

t.test("run-time overrides win over the rotation and the config's overrides, across the spring change", async (t) => {
  const r: Rotation = { ...paris, overrides: [{ from: Z('2026-03-28T20:00:00Z'), to: Z('2026-03-29T12:00:00Z'), contact: 'dana' }] };
  // "I'll take tonight": from Saturday 22:00 Paris (CET) to Sunday 09:00 Paris, which is CEST by then.
  const tonight = {
    id: 1,
    team: null,
    contact: 'erin',
    from: Z('2026-03-28T21:00:00Z'),
    to: Z('2026-03-29T07:00:00Z'),
    by: 'erin',
    createdAt: 0,
  };
  t.match(
    shiftAt(r, Z('2026-03-28T20:30:00Z'), [tonight]),
    { contact: 'dana', until: Z('2026-03-28T21:00:00Z') },
    'the config override until the run-time one starts',
  );
  t.match(
    shiftAt(r, Z('2026-03-29T01:30:00Z'), [tonight]),
    { contact: 'erin', from: Z('2026-03-28T21:00:00Z'), until: Z('2026-03-29T07:00:00Z'), override: true },
    'across the 02:00 jump',
  );
  t.match(shiftAt(r, Z('2026-03-29T07:00:00Z'), [tonight]), { contact: 'dana' }, 'then the config override again');
  t.match(
    shiftAt(r, Z('2026-03-29T12:00:00Z'), [tonight]),
    { contact: 'carol', from: Z('2026-03-29T12:00:00Z'), override: false },
    'and the rotation, from the end of the override',
  );
  const newer = { ...tonight, id: 2, contact: 'frank', from: Z('2026-03-29T03:00:00Z') };
  t.match(shiftAt(r, Z('2026-03-29T04:00:00Z'), [tonight, newer]), { contact: 'frank' }, 'the newer of two run-time overrides wins');
  t.match(oncallNow(r, Z('2026-03-28T20:30:00Z'), [tonight]), {
    current: { contact: 'dana' },
    next: { contact: 'erin', from: Z('2026-03-28T21:00:00Z') },
  });
});

t.test("overridesOf picks one rotation's overrides, oldest first", async (t) => {
  const o = (id: number, team: string | null) => ({ id, team, contact: 'x', from: 0, to: 1, by: 'api', createdAt: 0, covers: null });
  t.same(
    overridesOf([o(3, 'payments'), o(1, null), o(2, 'payments')], 'payments').map((x) => x.id),
    [2, 3],
  );
  t.same(
    overridesOf([o(3, 'payments'), o(1, null)], null).map((x) => x.id),
    [1],
  );
});
