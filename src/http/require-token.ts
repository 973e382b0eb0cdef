import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizationMatches } from './auth.js';

/**
 * An onRequest hook that answers 401 unless the Authorization header carries `token`. Runs
 * before the body is read. Without a token configured everything passes (local trial; the
 * server warns loudly at startup). Tokens are never read from the URL.
 */
export function requireToken(token: string | undefined, realm: string, allowBasic: boolean) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (token === undefined) return;
    if (authorizationMatches(req.headers.authorization, token, allowBasic)) return;
    reply.header('www-authenticate', `Bearer realm="${realm}"`);
    return reply.code(401).send({ error: 'Unauthorized', message: `missing or wrong credentials for ${realm}` });
  };
}
