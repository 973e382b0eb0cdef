import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One line per request, written once it is answered: the request (method, URL without query values,
 * client), the status and the time taken; or, when the client closed the connection first (an
 * Alertmanager that gave up waiting), once it did. Fastify's default is two, one on arrival and one
 * on answer: in a storm of 10,000 webhooks the logging was an eighth of the event loop's time (the
 * serializing, redaction and writing of each line), and the second line says everything the first
 * did but the moment of arrival, which the time taken gives back.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * Logs a request whose client closed the connection before it was answered: it gets no completion
 * line (Fastify's `onRequestAbort` sees only a request whose body was cut short).
 */
export function logClosedRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded)
        reply.log.info({ req, responseTime: reply.elapsedTime }, 'request closed by the client before its answer');
    });
    done();
  });
}
