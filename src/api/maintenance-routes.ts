import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { alertmanagerError } from './alertmanager-error.js';
import { assertRole, requireRole } from '../http/acting-person.js';
import { parseOffsetDateTime } from '../paging/zoned-time.js';
import { MaintenanceRequestError, windowMatcherText, type MaintenanceService, type WindowView } from '../service/maintenance-service.js';
import type { MaintenanceWindow } from '../store/store.js';

/** What the maintenance API needs. */
export interface MaintenanceRoutesOptions {
  maintenance: MaintenanceService;
  /** Sets `req.person` from the bearer token (http/bearer-auth.ts), or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const Matcher = Type.String({ minLength: 1, maxLength: 1000 });
const CreateBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    startsAt: Type.String({ maxLength: 40 }),
    endsAt: Type.String({ maxLength: 40 }),
    /** One group of matchers (one silence), or several groups (a silence each), as Alertmanager writes them. */
    matchers: Type.Union([
      Type.Array(Matcher, { minItems: 1, maxItems: 50 }),
      Type.Array(Type.Array(Matcher, { minItems: 1, maxItems: 50 }), { minItems: 1, maxItems: 10 }),
    ]),
    public: Type.Optional(Type.Boolean()),
    publicText: Type.Optional(Type.String({ maxLength: 1000 })),
    /** The status page's components it affects (ids of statusPage.components). */
    components: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** A window in the API's JSON (times as ISO 8601, matchers as Alertmanager writes them). */
export function windowJson(w: MaintenanceWindow | WindowView) {
  return {
    id: w.id,
    title: w.title,
    description: w.description,
    startsAt: new Date(w.startsAt).toISOString(),
    endsAt: new Date(w.endsAt).toISOString(),
    matchers: w.matchers.map((g) => g.map(windowMatcherText)),
    silenceIds: w.silenceIds,
    createdBy: w.createdBy,
    createdAt: new Date(w.createdAt).toISOString(),
    public: w.public,
    publicText: w.publicText,
    components: w.components,
    cancelledAt: w.cancelledAt === null ? null : new Date(w.cancelledAt).toISOString(),
    cancelledBy: w.cancelledBy,
    ...('state' in w ? { state: w.state, expiredInAlertmanager: w.expiredInAlertmanager } : {}),
  };
}

/**
 * /api/maintenance: the current and upcoming maintenance windows (GET, viewer), a new one (POST,
 * responder: a deploy pipeline plans its own), and cancelling one (DELETE …/:id, responder). Made as
 * the person of the bearer token.
 */
export const maintenanceRoutes: FastifyPluginAsyncTypebox<MaintenanceRoutesOptions> = async (app, opts) => {
  const { maintenance } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET') assertRole(req, 'viewer');
  });

  app.get('/maintenance', async (_req, reply) => {
    const { windows, alertmanagerError } = await maintenance.list();
    return reply.send({ windows: windows.map(windowJson), ...(alertmanagerError ? { alertmanagerError } : {}) });
  });

  app.post('/maintenance', { schema: { body: CreateBody }, preHandler: requireRole('responder') }, async (req, reply) => {
    const b = req.body;
    const startsAt = parseOffsetDateTime(b.startsAt);
    const endsAt = parseOffsetDateTime(b.endsAt);
    if (startsAt === undefined || endsAt === undefined)
      return reply.code(400).send({
        error: 'Bad Request',
        message: `${startsAt === undefined ? 'startsAt' : 'endsAt'} must be an RFC 3339 time with its offset`,
      });
    const groups = b.matchers.every((m) => typeof m === 'string') ? [b.matchers] : b.matchers;
    // A matcher is one line of the form's text; a line break inside one would split it.
    if (groups.some((g) => g.some((m) => /[\r\n]/.test(m))))
      return reply.code(400).send({ error: 'Bad Request', message: 'a matcher cannot hold a line break: write \\n inside its quotes' });
    try {
      const w = await maintenance.create(
        { name: req.person!.name },
        {
          title: b.title,
          description: b.description ?? '',
          startsAt,
          endsAt,
          matchers: groups.map((g) => g.join('\n')).join('\n\n'),
          public: b.public ?? false,
          publicText: b.publicText ?? '',
          components: b.components ?? [],
        },
      );
      req.log.info(
        { audit: 'maintenance-planned', person: req.person!.key, window: w.id, silences: w.silenceIds },
        'maintenance window planned',
      );
      return await reply.code(201).send(windowJson(w));
    } catch (err) {
      return alertmanagerError(reply, err, MaintenanceRequestError);
    }
  });

  app.delete('/maintenance/:id', { schema: { params: Params }, preHandler: requireRole('responder') }, async (req, reply) => {
    try {
      const w = await maintenance.cancel(req.params.id, { name: req.person!.name });
      if (!w) return await reply.code(404).send({ error: 'Not Found', message: `no maintenance window ${req.params.id}` });
      req.log.info({ audit: 'maintenance-cancelled', person: req.person!.key, window: w.id }, 'maintenance window cancelled');
      return await reply.send(windowJson(w));
    } catch (err) {
      return alertmanagerError(reply, err, MaintenanceRequestError);
    }
  });
};
