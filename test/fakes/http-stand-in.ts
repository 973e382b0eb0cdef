import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What a stand-in does with the next request that would deliver something, on demand: answer with a
 * status (429 with Retry-After, a 5xx, a 4xx), or not at all (`hang`), or drop the connection once the
 * request is read (`reset`). `record`: the service keeps the message all the same (only the answer is lost).
 */
export type Scripted =
  | { status: number; retryAfter?: number; body?: string; record?: boolean }
  | { hang: true; record?: boolean }
  | { reset: true; record?: boolean };

/**
 * A token bucket as the real services keep one per client: `burst` requests at once, then one more
 * every `refillMs`. Its time is the test's clock, so a test fast-forwards it instead of sleeping.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly burst: number,
    readonly refillMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; undefined when allowed, else the seconds to wait (the Retry-After). */
  take(key: string): number | undefined {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    const refilled = Math.floor((now - b.at) / this.refillMs);
    if (refilled > 0) {
      b.tokens = Math.min(this.burst, b.tokens + refilled);
      b.at = b.tokens === this.burst ? now : b.at + refilled * this.refillMs;
    }
    this.buckets.set(key, b);
    if (b.tokens > 0) {
      b.tokens--;
      return undefined;
    }
    return Math.max(1, Math.ceil((b.at + this.refillMs - now) / 1000));
  }
}

/** One request as a stand-in saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The status it was answered with (undefined: never answered). */
  status?: number;
}

/**
 * The HTTP server under each stand-in (Teams, Mattermost, ntfy, a webhook receiver): loopback on a
 * free port, every request recorded, failures scripted with failNext, connections cut at stop.
 */
export abstract class HttpStandIn {
  url = '';
  readonly requests: SeenRequest[] = [];
  /** Requests held without an answer (hang), until the client gives up or the server stops. */
  readonly hanging: ServerResponse[] = [];
  /** Largest body taken, as the services limit theirs (413 beyond). */
  protected maxBodyBytes = 1_000_000;
  private readonly script: Scripted[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  /** The next `times` deliveries fail as described. */
  failNext(failure: Scripted, times = 1): void {
    for (let i = 0; i < times; i++) this.script.push(failure);
  }

  /**
   * For a request that would deliver: the scripted failure to act out, if any, answered here.
   * Returns 'done' when the request was answered (or held, or reset) and must not deliver, 'record'
   * when the service keeps the message but the answer is lost, and 'go' for a normal delivery.
   */
  protected scripted(res: ServerResponse, seen: SeenRequest, deliver: () => void): 'done' | 'go' {
    const f = this.script.shift();
    if (!f) return 'go';
    if (f.record) deliver();
    if ('hang' in f) {
      this.hanging.push(res);
      return 'done';
    }
    if ('reset' in f) {
      res.socket?.destroy();
      return 'done';
    }
    this.send(
      res,
      seen,
      f.status,
      f.body ?? `{"error":"scripted ${f.status}"}`,
      f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {},
    );
    return 'done';
  }

  protected abstract handle(req: IncomingMessage, seen: SeenRequest, res: ServerResponse): void | Promise<void>;

  /** Answers and records the status. */
  protected send(
    res: ServerResponse,
    seen: SeenRequest,
    status: number,
    body: string | object,
    headers: Record<string, string> = {},
  ): void {
    seen.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' && !text.startsWith('{') ? 'text/plain; charset=utf-8' : 'application/json';
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(text);
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxBodyBytes) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://stand-in');
        const seen: SeenRequest = {
          method: req.method ?? 'GET',
          path: url.pathname + url.search,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(seen);
        if (tooLarge) return this.send(res, seen, 413, { error: 'request entity too large' });
        Promise.resolve(this.handle(req, seen, res)).catch((err: Error) => this.send(res, seen, 500, { error: err.message }));
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
