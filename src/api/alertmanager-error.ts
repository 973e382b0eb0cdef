import type { FastifyReply } from 'fastify';
import { AlertmanagerRefused, AlertmanagerUnavailable } from '../alertmanager/silences-client.js';

/**
 * The API's answer to a failed call to Alertmanager, one rule for silences and maintenance windows:
 * 400 for a request that can never be made (an instance of `requestError`), 502 when Alertmanager
 * said no, 503 with Retry-After when no peer answered; the words say which. Anything else is thrown
 * on to the one error handler.
 */
export function alertmanagerError(reply: FastifyReply, err: unknown, requestError: abstract new (...args: never[]) => Error) {
  if (err instanceof requestError) return reply.code(400).send({ error: 'Bad Request', message: err.message });
  if (err instanceof AlertmanagerRefused) return reply.code(502).send({ error: 'Bad Gateway', message: `Alertmanager: ${err.message}` });
  if (err instanceof AlertmanagerUnavailable)
    return reply
      .header('retry-after', '10')
      .code(503)
      .send({ error: 'Service Unavailable', message: `Alertmanager: ${err.message}` });
  throw err;
}
