import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { API_TOKEN, shippedConfig } from '../../helpers.js';
import { seeded, WebClient } from '../web-client.js';

/** The shipped config with Dan a viewer and Alice an admin. */
const triage = {
  ...shippedConfig,
  paging: {
    ...shippedConfig.paging,
    contacts: shippedConfig.paging.contacts.map((c) =>
      c.id === 'dan' ? { ...c, access: 'viewer' as const } : c.id === 'alice' ? { ...c, access: 'admin' as const } : c,
    ),
  },
};

/** A browser signed in through the trusted proxy's header as `email` (the proxy mode gives each person their own role). */
const proxied = (app: FastifyInstance, email: string) => new WebClient(app, { 'x-forwarded-email': email });
const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('/me: make a personal token, shown once; it acts as its maker with their role; last used; revoked, it is refused', async (t) => {
  const { app, clock } = await seeded(t, { config: { triage, web } });
  const carol = proxied(app, 'carol@example.com');
  const page = await carol.get('/me');
  t.equal(page.statusCode, 200);
  for (const text of [
    '<h1>Carol Diaz</h1>',
    'carol@example.com',
    '<strong>responder</strong>',
    'No tokens.',
    '<label for="label">Name of a new token</label>',
  ])
    t.ok(page.body.includes(text), text);
  const made = await carol.post('/me/tokens', { label: 'laptop CLI' });
  t.equal(made.statusCode, 200);
  t.equal(made.headers['cache-control'], 'no-store', 'the page with the token is not cached');
  const token = /<code class="secret">(tri_[0-9a-f]{8}_[A-Za-z0-9_-]{43})<\/code>/.exec(made.body)?.[1];
  t.ok(token, 'the token is shown');
  const again = await carol.get('/me');
  t.notOk(again.body.includes(token!), 'and never again');
  t.match(again.body, /laptop CLI<\/strong> <code>tri_[0-9a-f]{8}_…<\/code>/);
  t.match(again.body, /never used/);

  const who = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token!) });
  t.same(who.json(), {
    person: 'carol',
    contact: 'carol',
    name: 'Carol Diaz',
    email: 'carol@example.com',
    role: 'responder',
    via: 'personal-token',
  });
  clock.advance(5 * 60_000);
  const ack = await app.inject({ method: 'POST', url: '/api/incidents/2/ack', headers: bearer(token!), payload: { by: 'Mallory' } });
  t.equal(ack.statusCode, 200);
  const incident = (await app.inject({ method: 'GET', url: '/api/incidents/2', headers: bearer(token!) })).json();
  t.match(
    incident.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
    { actor: 'carol', by: 'Carol Diaz', via: 'api', recordedBy: undefined },
    '`by` from a person is not believed; Carol acted as herself',
  );
  // API_TOKEN naming Carol is an admin acting for her: the timeline tells the two apart.
  await app.inject({ method: 'POST', url: '/api/incidents/3/ack', headers: bearer(API_TOKEN), payload: { by: 'Carol Diaz' } });
  const named = (await app.inject({ method: 'GET', url: '/api/incidents/3', headers: bearer(token!) }))
    .json()
    .timeline.find((e: { kind: string }) => e.kind === 'acknowledged');
  t.match(named, { actor: 'carol', by: 'Carol Diaz', recordedBy: 'API_TOKEN', detail: /recorded with API_TOKEN for this name/ });
  const onPage = (await carol.get('/incidents/3')).body;
  t.match(
    onPage,
    /<strong>carol<\/strong> Acknowledged by Carol Diaz \(recorded with API_TOKEN for this name, not by that person signed in\)/,
  );
  t.match((await carol.get('/me')).body, /last used <time/);

  const reload = await app.inject({ method: 'POST', url: '/-/reload', headers: bearer(token!) });
  t.equal(reload.statusCode, 403, 'a responder is refused an admin route');
  t.match(reload.json().message, /This needs the admin role \(take overrides for anyone, reload the config/);
  t.match(reload.json().message, /Carol Diaz has the responder role/);

  const id = /action="\/me\/tokens\/(\d+)\/revoke"/.exec((await carol.get('/me')).body)![1];
  const dan = proxied(app, 'dan@example.com');
  await dan.get('/me');
  await dan.post(`/me/tokens/${id}/revoke`, {});
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token!) })).statusCode,
    200,
    "Dan cannot revoke Carol's token",
  );
  await carol.get('/me');
  const revoked = await carol.post(`/me/tokens/${id}/revoke`, {});
  t.match(revoked.body, /The token is revoked/);
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token!) })).statusCode, 401, 'a revoked token is refused');
});

t.test('roles on the pages: a viewer reads but is refused the forms, in words; a stranger has no role and sees /me', async (t) => {
  const { app } = await seeded(t, { config: { triage, web } });
  const dan = proxied(app, 'dan@example.com');
  const carol = proxied(app, 'carol@example.com');
  await carol.get('/incidents/1');
  await carol.post('/incidents/1/notes', { text: 'logs <saved>' });
  await carol.post('/incidents/1/checklist', { step: 'PRESERVE: save all logs before anything else changes', done: 'on' });
  await carol.post('/incidents/1/review', { rootCause: 'expired <cert>', impact: 'checkout down', prevention: '' });
  const read = await dan.get('/incidents/1');
  t.equal(read.statusCode, 200, 'a viewer reads');
  // The page is read-only for a viewer: no button that would only answer 403, and a line saying why.
  for (const action of ['/ack', '/resolve', '/notes', '/checklist', '/checklist/save', '/review', '/silences'])
    t.notOk(read.body.includes(`action="/incidents/1${action}"`), `no ${action} form for a viewer`);
  t.notMatch(read.body, /<button|<textarea|type="checkbox"/, 'no button, text area or box at all but sign-out');
  t.match(
    read.body,
    /<p class="read-only" role="note">You have the viewer role, so this page is read-only: acknowledging, resolving, notes, the checklist, the review and silences need the responder role\. An admin gives it/,
  );
  t.match(read.body, /✅ Done:<\/span> <span>PRESERVE: save all logs before anything else changes<\/span>/, 'the checklist as text');
  t.match(read.body, /logs &lt;saved&gt;/, 'the notes');
  t.match(read.body, /<p class="review-text">expired &lt;cert&gt;<\/p>/, 'the review as text, escaped');
  const own = (await carol.get('/incidents/1')).body;
  for (const action of ['/resolve', '/notes', '/checklist/save', '/review'])
    t.ok(own.includes(`action="/incidents/1${action}"`), `a responder has the ${action} form`);
  t.notMatch(own, /class="read-only"/);
  // The server still refuses a viewer who posts the form anyway (with a CSRF token from /me's forms).
  await dan.get('/me');
  const ack = await dan.post('/incidents/1/ack', {});
  t.equal(ack.statusCode, 403);
  t.match(ack.body, /This needs the responder role \(acknowledge, resolve/);
  t.match(ack.body, /Dan Okafor has the viewer role/);
  const stranger = proxied(app, 'eve@example.com');
  const me = await stranger.get('/me');
  t.equal(me.statusCode, 200);
  t.match(me.body, /The config does not give you a role/);
  t.notMatch(me.body, /Make a token/, 'no tokens for someone without a role');
});

t.test('/me lists the sessions; ending another one signs that browser out, ending this one signs out', async (t) => {
  const { app } = await seeded(t);
  const laptop = new WebClient(app, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' });
  const phone = new WebClient(app, { 'user-agent': 'Mozilla/5.0 (iPhone) Safari/604.1' });
  await laptop.signIn();
  await phone.signIn('carol@example.com');
  const page = await laptop.get('/me');
  t.match(page.body, /Firefox on Linux<\/strong> <span class="kept">\(this browser\)<\/span>/);
  t.match(page.body, /Safari on iPhone/);
  const rows = page.body.split('<li class="row">').slice(1);
  const hashOf = (row: string) => /name="session" value="([0-9a-f]{64})"/.exec(row)![1]!;
  const mine = hashOf(rows.find((r) => r.includes('(this browser)'))!);
  const theirs = hashOf(rows.find((r) => !r.includes('(this browser)'))!);
  t.equal((await laptop.post('/me/sessions/end', { session: theirs })).statusCode, 303);
  t.equal((await phone.get('/incidents')).statusCode, 303, 'the phone is signed out');
  t.equal((await laptop.get('/incidents')).statusCode, 200, 'the laptop is not');
  await laptop.get('/me');
  const own = await laptop.post('/me/sessions/end', { session: mine });
  t.equal(own.headers.location, '/sign-in', 'ending this browser’s session is signing out');
  t.equal((await laptop.get('/incidents')).statusCode, 303);
});

t.test(
  'review findings: a found personal token is never locked out by guesses; bare requests count for nothing; HEAD needs a role; an admin token names only its maker',
  async (t) => {
    let withoutCarol = false;
    const loadConfig = () =>
      withoutCarol ? { ...triage, paging: { ...triage.paging, contacts: triage.paging.contacts.filter((c) => c.id !== 'carol') } } : triage;
    const { app } = await seeded(t, { config: { triage, web, loadConfig } });
    const alice = proxied(app, 'alice@example.com');
    await alice.get('/me');
    const made = await alice.post('/me/tokens', { label: 'automation' });
    const token = /<code class="secret">(tri_[0-9a-f]{8}_[A-Za-z0-9_-]{43})<\/code>/.exec(made.body)![1]!;
    const prefix = token.slice(0, 'tri_'.length + 8);
    const from = (address: string, authorization?: string) =>
      app.inject({ method: 'GET', url: '/api/incidents', headers: authorization ? { authorization } : {}, remoteAddress: address });
    // Eleven guesses under Alice's (public) prefix, then 50 bare requests, all from one address.
    for (let i = 0; i < 11; i++) await from('10.1.1.1', `Bearer ${prefix}_${String(i).padStart(43, 'x')}`);
    t.equal((await from('10.1.1.1', `Bearer ${prefix}_${'z'.repeat(43)}`)).statusCode, 429, 'guesses under the prefix are limited');
    t.equal((await from('10.1.1.1', `Bearer ${token}`)).statusCode, 200, 'but the real token still gets in, from that address too');
    const bare: number[] = [];
    for (let i = 0; i < 50; i++) bare.push((await from('10.2.2.2')).statusCode);
    t.same([...new Set(bare)], [401], 'fifty requests without a token are each a 401');
    t.equal((await from('10.2.2.2', 'Bearer ' + API_TOKEN)).statusCode, 200, 'and lock nobody out behind that address');

    // An admin acting by personal token is recorded as themself: `by` is believed from API_TOKEN only.
    const ack = await app.inject({ method: 'POST', url: '/api/incidents/2/ack', headers: bearer(token), payload: { by: 'Mallory' } });
    t.equal(ack.statusCode, 200);
    const incident = (await app.inject({ method: 'GET', url: '/api/incidents/2', headers: bearer(token) })).json();
    t.match(
      incident.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
      { by: 'Alice Martin' },
    );

    // A token whose maker is no longer a contact has no role: it learns nothing, not even by HEAD
    // (which Fastify answers with the GET handler).
    const carol = proxied(app, 'carol@example.com');
    await carol.get('/me');
    const carolToken = /<code class="secret">(tri_[0-9a-f]{8}_[A-Za-z0-9_-]{43})<\/code>/.exec(
      (await carol.post('/me/tokens', { label: 'x' })).body,
    )![1]!;
    t.equal((await app.inject({ method: 'HEAD', url: '/api/incidents/2', headers: bearer(carolToken) })).statusCode, 200);
    withoutCarol = true;
    app.triage.config.reload();
    const head = await app.inject({ method: 'HEAD', url: '/api/incidents/2', headers: bearer(carolToken) });
    t.equal(head.statusCode, 403, 'HEAD is refused like GET');
  },
);
