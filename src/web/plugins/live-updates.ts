import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fetchList, listArgs, listVersion } from '../incident-reads.js';
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

  // One row read, whatever the incident holds: its version, which every committed change moves on.
  // The script sends the version it has as If-None-Match; the same one is a 304 without a body.
  app.get('/incidents/:id/live', { schema: { params: IdParams } }, async (req, reply) => {
    const v = await store.incidentVersion(req.params.id);
    if (v === undefined) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
    const version = String(v);
    reply.header('cache-control', 'no-store').header('etag', `"${version}"`);
    if (req.headers['if-none-match'] === `"${version}"`) return reply.code(304).send();
    return { version };
  });
};

export default liveUpdates;
