import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fetchList, incidentVersion, listArgs, listVersion } from '../incident-reads.js';
import { IdParams, ListQuerystring } from '../schemas.js';
import type { WebRoutesOptions } from '../web-options.js';

/**
 * What the pages' script polls: the version of what a page shows, read from the store (so a change
 * made through another replica shows too). When it differs from the page's, the script fetches the
 * page again and swaps its live parts.
 */
const liveUpdates: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { store } = opts;

  app.get('/incidents/live', { schema: { querystring: ListQuerystring } }, async (req, reply) => {
    const { incidents, hasNext } = await fetchList(store, listArgs(req.query));
    reply.header('cache-control', 'no-store');
    return { version: listVersion(incidents, hasNext) };
  });

  app.get('/incidents/:id/live', { schema: { params: IdParams } }, async (req, reply) => {
    const i = await store.getIncident(req.params.id, { offset: 0, limit: 1 });
    if (!i) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
    reply.header('cache-control', 'no-store');
    return { version: incidentVersion(i) };
  });
};

export default liveUpdates;
