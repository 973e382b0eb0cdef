import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpStandIn, parseJson, RateLimit, type SeenRequest } from './http-stand-in.js';

/** A message as the ntfy stand-in keeps it in a topic's cache. */
export interface NtfyMessage {
  id: string;
  time: number;
  event: 'message';
  topic: string;
  title?: string;
  message: string;
  priority?: number;
  tags?: string[];
  click?: string;
  actions?: { action: string; label: string; url?: string; clear?: boolean }[];
}

const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;
const ACTIONS = new Set(['view', 'broadcast', 'http']);

/**
 * An ntfy server as its API documents it, for JSON publishing (POST / with the topic in the body)
 * and polling a topic's cache (GET /<topic>/json?poll=1&since=<unix>): access tokens (401, and 403
 * for a topic the token may not write or read), topic names, priorities 1 to 5, 4,096-byte messages
 * (413: attachments are off), action buttons, and its visitor rate limit (a burst of 60, then one
 * every 5 s: 429 without Retry-After, as ntfy answers). Errors are ntfy's JSON: {code, http, error}.
 */
export class NtfyServer extends HttpStandIn {
  readonly messages: NtfyMessage[] = [];
  readonly limit: RateLimit;
  private seq = 0;
  /** Hears each message published. */
  onMessage: ((m: NtfyMessage) => void) | undefined;

  /**
   * `tokens`: when given, every request needs one of them, and each may write (and read) only the
   * topics it lists ('*' for all). `cache: false` is a server that keeps nothing to poll.
   */
  constructor(private readonly opts: { tokens?: Record<string, string[]>; now?: () => number; burst?: number; cache?: boolean } = {}) {
    super();
    this.limit = new RateLimit(opts.burst ?? 60, 5000, opts.now ?? Date.now);
  }

  topic(name: string): NtfyMessage[] {
    return this.messages.filter((m) => m.topic === name);
  }

  private error(res: ServerResponse, seen: SeenRequest, http: number, code: number, error: string): void {
    this.send(res, seen, http, { code, http, error });
  }

  /** The topics the request's token may use, '*' for all; undefined (after answering) when refused. */
  private allowed(req: IncomingMessage, seen: SeenRequest, res: ServerResponse, topic: string): boolean {
    if (!this.opts.tokens) return true;
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    const topics = token ? this.opts.tokens[token] : undefined;
    if (!topics) {
      this.error(res, seen, 401, 40101, 'unauthorized');
      return false;
    }
    if (!topics.includes('*') && !topics.includes(topic)) {
      this.error(res, seen, 403, 40301, 'forbidden');
      return false;
    }
    return true;
  }

  protected handle(req: IncomingMessage, seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(seen.path, 'http://ntfy');
    const poll = /^\/([^/]+)\/json$/.exec(url.pathname);
    if (req.method === 'GET' && poll) {
      const topic = poll[1]!;
      if (!TOPIC.test(topic)) return this.error(res, seen, 400, 40009, 'invalid request: topic invalid');
      if (!this.allowed(req, seen, res, topic)) return;
      if (url.searchParams.get('poll') !== '1') return this.error(res, seen, 400, 40000, 'stand-in: only poll=1 is implemented');
      const since = Number(url.searchParams.get('since') ?? 0);
      const cached = this.opts.cache === false ? [] : this.topic(topic).filter((m) => m.time >= since);
      return this.send(res, seen, 200, cached.map((m) => JSON.stringify(m) + '\n').join(''), { 'content-type': 'application/x-ndjson' });
    }
    if (req.method === 'GET' && url.pathname === '/v1/health') return this.send(res, seen, 200, { healthy: true });
    if (req.method === 'GET' && url.pathname === '/v1/account') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined) return this.send(res, seen, 200, { username: '*', role: 'anonymous' });
      if (!this.opts.tokens?.[token]) return this.error(res, seen, 401, 40101, 'unauthorized');
      return this.send(res, seen, 200, { username: 'alert-triage', role: 'user' });
    }
    if (req.method !== 'POST' && req.method !== 'PUT') return this.error(res, seen, 404, 40401, 'page not found');
    if (url.pathname !== '/') return this.error(res, seen, 400, 40000, 'stand-in: publish JSON to /');
    const wait = this.limit.take(req.socket.remoteAddress ?? 'visitor');
    if (wait !== undefined) return this.error(res, seen, 429, 42901, 'limit reached: too many requests, please be nice');
    const body = parseJson(seen.body) as Partial<NtfyMessage> | undefined;
    if (!body || typeof body !== 'object') return this.error(res, seen, 400, 40017, 'invalid request: request body must be message JSON');
    if (typeof body.topic !== 'string' || !TOPIC.test(body.topic))
      return this.error(res, seen, 400, 40009, 'invalid request: topic invalid');
    if (!this.allowed(req, seen, res, body.topic)) return;
    if (body.priority !== undefined && !(Number.isInteger(body.priority) && body.priority >= 1 && body.priority <= 5))
      return this.error(res, seen, 400, 40007, 'invalid priority');
    if (body.tags !== undefined && !(Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string')))
      return this.error(res, seen, 400, 40017, 'invalid request: tags must be a list of strings');
    if (body.click !== undefined && !/^(https?|mailto|geo|ntfy):/.test(String(body.click)))
      return this.error(res, seen, 400, 40013, 'invalid request: click URL invalid');
    for (const a of body.actions ?? []) {
      if (!ACTIONS.has(a.action) || !a.label || (a.action !== 'broadcast' && !a.url))
        return this.error(res, seen, 400, 40018, 'invalid request: action invalid');
    }
    if ((body.actions?.length ?? 0) > 3) return this.error(res, seen, 400, 40018, 'invalid request: too many actions');
    const text = typeof body.message === 'string' ? body.message : 'triggered';
    if (Buffer.byteLength(text) > 4096) return this.error(res, seen, 413, 41301, 'too large: message too long, and attachments are off');
    const message: NtfyMessage = {
      id: `m${++this.seq}`,
      time: Math.floor((this.opts.now ?? Date.now)() / 1000),
      event: 'message',
      topic: body.topic,
      message: text,
      ...(body.title !== undefined ? { title: body.title } : {}),
      ...(body.priority !== undefined ? { priority: body.priority } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      ...(body.click !== undefined ? { click: body.click } : {}),
      ...(body.actions !== undefined ? { actions: body.actions } : {}),
    };
    const deliver = () => {
      this.messages.push(message);
      this.onMessage?.(message);
    };
    if (this.scripted(res, seen, deliver) === 'done') return;
    deliver();
    this.send(res, seen, 200, message);
  }
}
