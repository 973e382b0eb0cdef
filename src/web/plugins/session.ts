import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authorizationMatches } from '../../http/auth.js';
import { localPath } from '../local-path.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { SignInBody, SignInQuerystring } from '../schemas.js';
import { decodeSession, encodeSession, trustedProxies, viewerFor, type Viewer } from '../session.js';
import { errorPage } from '../views/error-page.js';
import { signInPage } from '../views/sign-in.js';
import { cookieBase, type WebRoutesOptions } from '../web-options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is signed in on the incident pages; set by the web session plugin, undefined elsewhere. */
    viewer: Viewer | undefined;
  }
}

const SESSION_COOKIE = 'triage_session';
const DEFAULT_TTL = 12 * 3600_000;

/**
 * Who is there: `req.viewer`, from the signed session cookie or the authenticating proxy's header,
 * for every request of the pages' scope (hence fastify-plugin); a page without one redirects to
 * sign-in. Plus the sign-in form and sign-out.
 */
const session: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { clock } = opts;
  const ttl = opts.sessionTtlMs ?? DEFAULT_TTL;
  const trusted = opts.auth.mode === 'proxy' ? trustedProxies(opts.auth.trusted) : () => false;
  const contacts = () => opts.settings().paging.contacts;

  function identify(req: FastifyRequest): Viewer | undefined {
    if (opts.auth.mode === 'proxy') {
      // The header is believed only from the proxy: anyone else could simply send it.
      if (!trusted(req.socket.remoteAddress)) return undefined;
      const value = req.headers[opts.auth.header.toLowerCase()];
      const who = (Array.isArray(value) ? value[0] : value)?.trim();
      return who ? viewerFor(contacts(), who) : undefined;
    }
    const raw = req.cookies[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = req.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null ? decodeSession(unsigned.value, clock.now()) : undefined;
  }

  app.decorateRequest('viewer', undefined);

  // The pages need someone, except sign-in and the assets (the icon included).
  app.addHook('onRequest', async (req, reply) => {
    req.viewer = identify(req);
    const path = req.url.split('?')[0]!;
    if (req.viewer || path === '/sign-in' || path === '/favicon.ico' || path.startsWith('/static/')) return;
    const next = req.method === 'GET' ? req.url : '/incidents';
    return reply.redirect(`/sign-in?next=${encodeURIComponent(next)}`, 303);
  });

  app.get('/sign-in', { schema: { querystring: SignInQuerystring } }, async (req, reply) => {
    if (req.viewer) return reply.redirect(localPath(req.query.next), 303);
    return sendHtml(
      reply,
      signInPage(pageContext(req, reply, opts), {
        proxy: opts.auth.mode === 'proxy',
        next: localPath(req.query.next),
        openTrial: opts.apiToken === undefined,
      }),
    );
  });

  app.post('/sign-in', { schema: { body: SignInBody } }, async (req, reply) => {
    if (opts.auth.mode === 'proxy')
      return sendHtml(reply, errorPage(pageContext(req, reply, opts), 400, 'Sign in through the authenticating proxy.'), 400);
    const name = req.body.name.trim();
    const next = localPath(req.body.next);
    // The same constant-time check as the API's bearer token.
    const tokenOk = opts.apiToken === undefined || authorizationMatches(`Bearer ${req.body.token}`, opts.apiToken, false);
    if (!name || !tokenOk) {
      req.log.warn({ name }, 'web sign-in refused');
      const error = name ? 'Wrong API token: nobody is signed in.' : 'Your name is required.';
      return sendHtml(
        reply,
        signInPage(pageContext(req, reply, opts), { proxy: false, next, error, name, openTrial: opts.apiToken === undefined }),
        401,
      );
    }
    const viewer = viewerFor(contacts(), name);
    reply.setCookie(SESSION_COOKIE, encodeSession(viewer, clock.now() + ttl), { ...cookieBase(opts), maxAge: Math.floor(ttl / 1000) });
    req.log.info({ name: viewer.name, contact: viewer.contact }, 'signed in on the web');
    return reply.redirect(next, 303);
  });

  app.post('/sign-out', async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });
};

export default fp(session, { name: 'web-session', fastify: '5.x', dependencies: ['web-security'] });
