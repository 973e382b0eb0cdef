import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One call the Slack-compatible server received. */
export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, unknown>;
  /** performance.now() when the call arrived (its body read), for the latency benchmark. */
  at: number;
}

/** A message as the server keeps it. */
export interface SlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  attachments?: unknown;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  updates: number;
}

/**
 * What the server should do with the next calls of a method. `record`: the message is stored all
 * the same (Slack had it; only the answer is lost). `hang`: never answer; `reset`: drop the
 * connection once the request is read; `delayMs`: answer, but that late.
 */
export type Failure =
  | { status: 429; retryAfter: number }
  | { status: 403 | 500 }
  | { error: string }
  | { hang: true; record?: boolean }
  | { reset: true; record?: boolean }
  | { delayMs: number; record?: boolean };

/**
 * A Slack-Web-API-compatible HTTP server on loopback, for the real @slack/web-api client
 * (point slackApiUrl / SLACK_API_URL at `url`). It implements auth.test, chat.postMessage (to a
 * member ID: the app's direct message with them, as Slack does), chat.update, conversations.open,
 * conversations.history, conversations.replies, conversations.list, usergroups.list and
 * usergroups.users.update, and response_url answers, records every call, keeps the messages and user groups, and can answer
 * 429 with Retry-After, 500, a Slack error, or not at all, on demand. Each answer carries the
 * token's scopes (x-oauth-scopes), and a method the scopes do not allow answers missing_scope.
 */
export class SlackApiServer {
  readonly calls: SlackCall[] = [];
  readonly messages: SlackMessage[] = [];
  private readonly failures = new Map<string, Failure[]>();
  /** Requests held without an answer (hang), until the client gives up or the server stops. */
  readonly hanging: ServerResponse[] = [];
  private server: Server | undefined;
  private seq = 0;
  url = '';

  /** Hears each message posted, with the channel's #name when it was posted by name. */
  onMessage: ((m: SlackMessage, channel: string) => void) | undefined;

  /** The bot token's scopes, as Slack sends them in x-oauth-scopes; every method's is there unless a test takes it away. */
  scopes = new Set(Object.values(SCOPES).flat());

  /** User groups by ID ("S…"): handle (the @mention without @), members. */
  readonly usergroups = new Map<string, { handle: string; name: string; users: string[]; updates: number }>();

  /** Makes a user group exist, as an admin would in Slack, and gives its ID. */
  usergroup(handle: string, users: string[] = []): string {
    const id = `S${createHash('sha1').update(handle).digest('hex').slice(0, 8).toUpperCase()}`;
    this.usergroups.set(id, { handle, name: handle, users, updates: 0 });
    return id;
  }

  /** The members of workspace: user IDs usergroups.users.update accepts (every well-formed one unless set). */
  members: Set<string> | undefined;

  constructor(readonly validToken: string) {}

  /** The next `times` calls of `method` fail as described. */
  failNext(method: string, failure: Failure, times = 1): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...Array<Failure>(times).fill(failure)]);
  }

  /** Channel ID for a #name, stable like Slack's. */
  static channelId(nameOrId: string): string {
    return nameOrId.startsWith('#') ? `C${createHash('sha1').update(nameOrId).digest('hex').slice(0, 8).toUpperCase()}` : nameOrId;
  }

  /** The direct-message conversation's ID of a member ID (U…), as chat.postMessage to that member lands in it. */
  static dmId(member: string): string {
    return dmOf(member);
  }

  /** At most this many items a page of a listing (history, channel list), whatever the client's `limit`: Slack may give fewer than asked. */
  pageSize = Infinity;

  /** One page of a listing, from the client's `cursor`, and the cursor of the next ('' at the end). */
  private page<T>(all: T[], args: Record<string, unknown>): { items: T[]; next: string } {
    const from = Number(args['cursor'] ?? 0) || 0;
    const size = Math.min(Number(args['limit'] ?? 100) || 100, this.pageSize);
    return { items: all.slice(from, from + size), next: from + size < all.length ? String(from + size) : '' };
  }

  /** The channels that exist, by ID: every channel ever posted to, or added here. */
  readonly names = new Map<string, string>();

  /** Makes a channel exist, as if created in Slack, and gives its ID. */
  channel(nameOrId: string): string {
    const id = SlackApiServer.channelId(nameOrId);
    if (!this.names.has(id)) this.names.set(id, nameOrId.replace(/^#/, ''));
    return id;
  }

  /** The messages the app sent a member (by member ID) as direct messages. */
  directMessagesTo(user: string): SlackMessage[] {
    return this.messages.filter((m) => m.channel === dmOf(user));
  }

  /** Top-level messages and replies posted to a channel (by #name or ID). */
  postedTo(channel: string): SlackMessage[] {
    const id = SlackApiServer.channelId(channel);
    return this.messages.filter((m) => m.channel === id);
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** What was posted to a response_url of this server (responseUrl()), as Slack keeps it for the user who pressed. */
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];

  /** A response_url as Slack puts in an interaction payload, on this server (POSTs to it land in `responses`). */
  responseUrl(id = String(++this.seq)): string {
    return this.url.replace(/\/api\/$/, `/actions/${id}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? '').startsWith('/actions/')) {
      // Slack's response_url: JSON in, a plain "ok" out (a 404 for one that was never handed out is not modelled).
      const body = await readArgs(req);
      this.responses.push({ path: req.url!, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const args = await readArgs(req);
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? (args['token'] as string | undefined);
    this.calls.push({ method, token, args, at: performance.now() });
    const send = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const failure = this.failures.get(method)?.shift();
    if (failure) {
      if ('hang' in failure) {
        if (failure.record) this.apply(method, args);
        this.hanging.push(res);
        return;
      }
      if ('reset' in failure) {
        if (failure.record) this.apply(method, args);
        req.socket.destroy();
        return;
      }
      if ('delayMs' in failure) {
        const answer = failure.record ? this.apply(method, args) : { ok: false, error: 'internal_error' };
        setTimeout(() => !res.destroyed && send(200, answer), failure.delayMs);
        return;
      }
      if ('status' in failure && failure.status === 429)
        return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfter) });
      if ('status' in failure) return send(failure.status, { ok: false, error: failure.status === 403 ? 'forbidden' : 'internal_error' });
      return send(200, { ok: false, error: failure.error });
    }
    if (token !== this.validToken) return send(200, { ok: false, error: 'invalid_auth' });
    const scopes = { 'x-oauth-scopes': [...this.scopes].join(',') };
    const needed = SCOPES[method];
    if (needed && !needed.some((n) => this.scopes.has(n)))
      return send(200, { ok: false, error: 'missing_scope', needed: needed.join(','), provided: [...this.scopes].join(',') }, scopes);
    send(200, this.apply(method, args), scopes);
  }

  private apply(method: string, args: Record<string, unknown>): object {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'alert-triage', team_id: 'T1', user_id: 'U1', bot_id: 'B1' };
      case 'chat.postMessage': {
        // To a member ID: Slack posts in the app's direct message with them, whose ID starts with D.
        const channel = this.channel(dmOf(String(args['channel'])));
        const ts = `${1_800_000_000 + ++this.seq}.000100`;
        const m: SlackMessage = {
          channel,
          ts,
          text: String((args['text'] as string | undefined) ?? ''),
          attachments: args['attachments'],
          updates: 0,
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Slack's thread_ts is text
          ...(args['thread_ts'] ? { thread_ts: String(args['thread_ts']) } : {}),
          ...(args['metadata'] ? { metadata: args['metadata'] as SlackMessage['metadata'] } : {}),
        };
        this.messages.push(m);
        this.onMessage?.(m, this.names.has(channel) ? `#${this.names.get(channel)!}` : channel);
        return { ok: true, channel, ts, message: m };
      }
      case 'chat.update': {
        const m = this.messages.find((x) => x.channel === args['channel'] && x.ts === args['ts']);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = String((args['text'] as string | undefined) ?? m.text);
        m.attachments = args['attachments'] ?? m.attachments;
        m.updates++;
        return { ok: true, channel: m.channel, ts: m.ts };
      }
      case 'conversations.history': {
        // As Slack: a conversation ID only (a #name is channel_not_found), newest first, and no
        // `channel` in the answer.
        const channel = String(args['channel']);
        if (!this.names.has(channel)) return { ok: false, error: 'channel_not_found' };
        const { items, next } = this.page(this.messages.filter((m) => m.channel === channel && !m.thread_ts).reverse(), args);
        return { ok: true, messages: items, response_metadata: { next_cursor: next } };
      }
      case 'conversations.list': {
        const all = [...this.names].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
        const { items, next } = this.page(all, args);
        return { ok: true, channels: items, response_metadata: { next_cursor: next } };
      }
      case 'conversations.open': {
        const users = text(args['users']);
        if (!/^[UW][A-Z0-9]+$/.test(users)) return { ok: false, error: 'user_not_found' };
        return { ok: true, channel: { id: this.channel(dmOf(users)) } };
      }
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: [...this.usergroups].map(([id, g]) => ({
            id,
            handle: g.handle,
            name: g.name,
            ...(args['include_users'] === 'true' || args['include_users'] === true ? { users: g.users } : {}),
          })),
        };
      case 'usergroups.users.update': {
        const g = this.usergroups.get(text(args['usergroup']));
        if (!g) return { ok: false, error: 'no_such_subteam' };
        // Slack wants at least one member: an empty list is refused, never a group emptied.
        const users = text(args['users'])
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean);
        if (!users.length) return { ok: false, error: 'no_users_provided' };
        if (users.some((u) => !/^[UW][A-Z0-9]+$/.test(u) || (this.members && !this.members.has(u))))
          return { ok: false, error: 'invalid_users' };
        g.users = users;
        g.updates++;
        return { ok: true, usergroup: { id: args['usergroup'], handle: g.handle, users } };
      }
      case 'conversations.replies': {
        const channel = String(args['channel']);
        return {
          ok: true,
          messages: this.messages.filter((m) => m.channel === channel && (m.ts === args['ts'] || m.thread_ts === args['ts'])),
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** The scopes each method needs (any one of them), as Slack documents them for a bot token. */
const SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history'],
  'conversations.list': ['channels:read', 'groups:read'],
  'conversations.open': ['im:write'],
  'usergroups.list': ['usergroups:read'],
  'usergroups.users.update': ['usergroups:write'],
};

/** An argument as text ('' when absent or not text). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The direct-message conversation of a member ID (Slack's D…), else the channel as given. */
function dmOf(channel: string): string {
  return /^[UW][A-Z0-9]+$/.test(channel) ? `D${createHash('sha1').update(channel).digest('hex').slice(0, 8).toUpperCase()}` : channel;
}

async function readArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (!body) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  // The Web API client form-encodes, with structured arguments as JSON strings.
  return Object.fromEntries(
    [...new URLSearchParams(body)].map(([k, v]) => {
      if (/^[[{]/.test(v)) {
        try {
          return [k, JSON.parse(v)];
        } catch {
          return [k, v];
        }
      }
      return [k, v];
    }),
  );
}
