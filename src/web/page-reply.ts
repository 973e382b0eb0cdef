import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageContext } from './views/layout.js';
import type { WebRoutesOptions } from './web-options.js';

// How every plugin answers with a page.

/** Sends a rendered page: HTML, never cached (it shows who is signed in and a CSRF token). */
export const sendHtml = (reply: FastifyReply, body: string, code = 200) =>
  reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

/** What a page rendered for this request shares: the viewer (set by the session plugin), a fresh CSRF token, the time. */
export const pageContext = (req: FastifyRequest, reply: FastifyReply, opts: Pick<WebRoutesOptions, 'clock' | 'auth'>): PageContext => ({
  viewer: req.viewer,
  person: req.person,
  csrf: reply.generateCsrf(),
  now: opts.clock.now(),
  canSignOut: opts.auth.mode === 'form',
});
