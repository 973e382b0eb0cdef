import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';
import { cookieBase, servedOverHttps, type WebRoutesOptions } from '../web-options.js';

/**
 * Cookies, form bodies, security headers (CSP with no inline script or style) and the two checks
 * of every state-changing request: its origin, then its form's CSRF token. They apply to the
 * pages' whole scope (hence fastify-plugin) and to nothing else: the API keeps its bearer tokens.
 */
async function security(app: FastifyInstance, opts: WebRoutesOptions) {
  const https = servedOverHttps(opts);
  const ownOrigin = opts.publicUrl ? new URL(opts.publicUrl).origin : undefined;

  await app.register(cookie, { secret: opts.sessionSecret });
  // Room for three 10,000-character review fields even when every character is percent-encoded UTF-8.
  await app.register(formbody, { bodyLimit: 512 * 1024 });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: cookieBase(opts),
    getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf,
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // HSTS over plain HTTP means nothing, and on a trial at http://localhost it would only confuse.
    hsts: https,
    // Not no-referrer: under it Chromium sends `Origin: null` with the pages' own form posts, which
    // the origin check must refuse. same-origin still tells other sites (a generatorURL) nothing.
    referrerPolicy: { policy: 'same-origin' },
  });

  // A state-changing request from another origin is refused first, before anything else (the
  // session plugin's hooks come after these): a browser always says where a form came from, and a
  // cross-site post may not even carry the session cookie.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    const expected = ownOrigin ?? `${req.protocol}://${req.headers.host}`;
    if ((origin !== undefined && origin !== expected) || req.headers['sec-fetch-site'] === 'cross-site') {
      req.log.warn({ origin }, 'state-changing request from another origin refused');
      return reply.send(Object.assign(new Error('request from another origin'), { statusCode: 403 }));
    }
  });

  // Then every state-changing request needs the CSRF token of its form (checked after the body is
  // parsed, where the token is): a request without a browser's Origin header needs it all the same.
  app.addHook('preValidation', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    await new Promise<void>((resolve) => app.csrfProtection(req, reply, () => resolve()));
    // csrfProtection answered 403 itself when the token is wrong; the handler must not run then.
    if (reply.sent) return reply;
  });
}

export default fp(security, { name: 'web-security', fastify: '5.x' });
