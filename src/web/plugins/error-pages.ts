import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorHandler } from '../../http/error-handler.js';
import { TransitionConflict } from '../../incidents/incident-machine.js';
import { sendHtml } from '../page-reply.js';
import { errorPage } from '../views/error-page.js';
import type { WebRoutesOptions } from '../web-options.js';

/**
 * One error handler for the pages: a person gets a page that says what went wrong, not JSON. Set
 * on the pages' scope (hence fastify-plugin), before any of their routes is added.
 */
async function errorPages(app: FastifyInstance, opts: WebRoutesOptions) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err instanceof TransitionConflict ? 409 : (err.statusCode ?? (err.validation ? 400 : 500));
    if (status >= 500 || status < 400) return errorHandler(err, req, reply);
    const message =
      status === 415
        ? 'The pages take forms only (application/x-www-form-urlencoded); the API is at /api.'
        : status === 413
          ? 'The form is larger than 512 KiB.'
          : err.message;
    return sendHtml(reply, errorPage({ viewer: req.viewer, csrf: '', now: opts.clock.now(), canSignOut: false }, status, message), status);
  });
}

export default fp(errorPages, { name: 'web-error-pages', fastify: '5.x' });
