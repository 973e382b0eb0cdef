import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/load-config.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireRole } from '../http/acting-person.js';
import type { LiveConfig } from '../service/live-config.js';

/** What the reload route needs. */
export interface ReloadRouteOptions {
  config: LiveConfig;
  /** Sets `req.person` from the bearer token, or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/**
 * POST /-/reload (Prometheus' and Alertmanager's convention, an admin's bearer token, no body): re-reads
 * and validates the config file. A valid file applies to the next decision (200); an invalid one
 * is refused with the file and key at fault (400) and the running config is kept.
 */
export async function reloadRoute(app: FastifyInstance, opts: ReloadRouteOptions) {
  app.post('/-/reload', { onRequest: opts.auth, preHandler: requireRole('admin') }, async (req, reply) => {
    try {
      const c = opts.config.reload();
      req.log.info(
        { audit: 'admin', action: 'reload', person: req.person?.key, config: c.file, teams: c.paging.teams.length },
        'config reloaded',
      );
      return { status: 'reloaded', config: c.file, rules: c.classification.rules.length, teams: c.paging.teams.map((t) => t.id) };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      req.log.error({ reason: err.message }, 'config reload refused; the running config is kept');
      return reply.code(400).send({ error: 'Bad Request', message: `reload refused, running config kept: ${err.message}` });
    }
  });
}
