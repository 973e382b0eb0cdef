import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TransitionConflict } from '../incidents/incident-machine.js';
import { redactUrl } from './log-serializers.js';
import { PayloadError } from './payload-error.js';
import { StoreUnavailableError } from '../store/store.js';

/** Seconds Alertmanager (or any client) is asked to wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The one error handler. Input problems are 4xx with the reason; a store that cannot commit is
 * 503 with Retry-After (Alertmanager retries 5xx but drops 4xx); anything else is a 500 whose
 * details stay in the log.
 */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof StoreUnavailableError) {
    req.log.warn({ err }, 'store unavailable; answering 503');
    return reply
      .code(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send({ error: 'Service Unavailable', message: 'the incident store cannot commit right now; retry later' });
  }
  if (err.validation || err instanceof PayloadError) {
    return reply.code(400).send({ error: 'Bad Request', message: err.message });
  }
  if (err instanceof TransitionConflict) {
    return reply.code(409).send({ error: 'Conflict', message: err.message });
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send({ error: httpReason(status), message: err.message });
  }
  req.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'Internal Server Error', message: 'unexpected error; see the service log' });
}

function httpReason(status: number): string {
  return (
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      408: 'Request Timeout',
      413: 'Payload Too Large',
      415: 'Unsupported Media Type',
      429: 'Too Many Requests',
    }[status] ?? 'Client Error'
  );
}

/** 404 for a route that does not exist; the URL is named without its query values, which may hold a token. */
export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${redactUrl(req.url)}` });
}
