import type { CurrentConfig } from '../service/live-config.js';
import type { FastifyInstance } from 'fastify';
import type { IncidentService } from '../service/incident-service.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../incidents/model.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { IncidentStore } from '../store/store.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertRole, requireRole } from '../http/acting-person.js';
import { incidentDetailsJson, incidentJson } from './incident-json.js';
import type { Clock } from '../clock.js';
import { renderReport } from '../incidents/report.js';
import { checklistFor } from '../incidents/checklist.js';

/** What the incident API needs. */
export interface IncidentsRoutesOptions {
  service: IncidentService;
  store: IncidentStore;
  /** Sets `req.person` from the bearer token (http/bearer-auth.ts), or answers 401. */
  auth: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The config in force (a reload applies at once): the report's SLA and checklists. */
  config: CurrentConfig;
  clock: Clock;
}

/** Alerts in one answer of GET /api/incidents/:id, unless alertsLimit asks otherwise (at most MAX_ALERTS_PAGE). */
export const DEFAULT_ALERTS_PAGE = 500;
export const MAX_ALERTS_PAGE = 5000;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

const actionBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    by: { type: 'string', minLength: 1, maxLength: 200 },
    note: { type: 'string', maxLength: 4000 },
  },
} as const;

type ActionBody = { by?: string; note?: string } | null | undefined;

/**
 * /api: list, read, report on, acknowledge and resolve incidents. Every route needs a bearer token
 * (a personal one or API_TOKEN); reading needs the viewer role, acting the responder role.
 */
export async function incidentsRoutes(app: FastifyInstance, opts: IncidentsRoutesOptions) {
  const { service, store } = opts;
  app.addHook('onRequest', opts.auth);
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET') assertRole(req, 'viewer');
  });

  app.get<{ Querystring: { status?: IncidentStatus; severity?: Severity; limit: number } }>(
    '/incidents',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: INCIDENT_STATUSES },
            severity: { type: 'string', enum: SEVERITIES },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (req) => {
      const incidents = await store.listIncidents(req.query);
      return { incidents: incidents.map(incidentJson) };
    },
  );

  // An incident can hold 100,000 alerts: the answer carries one page of them.
  app.get<{ Params: { id: number }; Querystring: { alertsOffset: number; alertsLimit: number } }>(
    '/incidents/:id',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            alertsOffset: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0 },
            alertsLimit: { type: 'integer', minimum: 1, maximum: MAX_ALERTS_PAGE, default: DEFAULT_ALERTS_PAGE },
          },
        },
      },
    },
    async (req, reply) => {
      const page = { offset: req.query.alertsOffset, limit: req.query.alertsLimit };
      const incident = await store.getIncident(req.params.id, page);
      if (!incident) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
      return incidentDetailsJson(incident, page);
    },
  );

  app.get<{ Params: { id: number } }>('/incidents/:id/report', { schema: { params: idParams } }, async (req, reply) => {
    const incident = await store.getIncident(req.params.id);
    if (!incident) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
    return reply
      .type('text/markdown; charset=utf-8')
      .send(renderReport(incident, opts.config.current.sla, opts.clock.now(), checklistFor(opts.config.current.checklists, incident)));
  });

  for (const [action, run] of [
    ['ack', service.acknowledge.bind(service)],
    ['resolve', service.resolve.bind(service)],
  ] as const) {
    app.post<{ Params: { id: number }; Body: ActionBody }>(
      `/incidents/:id/${action}`,
      { schema: { params: idParams, body: actionBody }, preHandler: requireRole('responder') },
      async (req, reply) => {
        // The person acting is who the timeline names. `by` is for automation on API_TOKEN (an admin
        // recording whom it acts for); anyone else's `by` is ignored rather than believed.
        const p = req.person!;
        const by = p.role === 'admin' && p.contact === null ? req.body?.by : undefined;
        const who = { name: by ?? p.name, contact: by === undefined ? (p.contact ?? undefined) : undefined, via: 'api' as const };
        const result = await run(req.params.id, who, req.body?.note);
        if (!result.found) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
        return { ...incidentJson(result.incident), changed: result.changed };
      },
    );
  }
}
