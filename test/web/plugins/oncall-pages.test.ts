import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { tonight } from '../../../src/web/plugins/oncall-pages.js';
import { api, capturedLog, makeApp, shippedConfigText, TEAMS_YAML } from '../../helpers.js';
import { WebClient } from '../web-client.js';

// At T0 (Mon 2026-11-23 22:08Z, 23:08 in Paris) payments (weekly, Paris, alice then bob) has alice
// on call until Mon 30 Nov 09:00; the top level (weekly, Paris: carol, dan, alice) has dan.
const teamsConfig = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');

// Behind the trusted proxy each person is themselves with their own role (a responder by default);
// the built-in form signs in with API_TOKEN, as an admin.
const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
const emailOf = (name: string) => `${name.split(' ')[0]!.toLowerCase()}@example.com`;

/** A browser signed in as `name` through the proxy. */
async function as(app: FastifyInstance, name: string) {
  const client = new WebClient(app, { 'x-forwarded-email': emailOf(name) });
  await client.get('/oncall');
  return client;
}

async function signedIn(t: Parameters<typeof makeApp>[0], name: string, clock?: ManualClock) {
  const ctx = await makeApp(t, { config: { triage: teamsConfig, web }, ...(clock ? { clock } : {}) });
  return { ...ctx, web: await as(ctx.app, name) };
}

t.test('/oncall/:team: on call now and until when, four weeks of shifts, in the rotation zone, named', async (t) => {
  const { web } = await signedIn(t, 'Bob Chen');
  const res = await web.get('/oncall/payments');
  t.equal(res.statusCode, 200);
  const body = res.body;
  t.match(body, /<h1>On call: Payments<\/h1>/);
  t.match(body, /Times in Europe\/Paris, the rotation's zone/);
  t.match(
    body,
    /<strong>Alice Martin<\/strong> until <time datetime="2026-11-30T08:00:00.000Z" data-zone="Europe\/Paris">Mon 30 Nov 09:00<\/time>/,
  );
  // Four weeks from now: alice (now), bob, alice, bob, alice (from 21 Dec).
  const shifts = [...body.matchAll(/<li class="shift[^"]*"><strong>([^<]+)<\/strong>/g)].map((m) => m[1]);
  t.same(shifts, ['Alice Martin', 'Bob Chen', 'Alice Martin', 'Bob Chen', 'Alice Martin']);
  t.match(body, /Take this shift/, 'bob may take alice’s shifts');
  t.match(body, /I'll take tonight/);
  t.match(body, /href="\?weeks=8">Show four more weeks/);
  const more = await web.get('/oncall/payments?weeks=8');
  t.equal([...more.body.matchAll(/<li class="shift/g)].length, 9, 'more on request');
  t.equal((await web.get('/oncall/payments?weeks=100')).statusCode, 400, 'at most 26 weeks');

  const top = await web.get('/oncall');
  t.match(top.body, /<h1>On call: Top level<\/h1>/);
  t.match(top.body, /<strong>Dan Okafor<\/strong> until/);
  t.match(top.body, /<a href="\/oncall\/payments">Payments<\/a>/);
  t.equal((await web.get('/oncall/nobody')).statusCode, 404);
});

t.test('take a shift: the page, the API and the next page agree; the log says who', async (t) => {
  const { app, web } = await signedIn(t, 'Bob Chen');
  const page = await web.get('/oncall/payments');
  const from = /name="from" value="(\d+)"/.exec(page.body)![1]!;
  const until = /name="until" value="(\d+)"/.exec(page.body)![1]!;
  const res = await web.post('/oncall/take', { rotation: 'payments', from, until, covers: 'alice' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/oncall/payments?done=taken');
  const after = await web.get('/oncall/payments?done=taken');
  t.match(after.body, /the shift is yours/);
  t.match(after.body, /<strong>Bob Chen<\/strong> <span class="badge">override, taken by Bob Chen for Alice Martin<\/span> until/);
  t.match(after.body, /End this override now/);
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, {
    current: { contact: { id: 'bob' }, override: true, until: '2026-11-30T08:00:00.000Z', overrideBy: 'Bob Chen', covers: 'alice' },
  });
  t.match(after.body, /Bob Chen<\/strong> put Bob Chen on call for Alice Martin from Mon 23 Nov 23:08 to Mon 30 Nov 09:00/);

  // Ended early by the person who took it.
  const id = /action="\/oncall\/overrides\/(\d+)\/end"/.exec(after.body)![1]!;
  t.equal((await web.post(`/oncall/overrides/${id}/end`, { rotation: 'payments' })).statusCode, 303);
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'alice' }, override: false } });
});

t.test("I'll take tonight: from 18:00 (or now) to the next morning's handoff, in the rotation's zone", async (t) => {
  const r = { rotation: { timeZone: 'Europe/Paris', handoff: { hour: 9, minute: 0 } } } as Parameters<typeof tonight>[0];
  t.same(tonight(r, Date.parse('2026-11-23T10:00Z')), { from: Date.parse('2026-11-23T17:00Z'), to: Date.parse('2026-11-24T08:00Z') });
  t.same(tonight(r, Date.parse('2026-11-23T22:08Z')), { from: Date.parse('2026-11-23T22:08Z'), to: Date.parse('2026-11-24T08:00Z') });
  t.same(tonight(r, Date.parse('2026-11-24T03:00Z')), { from: Date.parse('2026-11-24T03:00Z'), to: Date.parse('2026-11-24T08:00Z') });
  // The night of the spring change (29 March 2026, 02:00 → 03:00): 18:00 CET to 09:00 CEST is 14 hours.
  const spring = tonight(r, Date.parse('2026-03-28T12:00Z'));
  t.same(spring, { from: Date.parse('2026-03-28T17:00Z'), to: Date.parse('2026-03-29T07:00Z') });

  const { app, web } = await signedIn(t, 'Bob Chen');
  await web.get('/oncall/payments');
  t.equal((await web.post('/oncall/tonight', { rotation: 'payments', covers: 'alice' })).statusCode, 303);
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, {
    current: { contact: { id: 'bob' }, until: '2026-11-24T08:00:00.000Z' },
    next: { contact: { id: 'alice' } },
  });
});

t.test('cover for someone else: the person covered must accept; a swap is accepted or declined by the other', async (t) => {
  const clock = new ManualClock(Date.parse('2026-11-23T22:08Z'));
  const carol = await signedIn(t, 'Carol Diaz', clock);
  const page = await carol.web.get('/oncall/payments');
  const from = /name="from" value="(\d+)"/.exec(page.body)![1]!;
  const until = /name="until" value="(\d+)"/.exec(page.body)![1]!;
  // Carol asks that Dan cover Alice's shift: Alice must accept.
  const asked = await carol.web.post('/oncall/cover', { rotation: 'payments', from, until, covers: 'alice', contact: 'dan' });
  t.equal(asked.statusCode, 303);
  t.equal(asked.headers.location, '/oncall/payments?done=asked');
  t.match((await api(carol.app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'alice' } } }, 'not yet');

  const alice = await as(carol.app, 'Alice Martin');
  const alicePage = await alice.get('/oncall/payments');
  t.match(alicePage.body, /Cover: Dan Okafor to cover Alice Martin's shift/);
  const req = /action="\/oncall\/requests\/(\d+)\/accept"/.exec(alicePage.body)![1]!;
  t.equal((await carol.web.post(`/oncall/requests/${req}/accept`, { rotation: 'payments' })).statusCode, 403, 'only alice answers');
  t.equal((await alice.post(`/oncall/requests/${req}/accept`, { rotation: 'payments' })).statusCode, 303);
  t.match((await api(carol.app, 'GET', '/api/oncall?team=payments')).body, { current: { contact: { id: 'dan' }, covers: 'alice' } });
  t.equal((await alice.post(`/oncall/requests/${req}/decline`, { rotation: 'payments' })).statusCode, 409, 'answered once');

  // A swap: bob offers his week of 30 Nov for alice's week of 7 Dec; alice declines.
  const bob = await as(carol.app, 'Bob Chen');
  const bobPage = await bob.get('/oncall/payments');
  const swap =
    /<form method="post" action="\/oncall\/swap" class="inline swap">[^]{0,300}?name="asked" value="alice"><input type="hidden" name="swapFrom" value="(\d+)"><input type="hidden" name="swapUntil" value="(\d+)"><label>Swap for my shift <select name="mine"><option value="([\d-]+)"/.exec(
      bobPage.body,
    )!;
  const made = await bob.post('/oncall/swap', {
    rotation: 'payments',
    asked: 'alice',
    swapFrom: swap[1],
    swapUntil: swap[2],
    mine: swap[3],
  });
  t.equal(made.statusCode, 303);
  const reqs = await alice.get('/oncall/payments');
  t.match(reqs.body, /Swap: Alice Martin takes Bob Chen's shift/);
  const swapId = /action="\/oncall\/requests\/(\d+)\/decline"/.exec(reqs.body)![1]!;
  t.equal((await alice.post(`/oncall/requests/${swapId}/decline`, { rotation: 'payments' })).statusCode, 303);
  const log = (await api(carol.app, 'GET', '/api/oncall/log?team=payments')).body.entries.map(
    (e: { kind: string; actor: string }) => `${e.kind} ${e.actor}`,
  );
  t.same(log, [
    'request_declined Alice Martin',
    'request_made Bob Chen',
    'request_accepted Alice Martin',
    'override_added Alice Martin',
    'request_made Carol Diaz',
  ]);
});

t.test('the incident page links who is on call for its team', async (t) => {
  const { app, web } = await signedIn(t, 'Bob Chen');
  const { alert, payload, postWebhook, uniqueGroup } = await import('../../helpers.js');
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'payments' } })]));
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: 'x' } })]));
  t.match((await web.get('/incidents/1')).body, /<a href="\/oncall\/payments">who is on call for this team<\/a>/);
  t.match((await web.get('/incidents/2')).body, /<a href="\/oncall">who is on call for incidents<\/a>/);
});

t.test('a viewer sees the rotation but may not change it; an admin puts anyone on call at once', async (t) => {
  const triage = {
    ...teamsConfig,
    paging: {
      ...teamsConfig.paging,
      contacts: teamsConfig.paging.contacts.map((c) =>
        c.id === 'dan' ? { ...c, access: 'viewer' as const } : c.id === 'carol' ? { ...c, access: 'admin' as const } : c,
      ),
    },
  };
  const log = capturedLog();
  const { app } = await makeApp(t, { config: { triage, web }, logger: log.logger });
  const dan = await as(app, 'Dan Okafor');
  const page = await dan.get('/oncall/payments');
  t.equal(page.statusCode, 200, 'a viewer reads');
  const from = /name="from" value="(\d+)"/.exec(page.body)![1]!;
  const until = /name="until" value="(\d+)"/.exec(page.body)![1]!;
  const refused = await dan.post('/oncall/take', { rotation: 'payments', from, until, covers: 'alice' });
  t.equal(refused.statusCode, 403);
  t.match(refused.body, /responder role/);
  const carol = await as(app, 'Carol Diaz');
  const cover = await carol.post('/oncall/cover', { rotation: 'payments', from, until, covers: 'alice', contact: 'bob' });
  t.equal(cover.statusCode, 303, 'an admin decides at once');
  t.ok(
    log.lines().some((l) => l['audit'] === 'admin' && l['action'] === '/oncall/cover' && l['person'] === 'carol'),
    "an admin's change from the pages is an audit line with who",
  );
  t.match((await api(app, 'GET', '/api/oncall?team=payments')).body, {
    current: { contact: { id: 'bob' }, overrideBy: 'Carol Diaz', covers: 'alice' },
  });
});

t.test("a person's own time zone: set on /oncall, shown beside the rotation's, refused in words when it is none", async (t) => {
  const { app, web } = await signedIn(t, 'Bob Chen');
  const saved = await web.post('/oncall/zone', { rotation: 'payments', timeZone: 'America/New_York' });
  t.equal(saved.statusCode, 303);
  const page = await web.get('/oncall/payments');
  t.match(page.body, /Yours, in America\/New_York \(your setting\), in brackets\./);
  // Mon 30 Nov 09:00 in Paris is 03:00 in New York.
  t.match(
    page.body,
    /<time datetime="2026-11-30T08:00:00.000Z">Mon 30 Nov 09:00<\/time><span class="yours"> \(yours: Mon 30 Nov 03:00\)<\/span>/,
  );
  t.notMatch(page.body, /data-zone=/, "the browser's zone is not added beside the person's own");
  t.match(page.body, /value="America\/New_York"/);
  t.equal((await app.triage.store.contactSettings('bob'))?.timeZone, 'America/New_York');

  const bad = await web.post('/oncall/zone', { rotation: 'payments', timeZone: 'Mars/Olympus' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, /&quot;Mars\/Olympus&quot; is not a time zone: use an IANA name such as Europe\/Paris/);
  t.equal((await web.post('/oncall/zone', { rotation: 'payments', timeZone: '<script>' })).statusCode, 400);

  t.equal((await web.post('/oncall/zone', { rotation: 'payments', timeZone: '' })).statusCode, 303, 'empty: the browser again');
  t.match((await web.get('/oncall/payments')).body, /data-zone="Europe\/Paris"/);
});
