import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';
import { servedOverHttps, type WebRoutesOptions } from '../web-options.js';

/** The largest form body the pages take. */
export const FORM_LIMIT = 512 * 1024;

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
  await app.register(formbody, { bodyLimit: FORM_LIMIT });
  // The pages take forms only: JSON and plain text (which the root would parse up to server.bodyLimit, 10 MiB, on
  // the main thread, before sign-in too) is refused here without reading it.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        // Sign-out (a form) is redirected to the identity provider's end_session_endpoint, which
        // Chromium checks against form-action: the provider's origin is allowed too.
        'form-action': ["'self'", ...(opts.oidc ? [new URL(opts.oidc.issuer).origin] : [])],
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
    // A body announced larger than any form is refused before a byte of it is read.
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > FORM_LIMIT) {
      req.log.warn({ length }, 'web request body too large');
      return reply.send(Object.assign(new Error('The form is larger than 512 KiB.'), { statusCode: 413 }));
    }
    const origin = req.headers.origin;
    const expected = ownOrigin ?? `${req.protocol}://${req.headers.host}`;
    if ((origin !== undefined && origin !== expected) || req.headers['sec-fetch-site'] === 'cross-site') {
      req.log.warn({ origin }, 'state-changing request from another origin refused');
      return reply.send(Object.assign(new Error('request from another origin'), { statusCode: 403 }));
    }
  });

  // Then every state-changing request needs the CSRF token of its form, bound to its session: the
  // session plugin checks it (src/web/csrf.ts), after the body is parsed.
}

export default fp(security, { name: 'web-security', fastify: '5.x' });
