import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checklistFor } from '../../incidents/checklist.js';
import { fetchIncident, fetchList, listArgs, listVersion } from '../incident-reads.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { IdParams, IncidentQuerystring, ListQuerystring } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import { listPage } from '../views/incident-list.js';
import { incidentPage } from '../views/incident-page.js';
import type { WebRoutesOptions } from '../web-options.js';
import { maySilence } from '../permissions.js';

/** What a person reads: / (to the list), /incidents (newest first, filters, pages) and /incidents/:id. */
const incidentPages: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { store } = opts;

  app.get('/', async (_req, reply) => reply.redirect('/incidents', 302));

  app.get('/incidents', { schema: { querystring: ListQuerystring } }, async (req, reply) => {
    const q = listArgs(req.query);
    const { incidents, hasNext } = await fetchList(store, q);
    return sendHtml(reply, listPage(pageContext(req, reply, opts), incidents, q, hasNext, listVersion(incidents, hasNext)));
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
    return sendHtml(
      reply,
      incidentPage(
        pageContext(req, reply, opts),
        { ...read, checklist: checklistFor(checklists, incident), team, silences },
        String(incident.version),
      ),
    );
  });
};

export default incidentPages;
