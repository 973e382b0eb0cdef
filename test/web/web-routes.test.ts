import t from 'tap';
import { alert, api, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { WebClient } from './web-client.js';

async function seeded(t: Parameters<typeof makeApp>[0], config: Parameters<typeof makeApp>[1] = {}) {
  const ctx = await makeApp(t, config);
  for (const name of ['DDoSAttack', 'ServiceDown', 'SlowAPI']) await postWebhook(ctx.app, payload(uniqueGroup(), [alert(name)]));
  return ctx;
}

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
  for (const text of ['<label for="name">Your name</label>', '<label for="token">API token</label>', '<button type="submit">Sign in</button>']) t.ok(form.body.includes(text), text);
  const home = await c.signIn();
  t.equal(home.statusCode, 303);
  t.equal(home.headers.location, '/incidents');
  t.equal((await c.get('/')).headers.location, '/incidents');
});

t.test('the session cookie: HttpOnly, SameSite=Lax, signed; Secure when PUBLIC_URL is https; sign-out ends it', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  const res = await c.signIn();
  const cookie = (res.cookies as { name: string; httpOnly?: boolean; sameSite?: string; secure?: boolean; value: string }[]).find((k) => k.name === 'triage_session')!;
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
  t.ok((signed.cookies as { name: string; secure?: boolean }[]).every((k) => k.secure), 'Secure with an https PUBLIC_URL');
});

t.test('a wrong token shows an error and signs nobody in; next= only goes to a local path', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  const res = await c.signIn('Carol Diaz', 'wrong');
  t.equal(res.statusCode, 401);
  t.match(res.body, /Wrong API token: nobody is signed in/);
  t.notOk(c.cookies.has('triage_session'));
  t.notOk(res.body.includes('test-api-token'), 'no secret in the page');
  await c.get('/sign-in');
  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example']) {
    const r = await c.post('/sign-in', { name: 'x', token: 'test-api-token', next });
    t.equal(r.headers.location, '/incidents', `${next} is not followed`);
  }
});

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
  // Another browser's session replayed without its CSRF cookie.
  const attacker = new WebClient(app);
  attacker.cookies.set('triage_session', c.cookies.get('triage_session')!);
  t.equal((await attacker.post('/incidents/1/ack', { _csrf: c.csrf })).statusCode, 403);
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.status, 'open', 'nothing changed');
  t.equal((await c.post('/sign-in', { name: 'x', token: 'test-api-token', _csrf: 'forged' })).statusCode, 403, 'sign-in is protected too');
  const ok = await c.post('/incidents/1/ack', {}, { origin: 'http://localhost:80' });
  t.equal(ok.statusCode, 303, 'the page itself may');
});

t.test('acknowledge, resolve, note, checklist and review act as the signed-in user', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn('carol@example.com');
  await c.get('/incidents/1');
  t.equal((await c.post('/incidents/1/ack', {})).headers.location, '/incidents/1');
  t.equal((await c.post('/incidents/1/notes', { text: 'logs saved' })).headers.location, '/incidents/1#notes');
  t.equal((await c.post('/incidents/1/checklist', { step: 'PRESERVE: save all logs before anything else changes', done: 'on' })).statusCode, 303);
  t.equal((await c.post('/incidents/1/checklist', { step: 'PRESERVE: save all logs before anything else changes' })).statusCode, 303, 'untick');
  t.equal((await c.post('/incidents/1/checklist', { step: 'ASSESS: what was accessed, since when, and who is affected', problem: 'on', note: 'no access logs' })).statusCode, 303);
  t.equal((await c.post('/incidents/1/review', { rootCause: 'expired cert\r\nsecond line', impact: 'checkout down 20 min', prevention: 'alert on expiry' })).statusCode, 303);
  t.equal((await c.post('/incidents/1/review', { rootCause: 'expired cert\r\nsecond line', impact: 'checkout down 20 min', prevention: 'alert on expiry' })).statusCode, 303, 'the same again');
  t.equal((await c.post('/incidents/1/resolve', {})).statusCode, 303);
  const i = (await api(app, 'GET', '/api/incidents/1')).body;
  t.equal(i.acknowledgedBy, 'Carol Diaz');
  const mine = i.timeline.filter((e: { actor: string }) => e.actor === 'carol');
  t.same(
    mine.map((e: { kind: string; via?: string; state?: string }) => [e.kind, e.via ?? e.state ?? '']),
    [['acknowledged', 'web'], ['note', ''], ['checklist', 'done'], ['checklist', 'undone'], ['checklist', 'problem'], ['review', ''], ['resolved', 'web']],
    'every action is recorded with the contact as actor; saving the same review twice records it once',
  );
  t.match(mine[4], { note: 'no access logs', detail: 'Problem: ASSESS: what was accessed, since when, and who is affected: no access logs' });
  t.match(mine[5], { rootCause: 'expired cert\nsecond line' });

  const page = (await c.get('/incidents/1')).body;
  t.match(page, /logs saved/);
  t.match(page, /⚠️ problem by carol/);
  t.match(page, /<textarea id="root-cause" name="rootCause"[^>]*>expired cert\nsecond line<\/textarea>/);
  t.notOk(page.includes('>Acknowledge</button>'), 'no Acknowledge once resolved');

  const report = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: 'Bearer test-api-token' } });
  t.match(report.body, /### Root Cause\nexpired cert\nsecond line/);
  t.match(report.body, /### Impact\ncheckout down 20 min/);
  t.match(report.body, /### Prevention\nalert on expiry/);
  t.match(report.body, /⚠️ ASSESS: what was accessed, since when, and who is affected \(carol, [0-9: -]+UTC\): no access logs/);
  t.match(report.body, /- \[ \] PRESERVE: save all logs before anything else changes/);
});

t.test('bad input gets a clear 4xx', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  await c.get('/incidents/1');
  t.equal((await c.get('/incidents/999')).statusCode, 404);
  t.equal((await c.get('/incidents/abc')).statusCode, 400);
  t.equal((await c.get('/incidents?status=closed')).statusCode, 400);
  t.equal((await c.get('/incidents?page=0')).statusCode, 400);
  const notAStep = await c.post('/incidents/1/checklist', { step: 'Drop the database', done: 'on' });
  t.equal(notAStep.statusCode, 400);
  t.match(notAStep.body, /is not a step of this incident&#39;s checklist/);
  t.equal((await c.post('/incidents/1/checklist', { step: 'Root cause identified', problem: 'on' })).statusCode, 400, 'a problem needs a note');
  t.equal((await c.post('/incidents/1/notes', { text: '   ' })).statusCode, 400);
  t.equal((await c.post('/incidents/1/notes', { text: 'x'.repeat(5000) })).statusCode, 400);
  t.equal((await c.post('/incidents/999/ack', {})).statusCode, 404);
  t.equal((await c.post('/incidents/1/ack', { by: 'mallory' })).statusCode, 400, 'no free-text name');
  await c.post('/incidents/1/resolve', {});
  const conflict = await c.post('/incidents/1/ack', {});
  t.equal(conflict.statusCode, 409);
  t.match(conflict.headers['content-type'], /text\/html/);
});

t.test('the list: newest first, filters, pages, countdown or breached', async (t) => {
  const { app, clock } = await seeded(t);
  for (let n = 0; n < 52; n++) await postWebhook(app, payload(uniqueGroup(), [alert('SlowAPI')]));
  const c = new WebClient(app);
  await c.signIn();
  const first = (await c.get('/incidents')).body;
  t.equal(first.match(/<li class="incident/g)?.length, 50);
  t.match(first, /href="\/incidents\?page=2" rel="next">Older/);
  const second = (await c.get('/incidents?page=2')).body;
  t.same([...second.matchAll(/href="\/incidents\/(\d+)"/g)].map((m) => Number(m[1])), [5, 4, 3, 2, 1].filter((n) => n <= 5));
  t.match(second, /rel="prev">Newer/);
  const crit = (await c.get('/incidents?severity=critical&status=')).body;
  t.same([...crit.matchAll(/href="\/incidents\/(\d+)"/g)].map((m) => Number(m[1])), [1]);
  t.match(crit, /data-deadline="\d+">in 5m/);
  t.match(crit, /<option value="critical" selected>/);
  clock.advance(6 * 60_000);
  t.match((await c.get('/incidents?severity=critical')).body, /class="breached">breached/);
  const v1 = (await c.get('/incidents/live?severity=critical')).json().version;
  t.match((await c.get('/incidents?severity=critical')).body, `data-live-url="/incidents/live?severity=critical" data-live-version="${v1}"`, 'the page carries the version it shows');
  // A change between the render and the script's first poll: the poll's answer differs from the page's.
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  t.not((await c.get('/incidents/live?severity=critical')).json().version, v1, 'the list version moves with a change made elsewhere');
});

t.test('the incident page: deadline, paging, alerts, silence link, timeline, labelled fields and named buttons', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(
    app,
    payload(uniqueGroup(), [alert('DDoSAttack', { labels: { instance: 'lb:443', job: 'edge' }, annotations: { summary: 'Traffic spike', runbook_url: 'https://runbooks.example/ddos' } })], {
      externalURL: 'http://alertmanager:9093',
    }),
  );
  const c = new WebClient(app);
  await c.signIn();
  const res = await c.get('/incidents/1');
  t.equal(res.statusCode, 200);
  const page = res.body;
  t.match(page, /Critical <span class="muted">decided by rule critical-by-name/);
  t.match(page, /Respond by <time datetime="2026-11-23T22:13:00.000Z">2026-11-23 22:13 UTC<\/time>: <time class="countdown"/);
  t.match(page, /Who was paged/);
  t.match(page, /<dt>runbook_url<\/dt><dd><a href="https:\/\/runbooks.example\/ddos" rel="noopener noreferrer">/);
  t.match(page, /<a href="http:\/\/prometheus:9090\/graph" rel="noopener noreferrer">generator URL<\/a>/);
  const silence = /href="(http:\/\/alertmanager:9093\/#\/silences\/new\?filter=[^"]+)"/.exec(page)?.[1];
  t.ok(silence, 'a silence link');
  t.equal(decodeURIComponent(new URL(silence!.replace(/&amp;/g, '&')).hash.split('filter=')[1]!), '{alertname="DDoSAttack",instance="lb:443",job="edge"}');
  t.match(page, /Opened as critical by rule critical-by-name/);
  for (const text of ['>Acknowledge</button>', '>Resolve</button>', '>Add note</button>', '>Save</button>', '<label for="note">Note</label>', '<label for="root-cause">Root cause</label>', 'Immediate actions (first 5 minutes)', 'After any incident', 'STOP: take the affected systems offline']) {
    t.ok(page.includes(text), text);
  }
  // Every field has a visible label.
  const ids = [...page.matchAll(/<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
  const inputs = page.match(/<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*>/g)!;
  t.equal(ids.length, inputs.length, 'every field has an id');
  for (const id of ids) t.ok(page.includes(`<label for="${id}">`), `a label for ${id}`);

  t.equal(res.headers['content-security-policy']?.includes("script-src 'self'"), true);
  t.notOk(/<script(?![^>]*src=)/.test(page), 'no inline script');
  t.notOk(/\sstyle=/.test(page), 'no inline style');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['referrer-policy'], 'same-origin', 'incident URLs do not leak to the links');

  const v1 = (await c.get('/incidents/1/live')).json().version;
  t.equal((await c.get('/incidents/1/live')).json().version, v1, 'stable while nothing changes');
  t.match(page, `data-live-url="/incidents/1/live" data-live-version="${v1}"`, 'the page carries the version it shows');
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  t.not((await c.get('/incidents/1/live')).json().version, v1);
  t.equal((await c.get('/incidents/999/live')).statusCode, 404);
  const js = await c.get('/static/app.js');
  t.match(js.headers['content-type'], /javascript/);
});

t.test('hostile labels and annotations stay inert', async (t) => {
  const { app } = await makeApp(t);
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'';
  const a = alert('Breach', { labels: { service: evil, category: 'data-breach' }, annotations: { summary: evil, runbook_url: 'javascript:alert(3)', description: '<a href="javascript:alert(4)">x</a>' } });
  a.generatorURL = 'javascript:alert(5)';
  await postWebhook(app, payload(uniqueGroup(), [a], { externalURL: 'javascript:alert(6)//' }));
  const c = new WebClient(app);
  await c.signIn();
  for (const url of ['/incidents', '/incidents/1']) {
    const page = (await c.get(url)).body;
    t.notOk(page.includes('<script>alert'), `${url}: no script`);
    t.notOk(/<img/i.test(page), `${url}: no img`);
    t.notOk(/href="javascript:/i.test(page), `${url}: no javascript: link`);
    t.notOk(/\sonerror=/i.test(page.replace(/&lt;img src=x onerror=/g, '')), `${url}: no handler attribute`);
  }
  const page = (await c.get('/incidents/1')).body;
  t.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(page, /<code>javascript:alert\(5\)<\/code>/, 'the generator URL is shown as text');
  t.notOk(page.includes('Silence in Alertmanager'), 'no silence link to a javascript: externalURL');
});

t.test('behind an authenticating proxy: the header names the user, only from the proxy', async (t) => {
  const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1', '10.0.0.0/8'] } } as const;
  const { app } = await seeded(t, { config: { web } });
  const proxied = new WebClient(app, { 'x-forwarded-email': 'carol@example.com' });
  const page = await proxied.get('/incidents/1');
  t.equal(page.statusCode, 200, 'inject comes from 127.0.0.1, a trusted proxy');
  t.match(page.body, /Signed in as Carol Diaz/);
  t.notOk(page.body.includes('Sign out'), 'sign-out is the proxy’s');
  t.equal((await proxied.post('/incidents/1/ack', {})).statusCode, 303);
  t.match((await api(app, 'GET', '/api/incidents/1')).body.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'), { kind: 'acknowledged', actor: 'carol', by: 'Carol Diaz', via: 'web' });

  const stranger = new WebClient(app, { 'x-forwarded-email': 'eve@example.com' });
  t.match((await stranger.get('/incidents')).body, /Signed in as eve@example.com/, 'an e-mail that is no contact is its own name');
  t.equal((await new WebClient(app).get('/incidents')).statusCode, 303, 'no header: sign-in');
  t.match((await new WebClient(app).get('/sign-in')).body, /authenticating proxy/);

  const untrusted = await makeApp(t, { config: { web: { ...web, auth: { ...web.auth, trusted: ['10.1.2.3'] } } } });
  const spoof = new WebClient(untrusted.app, { 'x-forwarded-email': 'carol@example.com' });
  t.equal((await spoof.get('/incidents')).statusCode, 303, 'the header from anyone else is ignored');
});
