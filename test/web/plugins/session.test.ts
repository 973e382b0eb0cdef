import Database from 'better-sqlite3';
import t from 'tap';
import { alert, api, capturedLog, makeApp, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { seeded, WebClient } from '../web-client.js';

/** A string for a test's message: TAP reads U+2028 and the like as line ends. */
const show = (s: string | undefined) =>
  s === undefined ? 'undefined' : s.replace(/[^\x21-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

t.test('signed out, a page redirects to sign-in; / goes to /incidents; the API keeps its bearer token', async (t) => {
  const { app } = await seeded(t);
  const root = await app.inject({ method: 'GET', url: '/' });
  t.equal(root.statusCode, 303, 'even / needs someone signed in');
  t.equal(root.headers.location, '/sign-in?next=%2F');
  const page = await app.inject({ method: 'GET', url: '/incidents/1?x=1' });
  t.equal(page.statusCode, 303);
  t.equal(page.headers.location, '/sign-in?next=%2Fincidents%2F1%3Fx%3D1');
  t.equal((await app.inject({ method: 'POST', url: '/incidents/1/ack' })).statusCode, 303, 'a form post too');
  t.equal((await app.inject({ method: 'GET', url: '/api/incidents' })).statusCode, 401, 'the API still answers 401, not a redirect');
  t.equal((await api(app, 'GET', '/api/incidents')).status, 200);

  const c = new WebClient(app);
  const form = await c.get('/sign-in');
  t.equal(form.statusCode, 200);
  for (const text of [
    '<label for="name">Your name</label>',
    '<label for="token">API token</label>',
    '<button type="submit">Sign in</button>',
  ])
    t.ok(form.body.includes(text), text);
  const home = await c.signIn();
  t.equal(home.statusCode, 303);
  t.equal(home.headers.location, '/incidents');
  t.equal((await c.get('/')).headers.location, '/incidents');
});

t.test('the session cookie: HttpOnly, SameSite=Lax, signed; Secure when PUBLIC_URL is https; sign-out ends it', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  const res = await c.signIn();
  const cookie = (res.cookies as { name: string; httpOnly?: boolean; sameSite?: string; secure?: boolean; value: string }[]).find(
    (k) => k.name === 'triage_session',
  )!;
  t.ok(cookie.httpOnly);
  t.equal(cookie.sameSite, 'Lax');
  t.notOk(cookie.secure, 'not over plain http');
  t.equal((await c.get('/incidents')).statusCode, 200);

  // A forged cookie (another name, same shape) is not a session.
  const forged = Buffer.from(JSON.stringify({ n: 'mallory', e: Date.now() + 1e9 })).toString('base64url');
  const other = new WebClient(app);
  other.cookies.set('triage_session', `${forged}.AAAA`);
  t.equal((await other.get('/incidents')).statusCode, 303);
  other.cookies.set('triage_session', forged);
  t.equal((await other.get('/incidents')).statusCode, 303, 'nor an unsigned one');

  await c.get('/incidents');
  const out = await c.post('/sign-out', {});
  t.equal(out.statusCode, 303);
  t.equal(out.headers.location, '/sign-in');
  t.notOk(c.cookies.has('triage_session'));
  t.equal((await c.get('/incidents')).statusCode, 303, 'signed out');

  const secure = await makeApp(t, { config: { channels: { publicUrl: 'https://triage.example.com' } } });
  const s = new WebClient(secure.app, { origin: 'https://triage.example.com' });
  const signed = await s.signIn();
  t.ok(
    (signed.cookies as { name: string; secure?: boolean }[]).every((k) => k.secure),
    'Secure with an https PUBLIC_URL',
  );
});

t.test('a wrong token shows an error and signs nobody in; next= only goes to a local path', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  const res = await c.signIn('Carol Diaz', 'wrong');
  t.equal(res.statusCode, 401);
  t.match(res.body, /Wrong API token: nobody is signed in/);
  t.notOk(c.cookies.has('triage_session'));
  t.notOk(res.body.includes('test-api-token'), 'no secret in the page');
  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example']) {
    // A fresh browser each time: a signed-in one's form token is its session's (issue 20).
    const fresh = new WebClient(app);
    await fresh.get('/sign-in');
    const r = await fresh.post('/sign-in', { name: 'x', token: 'test-api-token', next });
    t.equal(r.headers.location, '/incidents', `${next} is not followed`);
  }
});

t.test('behind an authenticating proxy: the header names the user, only from the proxy', async (t) => {
  const web = {
    sessionSecret: 'x'.repeat(32),
    auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1', '10.0.0.0/8'] },
  } as const;
  const { app } = await seeded(t, { config: { web } });
  const proxied = new WebClient(app, { 'x-forwarded-email': 'carol@example.com' });
  const page = await proxied.get('/incidents/1');
  t.equal(page.statusCode, 200, 'inject comes from 127.0.0.1, a trusted proxy');
  t.match(page.body, /Signed in as <a href="\/me">Carol Diaz<\/a>/);
  t.notOk(page.body.includes('Sign out'), 'sign-out is the proxy’s');
  t.equal((await proxied.post('/incidents/1/ack', {})).statusCode, 303);
  t.match(
    (await api(app, 'GET', '/api/incidents/1')).body.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
    { kind: 'acknowledged', actor: 'carol', by: 'Carol Diaz', via: 'web' },
  );

  // Someone the config does not know is signed in with no role by default (people.unknown: none), and told so.
  const stranger = new WebClient(app, { 'x-forwarded-email': 'eve@example.com' });
  const refused = await stranger.get('/incidents');
  t.equal(refused.statusCode, 403, 'no role: no incidents');
  t.match(refused.body, /This needs the viewer role \(read incidents\); eve@example.com has no role/);
  t.match(refused.body, /Signed in as <a href="\/me">eve@example.com<\/a>/, 'an e-mail that is no contact is its own name');
  t.equal((await new WebClient(app).get('/incidents')).statusCode, 303, 'no header: sign-in');
  t.match((await new WebClient(app).get('/sign-in')).body, /authenticating proxy/);

  const untrusted = await makeApp(t, { config: { web: { ...web, auth: { ...web.auth, trusted: ['10.1.2.3'] } } } });
  const spoof = new WebClient(untrusted.app, { 'x-forwarded-email': 'carol@example.com' });
  t.equal((await spoof.get('/incidents')).statusCode, 303, 'the header from anyone else is ignored');
});

t.test('next= with characters a Location header cannot carry: percent-encoded as UTF-8, or /incidents; never a 500', async (t) => {
  const { app } = await seeded(t);
  const cases: [string, string][] = [
    ['/ā', '/%C4%81'],
    ['/é', '/%C3%A9'],
    ['/incidents?q=日本#ü', '/incidents?q=%E6%97%A5%E6%9C%AC#%C3%BC'],
    ['/😀', '/%F0%9F%98%80'],
    ['/\ud800', '/%EF%BF%BD'],
    ['/\u0000', '/incidents'],
    ['/a\u0007b', '/incidents'],
    ['/\u007f', '/incidents'],
    ['/\u0085', '/incidents'],
    ['/\u3000/evil.example', '/incidents'],
    ['/incidents/1?x=%C4%81', '/incidents/1?x=%C4%81'],
  ];
  let c = new WebClient(app);
  for (const [next, location] of cases) {
    // A fresh browser each time: a signed-in one's form token is its session's (issue 20).
    c = new WebClient(app);
    await c.get('/sign-in');
    const r = await c.post('/sign-in', { name: 'x', token: 'test-api-token', next });
    t.equal(r.statusCode, 303, `${show(next)}: signed in`);
    t.equal(r.headers.location, location, `${show(next)} → ${location}`);
  }
  // Signed in already, /sign-in?next= redirects at once; and the form carries the safe value.
  for (const [next, location] of cases.filter(([n]) => n !== '/\ud800')) {
    const r = await c.get(`/sign-in?next=${encodeURIComponent(next)}`);
    t.equal(r.statusCode, 303, `GET ${show(next)}`);
    t.equal(r.headers.location, location, `GET ${show(next)} → ${location}`);
  }
  t.equal((await c.get('/sign-in?next=/%00')).headers.location, '/incidents', 'a raw %00 in the query');
  const fresh = new WebClient(app);
  const form = await fresh.get('/sign-in?next=/%C4%81');
  t.equal(form.statusCode, 200);
  t.match(form.body, '<input type="hidden" name="next" value="/%C4%81">', 'the form sends the encoded path');
  for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example/']) {
    const r = await fresh.get(`/sign-in?next=${encodeURIComponent(next)}`);
    t.match(r.body, '<input type="hidden" name="next" value="/incidents">', `${next} is not offered`);
  }
});

// Hostile findings of issue 20: each of these passed before the fix.

t.test('sign-out ends the session: a copy of the cookie taken before it no longer works', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  const copied = c.cookies.get('triage_session')!;
  await c.get('/incidents');
  t.equal((await c.post('/sign-out', {})).statusCode, 303);
  const thief = new WebClient(app);
  thief.cookies.set('triage_session', copied);
  const replay = await thief.get('/incidents/1');
  t.equal(replay.statusCode, 303, 'the replayed cookie is no session');
  t.match(replay.headers.location, /^\/sign-in/);
});

t.test('a session ends at its expiry, and the scheduler deletes its row; an admin ends all of a person’s sessions', async (t) => {
  const { app, clock, store, dbPath } = await seeded(t, {
    config: { web: { sessionSecret: 'x'.repeat(32), auth: { mode: 'form' }, sessionTtlMs: 3600_000 } },
  });
  const rows = () => {
    const db = new Database(dbPath, { readonly: true });
    const n = db.prepare('SELECT count(*) AS n FROM web_sessions').get() as { n: number };
    db.close();
    return n.n;
  };
  const c = new WebClient(app);
  await c.signIn();
  t.equal((await store.listSessions('carol', clock.now())).length, 1, 'one row for Carol');
  clock.advance(3600_000);
  t.equal((await c.get('/incidents')).statusCode, 303, 'expired');
  t.equal(rows(), 1, 'its row is still there until a sweep…');
  await app.triage.scheduler.tick();
  t.equal(rows(), 0, '…which the scheduler’s pass deletes');

  const laptop = new WebClient(app);
  const phone = new WebClient(app);
  await laptop.signIn();
  await phone.signIn('carol@example.com');
  t.equal((await laptop.get('/incidents')).statusCode, 200);
  const ended = await api(app, 'DELETE', '/api/people/carol/sessions');
  t.equal(ended.status, 200);
  t.same(ended.body, { ended: 2 });
  t.equal((await laptop.get('/incidents')).statusCode, 303, 'the laptop is signed out');
  t.equal((await phone.get('/incidents')).statusCode, 303, 'and the phone');
});

t.test('wrong sign-ins are limited per client address and per account: 429 with Retry-After', async (t) => {
  const { app, clock } = await seeded(t);
  const c = new WebClient(app);
  await c.get('/sign-in');
  const codes: number[] = [];
  for (let i = 0; i < 12; i++) codes.push((await c.post('/sign-in', { name: 'Carol Diaz', token: `guess-${i}` })).statusCode);
  t.same(codes.slice(0, 10), Array(10).fill(401), 'ten wrong tokens for one account are answered');
  const limited = await c.post('/sign-in', { name: 'carol diaz', token: 'test-api-token' });
  t.equal(limited.statusCode, 429, 'then even the right token waits: the account is locked for its window');
  t.equal(limited.headers['retry-after'], String(15 * 60 - 0), 'Retry-After in seconds');
  t.match(limited.body, /Too many wrong sign-ins/);

  // Other names from the same address: the address's limit (20) is reached too.
  for (let i = 0; i < 10; i++) await c.post('/sign-in', { name: `someone ${i}`, token: 'guess' });
  const byAddress = await c.post('/sign-in', { name: 'Dan Okafor', token: 'test-api-token' });
  t.equal(byAddress.statusCode, 429, 'the address is limited across accounts');

  clock.advance(15 * 60_000);
  t.equal((await c.post('/sign-in', { name: 'Carol Diaz', token: 'test-api-token' })).statusCode, 303, 'after the window, in again');
  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]))).statusCode, 200, 'the webhook is never limited');
});

t.test('a token typed into "Your name" is never logged, also when the sign-in is refused', async (t) => {
  const log = capturedLog();
  const { app } = await seeded(t, { logger: log.logger });
  const secret = 'tri_0123abcd_' + 'S'.repeat(43);
  const c = new WebClient(app);
  await c.get('/sign-in');
  const res = await c.post('/sign-in', { name: secret, token: 'wrong' });
  t.equal(res.statusCode, 401);
  await c.post('/sign-in', { name: 'test-api-token', token: 'wrong' });
  t.ok(
    log.lines().some((l) => l['audit'] === 'sign-in-refused'),
    'the refusal is logged',
  );
  t.notOk(log.text().includes(secret), 'not the text typed as a name');
  t.notOk(log.text().includes('test-api-token'), 'nor the API token typed as a name');
});

t.test('behind the proxy, two identity headers are refused, not joined into one', async (t) => {
  const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
  const { app } = await seeded(t, { config: { web } });
  const res = await app.inject({
    method: 'GET',
    url: '/incidents',
    headers: { 'x-forwarded-email': ['carol@example.com', 'alice@example.com'] },
  });
  t.equal(res.statusCode, 400);
  t.match(res.body, /X-Forwarded-Email was sent 2 times: one identity per request/);
  t.notMatch(res.body, /Signed in as/);
});
