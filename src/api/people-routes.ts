import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Clock } from '../clock.js';
import { requireRole } from '../http/acting-person.js';
import type { PeopleStore } from '../store/store.js';

/** What the people API needs. */
export interface PeopleRoutesOptions {
  store: PeopleStore;
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  clock: Clock;
}

const PersonKey = Type.String({ minLength: 1, maxLength: 400 });

/**
 * /api/me: who the bearer token is (a CLI's first check). And an admin's: end all of a person's
 * sessions, list and revoke their personal tokens (a leaked one, or someone who left).
 */
export const peopleRoutes: FastifyPluginAsyncTypebox<PeopleRoutesOptions> = async (app, opts) => {
  const { store, clock } = opts;
  app.addHook('onRequest', opts.auth);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  app.get('/me', async (req) => {
    const p = req.person!;
    return { person: p.key, contact: p.contact, name: p.name, email: p.email, role: p.role, via: p.via };
  });

  app.get(
    '/people/:person/sessions',
    { schema: { params: Type.Object({ person: PersonKey }) }, preHandler: requireRole('admin') },
    async (req) => ({
      sessions: (await store.listSessions(req.params.person, clock.now())).map((s) => ({
        via: s.via,
        createdAt: iso(s.createdAt),
        expiresAt: iso(s.expiresAt),
        userAgent: s.userAgent,
      })),
    }),
  );

  app.delete(
    '/people/:person/sessions',
    { schema: { params: Type.Object({ person: PersonKey }) }, preHandler: requireRole('admin') },
    async (req) => {
      const ended = await store.endSessionsOf(req.params.person);
      req.log.warn(
        { audit: 'admin', action: 'end-sessions', person: req.person!.key, of: req.params.person, ended },
        "ended a person's sessions",
      );
      return { ended };
    },
  );

  app.get(
    '/people/:person/tokens',
    { schema: { params: Type.Object({ person: PersonKey }) }, preHandler: requireRole('admin') },
    async (req) => ({
      tokens: (await store.listApiTokens(req.params.person)).map((t) => ({
        id: t.id,
        prefix: t.prefix,
        label: t.label,
        createdAt: iso(t.createdAt),
        lastUsedAt: iso(t.lastUsedAt),
      })),
    }),
  );

  app.delete(
    '/tokens/:id',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) }, preHandler: requireRole('admin') },
    async (req, reply) => {
      if (!(await store.revokeApiToken(req.params.id)))
        return reply.code(404).send({ error: 'Not Found', message: `no token ${req.params.id}` });
      req.log.warn(
        { audit: 'admin', action: 'token-revoked', person: req.person!.key, token: req.params.id },
        'personal token revoked by an admin',
      );
      return reply.code(204).send();
    },
  );
};
