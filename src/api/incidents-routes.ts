import type { CurrentConfig } from '../service/live-config.js';
import type { FastifyInstance } from 'fastify';
import type { IncidentService } from '../service/incident-service.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../incidents/model.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { IncidentStore } from '../store/store.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertRole, requireRole, responderOf } from '../http/acting-person.js';
import { incidentDetailsJson, incidentJson } from './incident-json.js';
import { timelinePageJson } from './incident-json.js';
import { CURSOR_PATTERN, parseCursor } from '../http/timeline-cursor.js';
import type { Clock } from '../clock.js';
import { renderReport } from '../incidents/report.js';
import { readReportInput } from '../service/report-reads.js';
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

/** Timeline entries in one answer of GET /api/incidents/:id and of its /timeline, unless timelineLimit asks otherwise. */
export const DEFAULT_TIMELINE_PAGE = 100;
export const MAX_TIMELINE_PAGE = 1000;

/** Alerts in one answer of GET /api/incidents/:id, unless alertsLimit asks otherwise (at most MAX_ALERTS_PAGE). */
export const DEFAULT_ALERTS_PAGE = 500;
export const MAX_ALERTS_PAGE = 5000;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

const timelineLimit = { type: 'integer', minimum: 1, maximum: MAX_TIMELINE_PAGE, default: DEFAULT_TIMELINE_PAGE } as const;

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
  // Every method, HEAD (which Fastify adds for each GET) included: writes need more anyway.
  app.addHook('preHandler', async (req) => {
    assertRole(req, 'viewer');
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

  // An incident can hold 100,000 alerts and a timeline of any length: the answer carries one page
  // of its alerts and the newest page of its timeline, with what to ask for the next ones.
  app.get<{ Params: { id: number }; Querystring: { alertsOffset: number; alertsLimit: number; timelineLimit: number } }>(
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
            timelineLimit: timelineLimit,
          },
        },
      },
    },
    async (req, reply) => {
      const page = { offset: req.query.alertsOffset, limit: req.query.alertsLimit };
      const incident = await store.incidentHead(req.params.id, page);
      if (!incident) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
      const timeline = await store.timelinePage(req.params.id, { limit: req.query.timelineLimit });
      return incidentDetailsJson(incident, page, timeline, req.query.timelineLimit);
    },
  );

  // Older pages of the timeline: `before` is the cursor the last answer gave (timelinePage.older).
  app.get<{ Params: { id: number }; Querystring: { before?: string; limit: number } }>(
    '/incidents/:id/timeline',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { before: { type: 'string', pattern: CURSOR_PATTERN }, limit: timelineLimit },
        },
      },
    },
    async (req, reply) => {
      const version = await store.incidentVersion(req.params.id);
      if (version === undefined) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
      const page = await store.timelinePage(req.params.id, { before: parseCursor(req.query.before), limit: req.query.limit });
      return timelinePageJson(page, req.query.limit);
    },
  );

  app.get<{ Params: { id: number } }>('/incidents/:id/report', { schema: { params: idParams } }, async (req, reply) => {
    // Bounded reads, and a report that summarises beyond REPORT_LIMITS, whatever the incident holds.
    const input = await readReportInput(store, req.params.id);
    if (!input) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
    const { sla, checklists } = opts.config.current;
    return reply
      .type('text/markdown; charset=utf-8')
      .send(renderReport(input, sla, opts.clock.now(), checklistFor(checklists, input.incident)));
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
        const result = await run(req.params.id, responderOf(req.person!, 'api', req.body?.by), req.body?.note);
        if (!result.found) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
        return { ...incidentJson(result.incident), changed: result.changed };
      },
    );
  }
}
