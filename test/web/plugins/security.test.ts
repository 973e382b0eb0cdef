import { Readable } from 'node:stream';
import t from 'tap';
import { api, makeApp } from '../../helpers.js';
import { seeded, WebClient } from '../web-client.js';

t.test('CSRF: a form without the token, or from another origin, gets 403 and changes nothing', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  await c.get('/incidents/1');
  const noToken = await c.post('/incidents/1/ack', { _csrf: undefined });
  t.equal(noToken.statusCode, 403);
  t.match(noToken.body, /did not come from this site/);
  t.equal((await c.post('/incidents/1/ack', { _csrf: 'forged' })).statusCode, 403);
  const crossOrigin = await c.post('/incidents/1/ack', {}, { origin: 'https://evil.example' });
  t.equal(crossOrigin.statusCode, 403, 'the right token from another origin');
  t.equal((await c.post('/incidents/1/ack', {}, { 'sec-fetch-site': 'cross-site' })).statusCode, 403);
  t.equal((await c.post('/incidents/1/ack', {}, { origin: 'null' })).statusCode, 403, 'an opaque origin (a sandboxed frame) too');
  const signedOut = await app.inject({ method: 'POST', url: '/incidents/1/ack', headers: { origin: 'https://evil.example' } });
  t.equal(signedOut.statusCode, 403, 'refused before the sign-in redirect: a cross-site post may carry no cookie');
  // The token is bound to the session (issue 20): another person's token with this session is refused.
  const other = new WebClient(app);
  await other.signIn('Dan Okafor');
  await other.get('/incidents/1');
  t.not(other.csrf, c.csrf, 'each session has its own token');
  t.equal((await c.post('/incidents/1/ack', { _csrf: other.csrf })).statusCode, 403, "one user's session with another user's CSRF token");
  // Cookie tossing: this session with another browser's CSRF cookie and that browser's token.
  const tossed = new WebClient(app);
  tossed.cookies.set('triage_session', c.cookies.get('triage_session')!);
  if (other.cookies.has('_csrf')) tossed.cookies.set('_csrf', other.cookies.get('_csrf')!);
  t.equal(
    (await tossed.post('/incidents/1/ack', { _csrf: other.csrf })).statusCode,
    403,
    "one session with another user's CSRF cookie and token",
  );
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.status, 'open', 'nothing changed');
  t.equal((await c.post('/sign-in', { name: 'x', token: 'test-api-token', _csrf: 'forged' })).statusCode, 403, 'sign-in is protected too');
  const ok = await c.post('/incidents/1/ack', {}, { origin: 'http://localhost:80' });
  t.equal(ok.statusCode, 303, 'the page itself may');
});

t.test('CSRF: a token from before sign-in is refused after it (it was bound to the pre-session cookie)', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.get('/sign-in');
  const before = c.csrf;
  t.ok(before, 'the sign-in form has a token');
  t.equal((await c.post('/sign-in', { name: 'Carol Diaz', token: 'test-api-token', next: '/incidents' })).statusCode, 303);
  const stale = await c.post('/incidents/1/ack', { _csrf: before });
  t.equal(stale.statusCode, 403, 'the token from before sign-in');
  t.match(stale.body, /did not come from this site/);
  await c.get('/incidents/1');
  t.not(c.csrf, before, 'a new token once signed in');
  t.equal((await c.post('/incidents/1/ack', {})).statusCode, 303, "the session's own token");
});

t.test('security headers: a CSP without inline script or style, nosniff, same-origin referrer; HSTS only over https', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  const res = await c.get('/incidents/1');
  const page = res.body;
  t.equal(res.headers['content-security-policy']?.includes("script-src 'self'"), true);
  t.notOk(/<script(?![^>]*src=)/.test(page), 'no inline script');
  t.notOk(/\sstyle=/.test(page), 'no inline style');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['referrer-policy'], 'same-origin', 'incident URLs do not leak to the links');
  t.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain http');
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: 'Bearer test-api-token' } })).headers[
      'content-security-policy'
    ],
    undefined,
    'the API is not in the pages’ scope',
  );

  const secure = await makeApp(t, { config: { channels: { publicUrl: 'https://triage.example.com' } } });
  const s = new WebClient(secure.app, { origin: 'https://triage.example.com' });
  t.match((await s.get('/sign-in')).headers['strict-transport-security'], /max-age=/);
});

t.test('bodies: forms up to 512 KiB, no JSON at all; a large body is refused before it is read, also before sign-in', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  await c.get('/incidents/1');
  const big = await c.post('/incidents/1/notes', { text: 'x'.repeat(600 * 1024) });
  t.equal(big.statusCode, 413, 'a form over 512 KiB');
  t.match(big.body, /larger than 512 KiB/);
  // 8 MiB of JSON to the unauthenticated sign-in: refused by its Content-Length, unparsed.
  const json = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(8 * 1024 * 1024), token: 'y' }),
  });
  t.equal(json.statusCode, 413, 'a large JSON sign-in');
  const small = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x', token: 'y' }),
  });
  t.equal(small.statusCode, 415, 'the pages take no JSON at all');
  t.match(small.body, /take forms only/);
  const chunked = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
    payload: Readable.from([Buffer.alloc(600 * 1024, 'a')]),
  });
  t.equal(chunked.statusCode, 413, 'a chunked form without a length stops at 512 KiB');
  t.equal((await api(app, 'POST', '/api/incidents/1/ack', { by: 'x' })).status, 200, 'the API still takes JSON');
});
