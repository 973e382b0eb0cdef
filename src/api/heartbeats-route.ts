import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { authorizationMatches } from '../http/auth.js';
import type { HeartbeatService } from '../service/heartbeat-service.js';

/** What the heartbeats route needs. */
export interface HeartbeatsRouteOptions {
  heartbeats: HeartbeatService;
  /** Each monitor's own token, by its variable's name (HEARTBEAT_TOKEN_<NAME>: heartbeatTokenVariable). */
  tokens: Readonly<Record<string, string>>;
}

/** The variable that holds a monitor's token: HEARTBEAT_TOKEN_ and its name in capitals, `-` as `_`. */
export function heartbeatTokenVariable(name: string): string {
  return `HEARTBEAT_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const Params = Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });

/**
 * POST /api/heartbeats/:name: a cron job's or a backup's "I ran", with that monitor's own token (a
 * job that can beat cannot read incidents). Each beat moves the monitor's deadline; a missed one
 * opens a pipeline-silent incident and the next beat resolves it.
 */
export const heartbeatsRoute: FastifyPluginAsyncTypebox<HeartbeatsRouteOptions> = async (app, opts) => {
  app.post('/heartbeats/:name', { schema: { params: Params } }, async (req, reply) => {
    const { name } = req.params;
    const token = opts.tokens[heartbeatTokenVariable(name)];
    if (token === undefined || !authorizationMatches(req.headers.authorization, token, false)) {
      reply.header('www-authenticate', `Bearer realm="heartbeat ${name}"`);
      return reply.code(401).send({
        error: 'Unauthorized',
        message:
          token === undefined
            ? `no token is set for heartbeat "${name}": set ${heartbeatTokenVariable(name)} in alert-triage's environment`
            : `missing or wrong token for heartbeat "${name}"`,
      });
    }
    const beat = await opts.heartbeats.monitorBeat(name);
    if (!beat)
      return reply.code(404).send({ error: 'Not Found', message: `no heartbeat monitor "${name}" in heartbeats.monitors of the config` });
    return { status: 'ok', name, deadline: new Date(beat.deadline).toISOString() };
  });
};
