import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checklistFor } from '../../incidents/checklist.js';
import { fetchIncident, fetchList, listArgs, listVersion } from '../incident-reads.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { IdParams, IncidentQuerystring, ListQuerystring } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import { listPage } from '../views/incident-list.js';
import { incidentPage } from '../views/incident-page.js';
import { renderReport } from '../../incidents/report.js';
import { readReportInput } from '../../service/report-reads.js';
import { reportFileName, reportPage } from '../views/report-page.js';
import type { WebRoutesOptions } from '../web-options.js';
import { maySilence, readOnlyReason } from '../permissions.js';
import { PUBLIC_UPDATES_SHOWN, publicUpdateView } from '../public-updates.js';

/**
 * What a person reads: / (to the list), /incidents (newest first, filters, pages), /incidents/:id,
 * and its report (/incidents/:id/report as a page, /incidents/:id/report.md to download).
 */
const incidentPages: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { store } = opts;

  app.get('/', async (_req, reply) => reply.redirect('/incidents', 302));

  app.get('/incidents', { schema: { querystring: ListQuerystring } }, async (req, reply) => {
    const q = listArgs(req.query);
    const { incidents, hasNext } = await fetchList(store, q);
    const teams = new Map(opts.settings().paging.teams.map((t) => [t.id, t.name]));
    return sendHtml(reply, listPage(pageContext(req, reply, opts), incidents, q, hasNext, listVersion(incidents, hasNext), teams));
  });

  app.get('/incidents/:id', { schema: { params: IdParams, querystring: IncidentQuerystring } }, async (req, reply) => {
    const read = await fetchIncident(store, req.params.id, req.query);
    if (!read) return sendHtml(reply, errorPage(pageContext(req, reply, opts), 404, `There is no incident ${req.params.id}.`), 404);
    const { incident } = read;
    const { paging, checklists } = opts.settings();
    const team = incident.team ? (paging.teams.find((t) => t.id === incident.team)?.name ?? incident.team) : undefined;
    const may = maySilence(req);
    const silences = opts.silences
      ? await opts.silences.silencesFor(incident).then(
          (list) => ({ list, maySilence: may }),
          (err: unknown) => ({ error: (err as Error).message, maySilence: may }),
        )
      : undefined;
    const publicUpdates = opts.status
      ? publicUpdateView(
          opts.status,
          req,
          incident,
          (await store.timelinePage(incident.id, { limit: PUBLIC_UPDATES_SHOWN, kinds: ['status_update'] })).entries
            .flatMap((e) => (e.kind === 'status_update' ? [e] : []))
            .reverse(),
        )
      : undefined;
    return sendHtml(
      reply,
      incidentPage(
        pageContext(req, reply, opts),
        {
          ...read,
          checklist: checklistFor(checklists, incident),
          team,
          oncallHref: oncallHref(paging, incident.team),
          silences,
          publicUpdates,
          readOnly: readOnlyReason(req),
        },
        String(incident.version),
      ),
    );
  });

  // The report the API serves (GET /api/incidents/:id/report, the same bounded reads), for people signed in to the pages.
  const report = async (id: number) => {
    const input = await readReportInput(store, id);
    if (!input) return undefined;
    const { sla, checklists } = opts.settings();
    return { title: input.incident.title, text: renderReport(input, sla, opts.clock.now(), checklistFor(checklists, input.incident)) };
  };
  app.get('/incidents/:id/report', { schema: { params: IdParams } }, async (req, reply) => {
    const r = await report(req.params.id);
    if (!r) return sendHtml(reply, errorPage(pageContext(req, reply, opts), 404, `There is no incident ${req.params.id}.`), 404);
    return sendHtml(reply, reportPage(pageContext(req, reply, opts), req.params.id, r.title, r.text));
  });
  app.get('/incidents/:id/report.md', { schema: { params: IdParams } }, async (req, reply) => {
    const r = await report(req.params.id);
    if (!r) return sendHtml(reply, errorPage(pageContext(req, reply, opts), 404, `There is no incident ${req.params.id}.`), 404);
    return reply
      .type('text/markdown; charset=utf-8')
      .header('content-disposition', `attachment; filename="${reportFileName(req.params.id)}"`)
      .header('cache-control', 'no-store')
      .send(r.text);
  });
};

/** The on-call page for an incident's team: its own rotation's, else the top level's. */
function oncallHref(paging: { teams: readonly { id: string; rotationOwner: string | null }[] }, team: string | null): string {
  const own = team !== null && paging.teams.find((t) => t.id === team)?.rotationOwner === team;
  return own ? `/oncall/${encodeURIComponent(team)}` : '/oncall';
}

export default incidentPages;
