import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How the checkpointer of one SQLite file behaves; the defaults suit the store. */
export interface WalCheckpointerOptions {
  /** Waits this long after the first commit it is told of before it checkpoints, gathering the commits that follow. */
  intervalMs?: number;
  /**
   * Past this many WAL frames (4 KiB each) left after a passive checkpoint, it waits for a pause
   * between commits (a RESTART checkpoint) so that the WAL can start again from its beginning.
   */
  restartFrames?: number;
  /** Called once if the worker cannot run; the store then checkpoints on its own connection again. */
  onFailure: (err: Error) => void;
}

/** What the worker says after each checkpoint: SQLite's three numbers, or why it failed. */
type Report = { ok: true; busy: number; log: number; checkpointed: number } | { ok: false; code?: string; message: string };

// Plain CommonJS run by the worker (eval): no loader, no TypeScript, only better-sqlite3 by its
// resolved path. Its own connection to the file; it never writes rows, it only checkpoints.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
// This thread may wait for a lock: blocking here blocks nobody.
db.pragma('busy_timeout = 2000');
let timer = null;
function checkpoint() {
  timer = null;
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    let report = r;
    if (r.log > workerData.restartFrames && r.checkpointed < r.log) report = db.pragma('wal_checkpoint(RESTART)')[0];
    parentPort.postMessage({ ok: true, ...report });
  } catch (err) {
    parentPort.postMessage({ ok: false, code: err.code, message: err.message });
  }
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    if (timer) clearTimeout(timer);
    db.close();
    parentPort.close();
    return;
  }
  if (!timer) timer = setTimeout(checkpoint, workerData.intervalMs);
});
`;

/**
 * Checkpoints a SQLite database in WAL mode from a worker thread with a connection of its own.
 *
 * A checkpoint copies the WAL's pages back into the database file and syncs it. SQLite runs it
 * inside the COMMIT that crosses 1,000 frames, on the event loop: about 40% of what a webhook's
 * writes cost. Here the store turns that off and tells this object of each commit instead; the
 * worker checkpoints at most once per `intervalMs`, passively (never blocking the store's writes).
 * Durability does not depend on it: a commit is durable once the WAL holding it is synced.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  /** Told of a commit since the worker's last report: no need to tell it again. */
  private told = false;
  private failed = false;
  private closed = false;
  private readonly intervalMs: number;
  private readonly restartFrames: number;
  /** The last report, for tests and diagnostics. */
  last: Report | undefined;

  constructor(
    private readonly path: string,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.restartFrames = options.restartFrames ?? 10_000;
  }

  /** A commit was made: a checkpoint follows within `intervalMs`. The worker starts at the first one. */
  committed(): void {
    if (this.told || this.failed || this.closed) return;
    this.told = true;
    (this.worker ??= this.start()).postMessage('commit');
  }

  /** Stops the worker, closing its connection. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Held until it has closed its connection: the store's close waits for it.
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Not the parent's flags: the worker needs no TypeScript loader.
      execArgv: [],
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.path, intervalMs: this.intervalMs, restartFrames: this.restartFrames },
    });
    worker.unref();
    worker.on('message', (report: Report) => {
      this.last = report;
      this.told = false;
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the WAL checkpointer exited with code ${code}`));
    });
    return worker;
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.options.onFailure(err);
  }
}
