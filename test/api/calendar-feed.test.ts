import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import ical, { type VEvent } from 'node-ical';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { redactUrl } from '../../src/http/log-serializers.js';
import { api, makeApp, shippedConfigText, TEAMS_YAML } from '../helpers.js';
import { WebClient } from '../web/web-client.js';

// Issue 23 point 4: calendar feeds, generated with ical-generator and read here by an independent
// parser (node-ical). Payments: weekly, Europe/Paris, 09:00, alice then bob from 2026-01-05.
// Platform: daily, America/New_York, 08:00, carol then dan from 2026-11-01.
const teamsConfig = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');

async function withFeed(t: Test, at: string, who: string, scope: 'contact' | 'team', rotation: string) {
  const ctx = await makeApp(t, { config: { triage: teamsConfig, web: proxy }, clock: new ManualClock(Date.parse(at)) });
  const web = as(ctx.app, who);
  await web.get(rotation ? `/oncall/${rotation}` : '/oncall');
  const made = await web.post('/oncall/feeds', { rotation, scope });
  t.equal(made.statusCode, 200);
  const url = /<code class="feed-url">http:\/\/localhost(?::80)?(\/calendar\/([A-Za-z0-9_-]+)\.ics)<\/code>/.exec(made.body);
  t.ok(url, 'the secret URL is shown once');
  const path = url![1]!;
  const fetchFeed = async () => {
    const res = await ctx.app.inject({ method: 'GET', url: path });
    return { res, events: Object.values(ical.sync.parseICS(res.body)).filter((e): e is VEvent => e?.type === 'VEVENT') };
  };
  return { ...ctx, web, path, token: url![2]!, fetchFeed };
}

const DAY = 86_400_000;
// Each person signs in as themselves through the trusted proxy.
const proxy = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
const as = (app: FastifyInstance, name: string) =>
  new WebClient(app, { 'x-forwarded-email': `${name.split(' ')[0]!.toLowerCase()}@example.com` });
const iso = (d: Date | undefined) => d!.toISOString();

t.test("a personal feed: one's own shifts, times in the rotation's zone, free/busy-neutral, needing no sign-in", async (t) => {
  const { fetchFeed, store, token } = await withFeed(t, '2026-11-23T22:08:00Z', 'Bob Chen', 'contact', 'payments');
  const { res, events } = await fetchFeed();
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/calendar/);
  t.match(res.body, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Paris/);
  // The last week (shifts of the past 7 days stay), then 90 days ahead (the default horizon).
  t.same(
    events.map((e) => [iso(e.start), iso(e.end)]),
    [
      ['2026-11-16T08:00:00.000Z', '2026-11-23T08:00:00.000Z'],
      ['2026-11-30T08:00:00.000Z', '2026-12-07T08:00:00.000Z'],
      ['2026-12-14T08:00:00.000Z', '2026-12-21T08:00:00.000Z'],
      ['2026-12-28T08:00:00.000Z', '2027-01-04T08:00:00.000Z'],
      ['2027-01-11T08:00:00.000Z', '2027-01-18T08:00:00.000Z'],
      ['2027-01-25T08:00:00.000Z', '2027-02-01T08:00:00.000Z'],
      ['2027-02-08T08:00:00.000Z', '2027-02-15T08:00:00.000Z'],
    ],
  );
  for (const e of events) {
    t.equal(e.start.tz, 'Europe/Paris');
    t.equal(e.transparency, 'TRANSPARENT');
    t.match(e.summary, /^On call: Bob Chen \(Payments\)$/);
  }
  t.match(res.body, /DTSTART;TZID=Europe\/Paris:20261130T090000/, '09:00 Paris time as written');
  const [feed] = await store.calendarFeeds('bob');
  t.equal(feed!.tokenHash, createHash('sha256').update(token).digest('hex'), 'only the hash is stored');
  t.not(feed!.tokenHash, token);
  t.equal(redactUrl(`/calendar/${token}.ics`), '/calendar/[redacted]', 'the token never reaches the log');
});

t.test('UIDs stay the same across two fetches and across an override; an override is its own event', async (t) => {
  const { app, fetchFeed, clock } = await withFeed(t, '2026-11-23T22:08:00Z', 'Alice Martin', 'team', 'payments');
  const first = await fetchFeed();
  clock.advance(60_000);
  const second = await fetchFeed();
  const uids = (f: typeof first) => f.events.map((e) => e.uid);
  t.same(uids(second), uids(first), 'two fetches');
  t.equal(new Set(uids(first)).size, first.events.length, 'each unique');

  // Bob takes Wednesday night of alice's week of 7 Dec.
  const made = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-12-09T19:00+01:00',
    until: '2026-12-10T09:00+01:00',
    by: 'bob',
  });
  t.equal(made.status, 201);
  const after = await fetchFeed();
  const byUid = new Map(after.events.map((e) => [e.uid, e]));
  const aliceWeek = first.events.find((e) => iso(e.start) === '2026-12-07T08:00:00.000Z')!;
  t.ok(byUid.has(aliceWeek.uid), "alice's week keeps its UID, cut short");
  t.equal(iso(byUid.get(aliceWeek.uid)!.end), '2026-12-09T18:00:00.000Z');
  const override = after.events.find((e) => e.uid.startsWith(`override-${made.body.id}@`))!;
  t.match(override, { summary: 'On call: Bob Chen (Payments), override' });
  t.equal(iso(override.start), '2026-12-09T18:00:00.000Z');
  t.equal(iso(override.end), '2026-12-10T08:00:00.000Z');
  t.match(override.description, /Override made by bob/);
  const untouched = first.events.filter((e) => iso(e.end) <= '2026-12-07T08:00:00.000Z' || iso(e.start) >= '2026-12-14T08:00:00.000Z');
  for (const e of untouched) t.ok(byUid.has(e.uid), `${iso(e.start)} keeps its UID`);
  t.equal(after.events.length, first.events.length + 2, 'the override, and the rest of alice’s week after it');
});

t.test('across daylight-saving changes in two zones: Paris and New York in spring', async (t) => {
  const paris = await withFeed(t, '2026-03-20T12:00:00Z', 'Bob Chen', 'contact', 'payments');
  const bob = (await paris.fetchFeed()).events;
  // Bob's week of 23 March spans the change on the 29th: 09:00 CET to 09:00 CEST, an hour shorter.
  const spring = bob.find((e) => iso(e.start) === '2026-03-23T08:00:00.000Z')!;
  t.equal(iso(spring.end), '2026-03-30T07:00:00.000Z');
  t.equal(spring.end!.getTime() - spring.start.getTime(), 7 * DAY - 3_600_000);
  t.match((await paris.app.inject({ method: 'GET', url: paris.path })).body, /TZOFFSETFROM:\+0100\r\nTZOFFSETTO:\+0200/);

  const ny = await withFeed(t, '2027-03-01T12:00:00Z', 'Dan Okafor', 'team', 'platform');
  const days = (await ny.fetchFeed()).events;
  // 14 March 2027 is New York's spring change.
  const springNy = days.find((e) => iso(e.start) === '2027-03-13T13:00:00.000Z')!;
  t.equal(iso(springNy.end), '2027-03-14T12:00:00.000Z', '08:00 EST to 08:00 EDT: 23 hours');
  t.equal(springNy.start.tz, 'America/New_York');
  t.match((await ny.app.inject({ method: 'GET', url: ny.path })).body, /DTSTART;TZID=America\/New_York:20270313T080000/);
  // From 21 Feb (the shift under way a week ago) to 29 May (the last one starting in the 90 days ahead).
  t.equal(days.length, 98, 'a shift a day: the past week and the 90-day horizon');
});

t.test('a revoked feed answers 404, like one that never was; only its maker revokes it', async (t) => {
  const { app, web, fetchFeed, store } = await withFeed(t, '2026-11-23T22:08:00Z', 'Bob Chen', 'contact', 'payments');
  t.equal((await fetchFeed()).res.statusCode, 200);
  const [feed] = await store.calendarFeeds('bob');
  const alice = as(app, 'Alice Martin');
  await alice.get('/oncall/payments');
  t.equal((await alice.post(`/oncall/feeds/${feed!.id}/revoke`, { rotation: 'payments' })).statusCode, 404, "not alice's");
  t.equal((await web.post(`/oncall/feeds/${feed!.id}/revoke`, { rotation: 'payments' })).statusCode, 303);
  t.equal((await fetchFeed()).res.statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics' })).statusCode, 404);
});
