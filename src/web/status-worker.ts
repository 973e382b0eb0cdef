// The status listener's thread (STATUS_PORT; docs/adr/0007-status-page-off-the-webhook-loop.md): the
// public status page on a port and an event loop of its own, so that a crowd of visitors takes
// this thread's CPU, never the webhook's. It holds no store: the main thread posts each snapshot
// (status-listener.ts), and the subscription forms' three writes go back to the main thread.
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../clock.js';
import { AnswerBudget } from '../http/answer-budget.js';
import { AttemptLimiter } from '../http/attempt-limiter.js';
import { errorHandler, notFoundHandler } from '../http/error-handler.js';
import { logOptions } from '../http/log-serializers.js';
import { RequestLog } from '../http/request-log.js';
import { validatorCompiler } from '../http/validator-compiler.js';
import { wellFormedInput } from '../http/well-formed-input.js';
import { DEFAULT_STATUS_PAGE, type StatusPageConfig } from '../incidents/status-page.js';
import { StatusInputError, type StatusSnapshot } from '../service/status-service.js';
import type { ToWorker, FromWorker, StatusWorkerData } from './status-listener.js';
import { statusRoutes, type StatusSource, type StatusWrite } from './status-routes.js';

const port = parentPort!;
const data = workerData as StatusWorkerData;
const post = (m: FromWorker) => port.postMessage(m);

/** The last snapshot the main thread posted, and what goes with it. */
let current: { snapshot: StatusSnapshot; config: StatusPageConfig; open: boolean; base: string } | undefined;
let first: (() => void) | undefined;
const arrived = new Promise<void>((resolve) => (first = resolve));
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCall = 1;

/** A form's write, done by the main thread's StatusService with these arguments; resolves with what it returned. */
function call(op: StatusWrite, args: unknown[]): Promise<unknown> {
  const id = nextCall++;
  return new Promise((resolve, reject) => {
    calls.set(id, { resolve, reject });
    post({ type: 'call', id, op, args });
  });
}
const remote = <K extends StatusWrite>(op: K) => ((...args: unknown[]) => call(op, args)) as unknown as StatusSource[K];

const source: StatusSource = {
  get config() {
    return current?.config ?? DEFAULT_STATUS_PAGE;
  },
  get subscriptionsOpen() {
    return current?.open ?? false;
  },
  async snapshot() {
    if (!current) await Promise.race([arrived, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (!current) throw new Error('the status page has no snapshot from the service yet');
    return current.snapshot;
  },
  base: () => current?.base ?? 'http://localhost',
  subscribe: remote('subscribe'),
  confirm: remote('confirm'),
  unsubscribe: remote('unsubscribe'),
};

const app = Fastify({
  ...(data.logLevel
    ? { loggerInstance: pino(logOptions(data.logLevel)).child({ thread: 'status-listener' }), logController: new RequestLog() }
    : { logger: false }),
  bodyLimit: 16 * 1024,
  onProtoPoisoning: 'remove',
  onConstructorPoisoning: 'remove',
  requestTimeout: data.requestTimeoutMs,
  http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(60_000, data.requestTimeoutMs) },
  connectionTimeout: data.connectionTimeoutMs,
  return503OnClosing: true,
}) as unknown as FastifyInstance;
app.setErrorHandler(errorHandler);
app.setNotFoundHandler(notFoundHandler);
app.setValidatorCompiler(validatorCompiler);
wellFormedInput(app);
// This port serves the status page only, as STATUS_PUBLIC_URL's host does on the service's port.
app.get('/', { logLevel: 'warn' }, async (_req, reply) => reply.redirect('/status', 302));
// Only on a host without a core to spare (server.statusPortAnswersPerSecond): by default this thread answers all it can.
const budget = data.answersPerSecond ? new AnswerBudget({ perSecond: data.answersPerSecond }) : undefined;
app.register(statusRoutes, {
  status: source,
  limiters: {
    byClient: new AttemptLimiter(systemClock, { max: 10, windowMs: 10 * 60_000 }),
    byEmail: new AttemptLimiter(systemClock, { max: 3, windowMs: 60 * 60_000 }),
  },
  origins: data.origins,
  trustedProxies: data.trustedProxies,
  budget,
});

port.on('message', (m: ToWorker) => {
  if (m.type === 'snapshot') {
    current = m;
    first?.();
    first = undefined;
  } else if (m.type === 'result') {
    const c = calls.get(m.id);
    calls.delete(m.id);
    if (!c) return;
    if (m.inputError !== undefined) c.reject(new StatusInputError(m.inputError));
    else if (m.error !== undefined) c.reject(new Error(m.error));
    else c.resolve(m.value);
  } else if (m.type === 'close') {
    // Requests in flight finish (their writes are answered before the main thread closes the store).
    budget?.close();
    void app.close().then(() => {
      post({ type: 'closed' });
      port.close();
    });
  }
});

app.listen({ port: data.port, host: data.host, backlog: data.backlog }).then(
  () => post({ type: 'listening', port: (app.server.address() as { port: number }).port }),
  (err: Error) => {
    post({ type: 'failed', error: err.message });
    port.close();
  },
);
