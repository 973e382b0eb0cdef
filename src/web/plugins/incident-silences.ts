import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AlertmanagerRefused, AlertmanagerUnavailable } from '../../alertmanager/silences-client.js';
import { responderOf } from '../../http/acting-person.js';
import { SilenceRequestError } from '../../service/silence-service.js';
import { pageContext, sendHtml } from '../page-reply.js';
import { maySilence } from '../permissions.js';
import { ButtonBody, IdParams, SilenceBody, SilenceParams } from '../schemas.js';
import { errorPage } from '../views/error-page.js';
import type { WebRoutesOptions } from '../web-options.js';

/** The incident page's silence forms: make one in Alertmanager, and "Expire now"; each as the signed-in viewer. */
const incidentSilences: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, opts) => {
  const { silences } = opts;
  if (!silences) return;
  const fail = (req: FastifyRequest, reply: FastifyReply, code: number, message: string) =>
    sendHtml(reply, errorPage(pageContext(req, reply, opts), code, message), code);
  const act = async (req: FastifyRequest, reply: FastifyReply, id: number, work: () => Promise<{ found: boolean }>) => {
    if (!maySilence(req)) return fail(req, reply, 403, 'This needs the responder role: viewers may not silence alerts.');
    try {
      if (!(await work()).found) return fail(req, reply, 404, `There is no incident ${id}.`);
    } catch (err) {
      if (err instanceof SilenceRequestError) return fail(req, reply, 400, err.message);
      if (err instanceof AlertmanagerRefused) return fail(req, reply, 502, `Alertmanager refused: ${err.message}`);
      if (err instanceof AlertmanagerUnavailable)
        return fail(req, reply, 503, `Alertmanager did not answer, nothing was changed: ${err.message}`);
      throw err;
    }
    return reply.redirect(`/incidents/${id}#silences`, 303);
  };
  const responder = (req: FastifyRequest) => responderOf(req.person!, 'web');

  app.post('/incidents/:id/silences', { schema: { params: IdParams, body: SilenceBody } }, async (req, reply) => {
    const { length, scope, fingerprint, keep } = req.body;
    if (scope === 'alert' && !fingerprint) return fail(req, reply, 400, 'Say which alert to silence.');
    return act(req, reply, req.params.id, () =>
      silences.silence(req.params.id, responder(req), { length, scope, fingerprint, keepAfterResolve: keep === 'on' }),
    );
  });

  app.post('/incidents/:id/silences/:silenceId/expire', { schema: { params: SilenceParams, body: ButtonBody } }, async (req, reply) =>
    act(req, reply, req.params.id, () => silences.expire(req.params.id, req.params.silenceId, responder(req))),
  );
};

export default incidentSilences;
