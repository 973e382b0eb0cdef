import type { FastifyBaseLogger } from 'fastify';
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusComponent, StatusPageConfig } from '../incidents/status-page.js';
import { StatusInputError, type StatusService, type StatusSnapshot } from '../service/status-service.js';
import type { StatusWrite } from './status-routes.js';

/** What the status listener's thread is started with. */
export interface StatusWorkerData {
  port: number;
  host: string;
  backlog: number;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  /** The origins its forms may come from besides its own. */
  origins: string[];
  /** STATUS_TRUSTED_PROXIES: the proxies or CDN in front, whose X-Forwarded-For names a subscribe request's client. */
  trustedProxies: readonly string[];
  /** Pino's level for its own log; none without. */
  logLevel: string | undefined;
  /** Its answers per second (a host without a core to spare); none: as many as it can. */
  answersPerSecond: number | undefined;
}

/** Messages to the thread: the snapshot to serve, a write's outcome, the end. */
export type ToWorker =
  | { type: 'snapshot'; snapshot: StatusSnapshot; config: StatusPageConfig; open: boolean; base: string }
  | { type: 'result'; id: number; value?: unknown; inputError?: string; error?: string }
  | { type: 'close' };
/** Messages from the thread: listening (or not), a subscription form's write, closed. */
export type FromWorker =
  | { type: 'listening'; port: number }
  | { type: 'failed'; error: string }
  | { type: 'call'; id: number; op: StatusWrite; args: unknown[] }
  | { type: 'closed' };

export interface StatusListenerOptions extends Omit<StatusWorkerData, 'logLevel'> {
  status: StatusService;
  log: FastifyBaseLogger;
  /** Pino's level for the thread's log (LOG_LEVEL); none: it logs nothing. */
  logLevel?: string | undefined;
  /** How often the main thread looks for a new snapshot to post (default 1 s; the snapshot itself is read at most once per its cache period). */
  feedMs?: number;
}

// Matchers hold functions, which cannot cross to a thread, and the public page never shows them.
const plain = (c: StatusComponent): StatusComponent => ({ ...c, matchers: [] });
const plainConfig = (c: StatusPageConfig): StatusPageConfig => ({ ...c, components: c.components.map(plain) });
const plainSnapshot = (s: StatusSnapshot): StatusSnapshot => ({
  ...s,
  components: s.components.map((v) => ({ ...v, component: plain(v.component) })),
});

/** The thread's file: status-worker.js once built, status-worker.ts under tsx (tests, benchmarks). */
const WORKER = new URL(`./status-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startWorker(workerData: StatusWorkerData): Worker {
  if (!WORKER.pathname.endsWith('.ts')) return new Worker(WORKER, { workerData });
  // Under tsx only: Node 20 does not carry tsx's loader (--import) into a worker, so it is registered there first.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER.href)}); });`, {
    eval: true,
    workerData,
  });
}

/**
 * The public status page on a port and a thread of its own (STATUS_PORT; docs/adr/0007): the main
 * thread reads each snapshot as it does for its own /status and posts it; the thread renders,
 * compresses and serves it, so visitors take that thread's CPU and not the webhooks'. Started and
 * stopped by the app (onReady, onClose); a thread that dies is started again after a second.
 */
export class StatusListener {
  private worker: Worker | undefined;
  private feeder: NodeJS.Timeout | undefined;
  private posted: StatusSnapshot | undefined;
  private stopping = false;
  private boundPort: number | undefined;
  /** Whether the current thread has not exited yet. */
  private running = false;

  constructor(private readonly opts: StatusListenerOptions) {}

  /** The port it listens on (the one it was given, or the one the system chose for 0). */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** Starts the thread and resolves once it listens; rejects when it cannot (the port is taken). */
  async start(): Promise<void> {
    const { log, feedMs, logLevel } = this.opts;
    const o = this.opts;
    const data: StatusWorkerData = {
      // A port of 0 is chosen once: a thread started again takes the same.
      port: this.boundPort ?? o.port,
      host: o.host,
      backlog: o.backlog,
      requestTimeoutMs: o.requestTimeoutMs,
      connectionTimeoutMs: o.connectionTimeoutMs,
      origins: o.origins,
      trustedProxies: o.trustedProxies,
      logLevel,
      answersPerSecond: o.answersPerSecond,
    };
    const worker = startWorker(data);
    this.worker = worker;
    this.running = true;
    worker.once('exit', () => (this.running = false));
    this.posted = undefined;
    const listening = new Promise<number>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'listening') resolve(m.port);
        else if (m.type === 'failed') reject(new Error(`status listener: ${m.error}`));
        else if (m.type === 'call') void this.answer(worker, m);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`status listener: the thread exited (${code})`)));
    });
    await this.feed();
    this.boundPort = await listening;
    worker.on('error', (err) => log.error({ err }, 'status listener: the thread failed'));
    worker.once('exit', (code) => {
      if (this.stopping || this.worker !== worker) return;
      log.error({ code }, 'status listener: the thread ended; starting it again in a second');
      clearInterval(this.feeder);
      this.restartSoon();
    });
    this.feeder = setInterval(() => void this.feed(), feedMs ?? 1000);
    this.feeder.unref();
  }

  /** Starts the thread again in a second, and again after each failed try (a port still held, say), until it listens or the app stops. */
  private restartSoon(): void {
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((err: unknown) => {
        this.opts.log.error({ err }, 'status listener: could not start again; trying again in a second');
        this.restartSoon();
      });
    }, 1000).unref();
  }

  /** Stops taking visitors, lets the answers in flight finish, and ends the thread (at most 5 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.feeder);
    const worker = this.worker;
    // A thread that never listened (its port was taken) or died has ended already.
    if (!worker || !this.running) return;
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    const deadline = setTimeout(() => void worker.terminate(), 5000);
    await ended;
    clearTimeout(deadline);
  }

  /** Posts the snapshot when it is a new one (the StatusService reads the store at most once per its cache period). */
  private async feed(): Promise<void> {
    const { status, log } = this.opts;
    const worker = this.worker;
    if (!worker) return;
    try {
      const s = await status.snapshot();
      if (s === this.posted) return;
      this.posted = s;
      worker.postMessage({
        type: 'snapshot',
        snapshot: plainSnapshot(s),
        config: plainConfig(status.config),
        open: status.subscriptionsOpen,
        base: status.base(),
      } satisfies ToWorker);
    } catch (err) {
      log.warn({ err }, 'status listener: no snapshot to post');
    }
  }

  private async answer(worker: Worker, m: Extract<FromWorker, { type: 'call' }>): Promise<void> {
    const { status, log } = this.opts;
    let reply: ToWorker;
    try {
      // The route's own call, made here: the arguments and the result as they are (strings, booleans, numbers).
      const write = status[m.op].bind(status) as (...args: unknown[]) => Promise<unknown>;
      reply = { type: 'result', id: m.id, value: await write(...m.args) };
    } catch (err) {
      if (err instanceof StatusInputError) reply = { type: 'result', id: m.id, inputError: err.message };
      else {
        log.error({ err }, `status listener: ${m.op} failed`);
        reply = { type: 'result', id: m.id, error: 'the service could not take this request' };
      }
    }
    worker.postMessage(reply);
  }
}
