import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import { assertRole } from '../../http/acting-person.js';
import { authorizationMatches } from '../../http/auth.js';
import { identityOfContact, personOf } from '../../people/people-config.js';
import type { Identity, Person, SignInMethod } from '../../people/person.js';
import { csrfMatches, csrfToken } from '../csrf.js';
import { localPath } from '../local-path.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { SignInBody, SignInQuerystring } from '../schemas.js';
import { matchContact, trustedProxies, type Viewer } from '../session.js';
import type { SessionRecord } from '../../store/store.js';
import { errorPage } from '../views/error-page.js';
import { signInPage } from '../views/sign-in.js';
import { cookieBase, type WebRoutesOptions } from '../web-options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is signed in on the incident pages (name and contact of `req.person`); kept for the views. */
    viewer: Viewer | undefined;
    /** The digest of this request's web session id, when it has one. */
    sessionHash: string | undefined;
    /** This request's web session as the store has it, when it has one. */
    webSession: SessionRecord | undefined;
  }
  interface FastifyReply {
    /** The CSRF token for this request's forms, bound to its session (or its pre-session cookie). */
    generateCsrf(): string;
  }
}

export const SESSION_COOKIE = 'triage_session';
/** A random value a browser holds before sign-in, which the sign-in form's CSRF token is bound to. */
const PRE_COOKIE = 'triage_pre';
const DEFAULT_TTL = 12 * 3600_000;

/** Paths open without a role: signing in and out, the assets, and one's own page. */
const OPEN = (path: string) => path === '/sign-in' || path === '/favicon.ico' || path.startsWith('/static/') || path.startsWith('/auth/');
const NO_ROLE_NEEDED = (path: string) => path === '/me' || path.startsWith('/me/') || path === '/sign-out';

export const sessionHashOf = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');

/**
 * Who is there: `req.person` (and `req.viewer`), from the session in the store that the cookie
 * names, or from the authenticating proxy's header, for every request of the pages' scope (hence
 * fastify-plugin). A page without anyone redirects to sign-in; one without the viewer role is a
 * 403 that says so. Then the CSRF check of every state-changing form, and the built-in sign-in
 * form and sign-out. `startSession` is what every way of signing in (OIDC too) ends with.
 */
const session: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { clock, store } = opts;
  const ttl = opts.sessionTtlMs ?? DEFAULT_TTL;
  const trusted = opts.auth.mode === 'proxy' ? trustedProxies(opts.auth.trusted) : () => false;
  const config = () => opts.settings();
  const person = (who: Identity, via: SignInMethod) => personOf(config().people, config().paging.contacts, who, via);
  const cookieOpts = cookieBase(opts);

  async function identify(req: FastifyRequest): Promise<Person | undefined> {
    if (opts.auth.mode === 'proxy') {
      // The header is believed only from the proxy: anyone else could simply send it.
      if (!trusted(req.socket.remoteAddress)) return undefined;
      const name = opts.auth.header.toLowerCase();
      // Node joins repeated headers with ", " into one value: two identities are refused, never joined.
      const count = req.raw.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === name).length;
      if (count > 1)
        throw Object.assign(new Error(`${opts.auth.header} was sent ${count} times: one identity per request.`), { statusCode: 400 });
      const who = req.headers[name];
      const value = (Array.isArray(who) ? undefined : who)?.trim();
      if (!value) return undefined;
      const contact = matchContact(config().paging.contacts, value);
      const identity: Identity = contact
        ? identityOfContact(contact)
        : { key: `email:${value.toLowerCase()}`, contact: null, name: value, email: value.includes('@') ? value : null, groups: [] };
      return person(identity, 'proxy');
    }
    const raw = req.cookies[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = req.unsignCookie(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    const hash = sessionHashOf(unsigned.value);
    const found = await store.getSession(hash, clock.now());
    if (!found) return undefined;
    req.sessionHash = hash;
    req.webSession = found;
    return person(found.person, found.via);
  }

  app.decorateRequest('viewer', undefined);
  app.decorateRequest('sessionHash', undefined);
  app.decorateRequest('webSession', undefined);

  const preValue = (req: FastifyRequest) => {
    const raw = req.cookies[PRE_COOKIE];
    const u = raw ? req.unsignCookie(raw) : undefined;
    return u?.valid ? (u.value ?? undefined) : undefined;
  };
  const binding = (req: FastifyRequest, pre: string | undefined) =>
    req.sessionHash ? `s:${req.sessionHash}` : req.person ? `p:${req.person.key}:${pre ?? ''}` : `a:${pre ?? ''}`;
  app.decorateReply('generateCsrf', function (this: FastifyReply) {
    const req = this.request;
    let pre = preValue(req);
    if (!req.sessionHash && !pre) {
      pre = randomBytes(18).toString('base64url');
      // Remembered on the request too, so that a second form on the same page gets the same token.
      req.cookies[PRE_COOKIE] = this.signCookie(pre);
      this.setCookie(PRE_COOKIE, pre, cookieOpts);
    }
    return csrfToken(opts.sessionSecret, binding(req, pre));
  });

  // The pages need someone with a role, except sign-in, the assets and one's own page.
  app.addHook('onRequest', async (req, reply) => {
    req.person = await identify(req);
    req.viewer = req.person ? { name: req.person.name, contact: req.person.contact ?? undefined } : undefined;
    const path = req.url.split('?')[0]!;
    if (OPEN(path)) return;
    if (!req.person) {
      const next = req.method === 'GET' ? req.url : '/incidents';
      return reply.redirect(`/sign-in?next=${encodeURIComponent(next)}`, 303);
    }
    if (!NO_ROLE_NEEDED(path)) assertRole(req, 'viewer');
  });

  // Every state-changing request needs its form's CSRF token (checked once the body is parsed).
  app.addHook('preValidation', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const presented = (req.body as { _csrf?: unknown } | undefined)?._csrf;
    if (!csrfMatches(opts.sessionSecret, binding(req, preValue(req)), typeof presented === 'string' ? presented : undefined)) {
      req.log.warn({ audit: 'csrf-refused', person: req.person?.key }, 'CSRF token refused');
      throw Object.assign(new Error('This form has expired or did not come from this site. Go back, reload the page and try again.'), {
        statusCode: 403,
      });
    }
  });

  /**
   * Signs `who` in: a new session in the store, its random id in the cookie. `idToken` is the
   * identity provider's, kept for sign-out at the provider (OpenID Connect only).
   */
  async function startSession(req: FastifyRequest, reply: FastifyReply, who: Identity, via: SignInMethod, idToken?: string): Promise<void> {
    if (req.sessionHash) await store.endSession(req.sessionHash);
    const id = randomBytes(32).toString('base64url');
    const now = clock.now();
    const ua = req.headers['user-agent'];
    await store.createSession({
      idHash: sessionHashOf(id),
      person: who,
      via,
      createdAt: now,
      expiresAt: now + ttl,
      userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null,
      idToken: idToken ?? null,
    });
    reply.setCookie(SESSION_COOKIE, id, { ...cookieOpts, maxAge: Math.floor(ttl / 1000) });
    reply.clearCookie(PRE_COOKIE, cookieOpts);
    const p = person(who, via);
    // A name typed into the form that is no contact is never logged: it may be a token typed in the wrong field.
    const logged = via === 'form' && p.contact === null ? '[a name that is no contact]' : p.key;
    req.log.info({ audit: 'sign-in', person: logged, contact: p.contact, role: p.role, via }, 'signed in');
  }
  app.decorate('startSession', startSession);

  const formEnabled = opts.auth.mode === 'form' && opts.tokenForm !== false;

  app.get('/sign-in', { schema: { querystring: SignInQuerystring } }, async (req, reply) => {
    if (req.person) return reply.redirect(localPath(req.query.next), 303);
    return sendHtml(
      reply,
      signInPage(pageContext(req, reply, opts), {
        proxy: opts.auth.mode === 'proxy',
        next: localPath(req.query.next),
        openTrial: opts.apiToken === undefined,
        oidc: opts.oidc !== undefined,
        form: formEnabled,
      }),
    );
  });

  const limited = (req: FastifyRequest, reply: FastifyReply, seconds: number, account: boolean) => {
    req.log.warn({ audit: 'sign-in-limited', address: req.ip, byAccount: account }, 'too many wrong sign-ins; answering 429');
    return sendHtml(
      reply.header('retry-after', String(seconds)),
      errorPage(pageContext(req, reply, opts), 429, `Too many wrong sign-ins. Try again in ${Math.ceil(seconds / 60)} minute(s).`),
      429,
    );
  };

  app.post('/sign-in', { schema: { body: SignInBody } }, async (req, reply) => {
    if (!formEnabled)
      return sendHtml(
        reply,
        errorPage(
          pageContext(req, reply, opts),
          400,
          opts.auth.mode === 'proxy'
            ? 'Sign in through the authenticating proxy.'
            : 'The shared-token sign-in is off here: sign in with your identity provider.',
        ),
        400,
      );
    const { signInByAddress, signInByAccount } = opts.limiters;
    const name = req.body.name.trim();
    // The account is counted by a digest of the name: a token typed into it is never held as text.
    const account = createHash('sha256').update(name.toLowerCase(), 'utf8').digest('hex');
    const wait = signInByAddress.retryAfter(req.ip);
    if (wait !== undefined) return limited(req, reply, wait, false);
    const waitAccount = signInByAccount.retryAfter(account);
    if (waitAccount !== undefined) return limited(req, reply, waitAccount, true);
    const next = localPath(req.body.next);
    // The same constant-time check as the API's bearer token.
    const tokenOk = opts.apiToken === undefined || authorizationMatches(`Bearer ${req.body.token}`, opts.apiToken, false);
    if (!name || !tokenOk) {
      if (name) {
        signInByAddress.fail(req.ip);
        signInByAccount.fail(account);
      }
      // Never the name: people type their token into the wrong field.
      req.log.warn(
        { audit: 'sign-in-refused', via: 'form', address: req.ip, reason: name ? 'wrong token' : 'no name' },
        'web sign-in refused',
      );
      const error = name ? 'Wrong API token: nobody is signed in.' : 'Your name is required.';
      return sendHtml(
        reply,
        signInPage(pageContext(req, reply, opts), {
          proxy: false,
          next,
          error,
          name,
          openTrial: opts.apiToken === undefined,
          oidc: opts.oidc !== undefined,
          form: true,
        }),
        401,
      );
    }
    signInByAccount.clear(account);
    const contact = matchContact(config().paging.contacts, name);
    const who: Identity = contact
      ? identityOfContact(contact)
      : { key: `name:${name.toLowerCase()}`, contact: null, name, email: null, groups: [] };
    await startSession(req, reply, who, 'form');
    return reply.redirect(next, 303);
  });

  /** Ends this request's session here (the row, then the cookie), whichever way it signed in; the session ended, if any. */
  async function endWebSession(req: FastifyRequest, reply: FastifyReply): Promise<SessionRecord | undefined> {
    const ended = req.webSession;
    if (req.sessionHash) await store.endSession(req.sessionHash);
    req.log.info({ audit: 'sign-out', person: req.person?.key }, 'signed out');
    reply.clearCookie(SESSION_COOKIE, cookieOpts);
    // Nobody is signed in for the rest of this request (a page it renders shows no one).
    req.person = undefined;
    req.viewer = undefined;
    req.sessionHash = undefined;
    req.webSession = undefined;
    return ended;
  }
  app.decorate('endWebSession', endWebSession);

  // With OpenID Connect, sign-out is the OIDC plugin's: it also ends the provider's session.
  if (!opts.oidc)
    app.post('/sign-out', async (req, reply) => {
      await endWebSession(req, reply);
      return reply.redirect('/sign-in', 303);
    });
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Signs a person in on the pages (a new session); every way of signing in ends with it. */
    startSession(req: FastifyRequest, reply: FastifyReply, who: Identity, via: SignInMethod, idToken?: string): Promise<void>;
    /** Signs this request's session out on the pages (the row and the cookie); the session ended, if any. */
    endWebSession(req: FastifyRequest, reply: FastifyReply): Promise<SessionRecord | undefined>;
  }
}

export default fp(session, { name: 'web-session', fastify: '5.x', dependencies: ['web-security'] });
