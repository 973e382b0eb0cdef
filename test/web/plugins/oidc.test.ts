import { createServer, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { chromium } from 'playwright-core';
import { systemClock } from '../../../src/clock.js';
import type { PeopleConfig } from '../../../src/people/people-config.js';
import { startOidcProvider, type FakeUser } from '../../fakes/oidc-provider.js';
import { alert, api, capturedLog, makeApp, payload, postWebhook, shippedConfig, uniqueGroup } from '../../helpers.js';
import { needs } from '../../monitoring/tools.js';

// OpenID Connect sign-in against a real provider (oidc-provider in a child process), through the
// whole redirect flow: by fetch here for each case, and in real Chromium for the walk a responder
// takes from a Slack link.

// Four providers and a browser: on a busy machine this takes longer than the default 120 s.
t.setTimeout(400_000);

const USERS: FakeUser[] = [
  { id: 'carol', email: 'Carol@Example.com', name: 'Carol (IdP)' },
  { id: 'eve', email: 'eve@example.org', name: 'Eve Stranger' },
  { id: 'sam', email: 'sam@example.org', name: 'Sam Admin', groups: ['sre-admins'] },
  { id: 'una', email: 'una@example.org', name: 'Una Verified', emailVerified: false },
];
const CLIENT = { clientId: 'alert-triage', clientSecret: 'fake-client-secret-0123456789' };

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** The app with OIDC sign-in in front of a real provider, listening on PUBLIC_URL. */
async function oidcApp(t: Test, people: Partial<PeopleConfig> = {}, oidc: { endSession?: boolean } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({
    ...CLIENT,
    redirectUri: `${base}/auth/callback`,
    postLogoutRedirectUri: `${base}/sign-in`,
    users: USERS,
  });
  t.teardown(() => provider.stop());
  const log = capturedLog();
  const triage = { ...shippedConfig, people: { ...shippedConfig.people, groups: { 'sre-admins': 'admin' as const }, ...people } };
  const ctx = await makeApp(t, {
    clock: systemClock,
    logger: log.logger,
    config: {
      triage,
      channels: { publicUrl: base },
      web: {
        sessionSecret: 'o'.repeat(32),
        auth: { mode: 'form' },
        tokenForm: false,
        oidc: { issuer: provider.issuer, ...CLIENT, scopes: 'openid email profile groups', allowInsecureIssuer: true, ...oidc },
      },
    },
  });
  await ctx.app.listen({ port, host: '127.0.0.1' });
  await postWebhook(ctx.app, payload(uniqueGroup(), [alert('ServiceDown', { startsAt: new Date().toISOString() })]));
  return { ...ctx, base, provider, log };
}

/** A browser made of fetch: one cookie jar, redirects followed by hand. */
function fetchBrowser(jar = new Map<string, string>()) {
  return async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
}

/**
 * Signs in through the provider with a fetch browser, its forms filled in; `askedToSignIn` says
 * whether the provider asked for the login (no provider session) or let the browser straight through.
 */
async function signInByFetch(base: string, login: string, next = '/incidents/1', jar = new Map<string, string>()) {
  const send = fetchBrowser(jar);
  let askedToSignIn = false;
  let res = await send(`${base}/auth/sign-in?next=${encodeURIComponent(next)}`);
  let url = `${base}/auth/sign-in`;
  for (let hops = 0; hops < 20; hops++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      res = await send(url);
      continue;
    }
    const body = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(body);
    if (res.status !== 200 || !form || url.startsWith(base)) return { res, body, url, jar, askedToSignIn };
    const fields = new URLSearchParams();
    for (const m of body.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(m[1]!, m[2]!);
    if (/name="login"/.test(body)) {
      askedToSignIn = true;
      fields.set('login', login);
      fields.set('password', 'any');
    }
    url = new URL(form[1]!, url).href;
    res = await send(url, { method: 'POST', body: fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
  throw new Error('the sign-in never ended');
}

t.test('a contact signs in through the provider: matched by verified e-mail, kept next, their own name', async (t) => {
  const { base, log } = await oidcApp(t);
  const { res, url, jar } = await signInByFetch(base, 'carol');
  t.equal(url, `${base}/incidents/1`, 'landed on the page asked for');
  t.equal(res.status, 200);
  const body = await res.text().catch(() => '');
  void body;
  t.ok(jar.has('triage_session'));
  const me = await fetch(`${base}/me`, { headers: { cookie: `triage_session=${jar.get('triage_session')}` } });
  const text = await me.text();
  t.match(text, '<h1>Carol Diaz</h1>', 'the contact’s name, matched case-insensitively by e-mail');
  t.match(text, 'your identity provider');
  t.ok(
    log.lines().some((l) => l['audit'] === 'sign-in' && l['person'] === 'carol' && l['via'] === 'oidc'),
    'the sign-in is an audit line naming the person',
  );
});

t.test('someone the config does not know: no role by default, a role from a mapped group, or refused when configured', async (t) => {
  const { base } = await oidcApp(t);
  const eve = await signInByFetch(base, 'eve');
  t.equal(eve.res.status, 403, 'signed in, but no role to read incidents');
  t.match(eve.body, /This needs the viewer role \(read incidents\); Eve Stranger has no role/);
  const sam = await signInByFetch(base, 'sam');
  t.equal(sam.res.status, 200, 'the sre-admins group maps to admin');
  // Sam's personal token keeps no group: its role comes from the config alone (Sam is no contact).
  const cookie = [...sam.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const me = await (await fetch(`${base}/me`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(me)![1]!;
  const made = await fetch(`${base}/me/tokens`, {
    method: 'POST',
    headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ label: 'cli', _csrf: csrf }),
  });
  const token = /<code class="secret">(tri_[^<]+)<\/code>/.exec(await made.text())?.[1];
  t.ok(token, 'Sam, an admin by group, makes a token');
  const who = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  t.not(((await who.json()) as { role?: string }).role, 'admin', 'the token is not an admin: groups read at sign-in do not outlive it');
  const una = await signInByFetch(base, 'una');
  t.equal(una.res.status, 403);
  t.match(una.body, /says una@example.org is not verified/);
  t.notOk(una.jar.has('triage_session'), 'no session');

  const strict = await oidcApp(t, { unknown: 'refuse' });
  const refused = await signInByFetch(strict.base, 'eve');
  t.equal(refused.res.status, 403);
  t.match(refused.body, /eve@example.org is not a contact in this service&#39;s config, and it lets no one else in/);
  t.notOk(refused.jar.has('triage_session'));
});

t.test('a callback without the flow’s cookie, or with a state that is not its own, signs nobody in', async (t) => {
  const { base } = await oidcApp(t);
  const bare = await fetch(`${base}/auth/callback?code=abc&state=xyz`, { redirect: 'manual' });
  t.equal(bare.status, 400);
  t.match(await bare.text(), /began in another browser/);
  // A real flow's cookie with another state (an attacker's callback URL replayed into a victim's browser).
  const start = await fetch(`${base}/auth/sign-in`, { redirect: 'manual' });
  const flow = start.headers
    .getSetCookie()
    .find((c) => c.startsWith('triage_oidc='))!
    .split(';')[0]!;
  const forged = await fetch(`${base}/auth/callback?code=abc&state=not-the-state`, { redirect: 'manual', headers: { cookie: flow } });
  t.equal(forged.status, 401);
  t.match(await forged.text(), /could not be verified, so nobody is signed in/);
  t.notOk(forged.headers.getSetCookie().some((c) => c.startsWith('triage_session=') && !/max-age=0/i.test(c)));
});

t.test(
  'sign-out ends the provider’s session too (RP-initiated logout): the next sign-in asks again; OIDC_END_SESSION=off keeps it',
  async (t) => {
    const { base, provider, log } = await oidcApp(t);
    const jar = new Map<string, string>();
    const first = await signInByFetch(base, 'carol', '/incidents/1', jar);
    t.ok(first.askedToSignIn);
    const send = fetchBrowser(jar);
    const me = await (await send(`${base}/me`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(me)![1]!;
    const session = jar.get('triage_session')!;
    const out = await send(`${base}/sign-out`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    t.equal(out.status, 303);
    const to = new URL(out.headers.get('location')!);
    const metadata = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as {
      end_session_endpoint: string;
    };
    t.equal(`${to.origin}${to.pathname}`, metadata.end_session_endpoint, 'to the provider’s end_session_endpoint');
    t.equal(to.searchParams.get('post_logout_redirect_uri'), `${base}/sign-in`);
    t.equal(to.searchParams.get('client_id'), CLIENT.clientId);
    t.match(to.searchParams.get('id_token_hint'), /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the session’s ID token as the hint');
    const replay = await fetch(`${base}/incidents/1`, { redirect: 'manual', headers: { cookie: `triage_session=${session}` } });
    t.equal(replay.status, 303, 'the session here ended before the browser left for the provider');
    t.notOk(
      log.lines().some((l) => JSON.stringify(l).includes(to.searchParams.get('id_token_hint')!)),
      'the ID token is never logged',
    );

    // The provider asks "Do you want to sign-out?"; yes sends the browser back to the sign-in page.
    const prompt = await send(to.href);
    const body = await prompt.text();
    t.match(body, /Do you want to sign-out/);
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(body)!;
    const confirmed = await send(new URL(action[1]!, to).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: action[2]!, logout: 'yes' }),
    });
    t.equal(confirmed.status, 303);
    t.equal(confirmed.headers.get('location'), `${base}/sign-in`, 'back to the sign-in page');
    const again = await signInByFetch(base, 'carol', '/incidents/1', jar);
    t.equal(again.res.status, 200);
    t.ok(again.askedToSignIn, 'the provider’s session ended too: the next sign-in asks for the login again');

    // Turned off: sign-out ends the session here only, the provider's stays and lets the next one straight in.
    const local = await oidcApp(t, {}, { endSession: false });
    const localJar = new Map<string, string>();
    await signInByFetch(local.base, 'carol', '/incidents/1', localJar);
    const rows = await local.store.listSessions('carol', Date.now());
    t.same(
      rows.map((r) => r.idToken),
      [null],
      'no ID token kept when it will not be used',
    );
    const localSend = fetchBrowser(localJar);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await localSend(`${local.base}/me`)).text())![1]!;
    const localOut = await localSend(`${local.base}/sign-out`, {
      method: 'POST',
      headers: { origin: local.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token }),
    });
    t.equal(localOut.headers.get('location'), '/sign-in', 'signed out here only');
    t.notOk(localJar.has('triage_session'));
    const straight = await signInByFetch(local.base, 'carol', '/incidents/1', localJar);
    t.equal(straight.res.status, 200);
    t.notOk(straight.askedToSignIn, 'the provider still had a session: nobody was asked');
  },
);

const skip = needs('/usr/bin/chromium', 'chromium');

t.test(
  'in Chromium: from a Slack link through the provider to the incident, acknowledge, sign out here and at the provider; the old cookie is refused',
  { skip },
  async (t) => {
    const { app, base } = await oidcApp(t);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    t.teardown(() => browser.close());
    const page = await (await browser.newContext({ viewport: { width: 375, height: 800 } })).newPage();
    await page.goto(`${base}/incidents/1`);
    t.match(new URL(page.url()).pathname, '/sign-in', 'a link from Slack asks for sign-in');
    await page.screenshot({ path: '/tmp/people-sign-in-375.png', fullPage: true });
    await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
    await page.locator('input[name=login]').fill('carol');
    await page.locator('input[name=password]').fill('any');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${base}/incidents/1`);
    t.equal(new URL(page.url()).pathname, '/incidents/1', 'next kept through the provider');
    t.match(await page.locator('nav .who').textContent(), 'Signed in as Carol Diaz');
    await page.getByRole('button', { name: 'Acknowledge' }).first().click();
    await page.waitForURL(`${base}/incidents/1`);
    const incident = (await api(app, 'GET', '/api/incidents/1')).body;
    t.match(
      incident.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
      { actor: 'carol', by: 'Carol Diaz', via: 'web' },
      'the timeline names the contact',
    );
    await page.goto(`${base}/me`);
    await page.screenshot({ path: '/tmp/people-me-375.png', fullPage: true });
    const old = (await page.context().cookies()).find((c) => c.name === 'triage_session')!.value;
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider asks whether to sign out there too (oidc-provider's prompt), then sends the browser back.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${base}/sign-in`);
    const replay = await fetch(`${base}/incidents/1`, { redirect: 'manual', headers: { cookie: `triage_session=${old}` } });
    t.equal(replay.status, 303, 'the cookie from before sign-out is refused');
    t.match(replay.headers.get('location'), /^\/sign-in/);
    await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
    await page.locator('input[name=login]').waitFor();
    t.pass('the next sign-in asks for the login again: the provider’s session ended too');
  },
);
