import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { alertmanagerError } from './alertmanager-error.js';
import { assertRole, requireRole, responderOf } from '../http/acting-person.js';
import { SILENCE_LENGTHS, SilenceRequestError, type IncidentSilence, type SilenceService } from '../service/silence-service.js';
import type { IncidentStore } from '../store/store.js';

/** What the silences API needs. */
export interface SilencesRoutesOptions {
  silences: SilenceService;
  store: IncidentStore;
  /** Sets `req.person` from the bearer token (http/bearer-auth.ts), or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const SilenceParams = Type.Object({ id: Type.Integer({ minimum: 1 }), silenceId: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }) });
const CreateBody = Type.Object(
  {
    by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    length: Type.Unsafe<'1h' | '4h' | '24h' | 'resolved'>({ type: 'string', enum: [...SILENCE_LENGTHS] }),
    scope: Type.Unsafe<'group' | 'alert'>({ type: 'string', enum: ['group', 'alert'] }),
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    keepAfterResolve: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ExpireBody = Type.Union([
  Type.Object({ by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
  Type.Null(),
]);

/** One silence in the API's JSON (times as ISO 8601). */
export function silenceJson(s: IncidentSilence) {
  return {
    id: s.id,
    state: s.state,
    matchers: s.matchers,
    createdBy: s.createdBy,
    comment: s.comment,
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    madeHere: s.madeHere !== undefined,
    untilResolved: s.madeHere?.untilResolved ?? false,
    // What happens to it when the incident resolves: only silences made here are expired then.
    whenResolved: !s.madeHere ? 'kept' : s.madeHere.untilResolved || !s.madeHere.keepAfterResolve ? 'expired' : 'kept',
  };
}

/**
 * /api/incidents/:id/silences: the incident's silences in Alertmanager (GET), a new one for the
 * group or one alert (POST), "Expire now" (DELETE …/:silenceId). Reading needs the viewer role,
 * silencing and expiring the responder role; the silence is made as the person acting.
 */
export const silencesRoutes: FastifyPluginAsyncTypebox<SilencesRoutesOptions> = async (app, opts) => {
  const { silences, store } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET') assertRole(req, 'viewer');
  });
  // As the incidents API does: `by` is believed only from API_TOKEN (automation acting for someone).
  const responder = (req: FastifyRequest, by: string | undefined) => responderOf(req.person!, 'api', by);
  const notFound = (reply: FastifyReply, id: number) => reply.code(404).send({ error: 'Not Found', message: `no incident ${id}` });

  app.get('/incidents/:id/silences', { schema: { params: Params } }, async (req, reply) => {
    const incident = await store.getIncident(req.params.id, { offset: 0, limit: 10_000 });
    if (!incident) return notFound(reply, req.params.id);
    try {
      return { silences: (await silences.silencesFor(incident)).map(silenceJson) };
    } catch (err) {
      return alertmanagerError(reply, err, SilenceRequestError);
    }
  });

  app.post(
    '/incidents/:id/silences',
    { schema: { params: Params, body: CreateBody }, preHandler: requireRole('responder') },
    async (req, reply) => {
      const { by, ...request } = req.body;
      if (request.scope === 'alert' && !request.fingerprint)
        return reply.code(400).send({ error: 'Bad Request', message: 'scope "alert" needs the alert\'s fingerprint' });
      try {
        const made = await silences.silence(req.params.id, responder(req, by), request);
        if (!made.found) return notFound(reply, req.params.id);
        return reply.code(201).send({ status: 'ok', silenceId: made.silenceId });
      } catch (err) {
        return alertmanagerError(reply, err, SilenceRequestError);
      }
    },
  );

  app.delete(
    '/incidents/:id/silences/:silenceId',
    { schema: { params: SilenceParams, body: Type.Optional(ExpireBody) }, preHandler: requireRole('responder') },
    async (req, reply) => {
      try {
        const done = await silences.expire(req.params.id, req.params.silenceId, responder(req, req.body?.by ?? undefined));
        if (!done.found) return notFound(reply, req.params.id);
        return { status: 'ok', silenceId: req.params.silenceId };
      } catch (err) {
        return alertmanagerError(reply, err, SilenceRequestError);
      }
    },
  );
};
