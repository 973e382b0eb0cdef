import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { requireRole } from '../http/acting-person.js';
import type { StatusStore } from '../store/store.js';

/** What the subscribers' admin API needs. */
export interface StatusAdminRoutesOptions {
  store: StatusStore;
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/**
 * The status page's subscribers for an admin (docs/status-page.md): personal data, so never on a
 * page; exported whole (a person's request for their data, or a move), and deleted by address.
 * Every use is in the audit log, without the addresses.
 */
export const statusAdminRoutes: FastifyPluginAsyncTypebox<StatusAdminRoutesOptions> = async (app, opts) => {
  const { store } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', requireRole('admin'));
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  app.get('/status/subscribers', async (req, reply) => {
    const all = await store.listSubscribers();
    req.log.warn(
      { audit: 'admin', action: 'export-subscribers', person: req.person!.key, count: all.length },
      'status page subscribers exported',
    );
    reply.header('cache-control', 'no-store');
    return {
      subscribers: all.map((s) => ({
        email: s.email,
        components: s.components,
        createdAt: iso(s.createdAt),
        confirmedAt: iso(s.confirmedAt),
        confirmationSentAt: iso(s.confirmSentAt),
      })),
    };
  });

  app.delete(
    '/status/subscribers/:email',
    { schema: { params: Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }) } },
    async (req, reply) => {
      const deleted = await store.deleteSubscriber(req.params.email.trim().toLowerCase());
      req.log.warn({ audit: 'admin', action: 'delete-subscriber', person: req.person!.key, deleted }, 'status page subscriber deleted');
      if (!deleted) return reply.code(404).send({ error: 'no such subscriber' });
      return { deleted: true };
    },
  );
};
