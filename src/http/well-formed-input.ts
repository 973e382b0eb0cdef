import type { FastifyInstance } from 'fastify';
import { wellFormedDeep, wellFormedParsedJson } from '../well-formed.js';

/**
 * Makes every request's text well formed before any route reads it (src/well-formed.ts): JSON
 * bodies as they are parsed, form bodies, query strings and path parameters before validation.
 * Called on the root instance, so it holds for every route, those registered later included.
 */
export function wellFormedInput(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    void parseJson(req, body as string, (err: Error | null, value?: unknown) =>
      err ? done(err, undefined) : done(null, wellFormedParsedJson(body as string, value)),
    );
  });
  app.addHook('preValidation', async (req) => {
    // A string body is a route's own raw text (Slack's signed form): the route mends what it decodes.
    if (req.body !== null && typeof req.body === 'object' && !isJson(req.headers['content-type'])) req.body = wellFormedDeep(req.body);
    req.query = wellFormedDeep(req.query);
    req.params = wellFormedDeep(req.params);
  });
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*application\/json\s*(?:;|$)/i.test(contentType);
}
