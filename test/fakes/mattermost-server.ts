import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpStandIn, parseJson, RateLimit, type SeenRequest } from './http-stand-in.js';

/** A post as the Mattermost stand-in keeps it. */
export interface MattermostPost {
  id: string;
  channel_id: string;
  root_id: string;
  message: string;
  props: Record<string, unknown>;
  create_at: number;
  edits: number;
  /** Posted through the incoming webhook. */
  viaWebhook: boolean;
}

const MAX_MESSAGE = 16383;

/** A 26-character Mattermost ID, stable for a name. */
export function mattermostId(name: string): string {
  return createHash('sha1')
    .update(name)
    .digest('hex')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 26);
}

/**
 * Mattermost's REST API v4 for a bot (posts, patches, a channel's posts since a time, a channel by
 * team and name, users/me) and an incoming webhook (/hooks/<key>), as documented: a personal access
 * token as Bearer (401 otherwise, with Mattermost's error JSON {id, message, status_code}), a channel
 * the bot is a member of (403 otherwise), a root post in the same channel for a reply (400), messages
 * of at most 16,383 characters (400), and its rate limit (a burst, then 429 with Retry-After and
 * X-Ratelimit-* headers). The webhook takes a channel of its team by name and answers "ok".
 */
export class MattermostServer extends HttpStandIn {
  readonly posts: MattermostPost[] = [];
  readonly limit: RateLimit;
  readonly webhookKey = randomBytes(13).toString('hex');
  /** Channel IDs by "team/channel". */
  readonly channels = new Map<string, string>();
  onPost: ((p: MattermostPost, channel: string) => void) | undefined;

  constructor(
    readonly token: string,
    private readonly opts: { channels: string[]; webhookTeam?: string; now?: () => number; burst?: number; refillMs?: number },
  ) {
    super();
    for (const c of opts.channels) this.channels.set(c, mattermostId(c));
    this.limit = new RateLimit(opts.burst ?? 100, opts.refillMs ?? 100, opts.now ?? Date.now);
  }

  get webhookUrl(): string {
    return `${this.url}/hooks/${this.webhookKey}`;
  }

  /** The posts of a channel ("team/channel"), in order. */
  postedTo(channel: string): MattermostPost[] {
    const id = this.channels.get(channel);
    return this.posts.filter((p) => p.channel_id === id);
  }

  private nameOf(id: string): string {
    return [...this.channels].find(([, v]) => v === id)?.[0] ?? id;
  }

  private error(res: ServerResponse, seen: SeenRequest, status: number, id: string, message: string, headers: Record<string, string> = {}) {
    this.send(
      res,
      seen,
      status,
      { id, message, detailed_error: '', request_id: randomBytes(13).toString('hex'), status_code: status },
      headers,
    );
  }

  private post(p: Omit<MattermostPost, 'id' | 'create_at' | 'edits'>): MattermostPost {
    const post: MattermostPost = { ...p, id: randomBytes(13).toString('hex'), create_at: (this.opts.now ?? Date.now)(), edits: 0 };
    return post;
  }

  private keep(post: MattermostPost): void {
    this.posts.push(post);
    this.onPost?.(post, this.nameOf(post.channel_id));
  }

  protected handle(req: IncomingMessage, seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(seen.path, 'http://mattermost');
    const wait = this.limit.take(req.headers.authorization ?? req.socket.remoteAddress ?? '');
    if (wait !== undefined)
      return this.error(res, seen, 429, 'api.context.rate_limit.app_error', 'Too many requests', {
        'retry-after': String(wait),
        'x-ratelimit-limit': String(this.limit.burst),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(wait),
      });

    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) return this.hook(url.pathname.slice(7), seen, res);
    if (!url.pathname.startsWith('/api/v4/'))
      return this.error(res, seen, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.error(res, seen, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
    const path = url.pathname.slice('/api/v4'.length);
    const body = parseJson(seen.body) as Record<string, unknown> | undefined;

    if (req.method === 'GET' && path === '/users/me')
      return this.send(res, seen, 200, { id: mattermostId('bot'), username: 'alert-triage' });
    let m = /^\/teams\/name\/([^/]+)\/channels\/name\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      const id = this.channels.get(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`);
      if (!id) return this.error(res, seen, 404, 'app.channel.get_by_name.missing.app_error', 'Channel does not exist.');
      return this.send(res, seen, 200, { id, name: m[2], type: 'O' });
    }
    m = /^\/channels\/([a-z0-9]{26})\/posts$/.exec(path);
    if (req.method === 'GET' && m) {
      if (![...this.channels.values()].includes(m[1]!))
        return this.error(res, seen, 403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      const since = Number(url.searchParams.get('since') ?? 0);
      const posts = this.posts.filter((p) => p.channel_id === m![1] && p.create_at >= since);
      return this.send(res, seen, 200, { order: posts.map((p) => p.id), posts: Object.fromEntries(posts.map((p) => [p.id, p])) });
    }
    m = /^\/posts\/([a-z0-9]{26})$/.exec(path);
    if (req.method === 'GET' && m) {
      const post = this.posts.find((p) => p.id === m![1]);
      return post ? this.send(res, seen, 200, post) : this.error(res, seen, 404, 'app.post.get.app_error', 'Unable to get the post.');
    }
    m = /^\/posts\/([a-z0-9]{26})\/patch$/.exec(path);
    if (req.method === 'PUT' && m) {
      const post = this.posts.find((p) => p.id === m[1]);
      if (!post) return this.error(res, seen, 404, 'app.post.get.app_error', 'Unable to get the post.');
      if (!body) return this.error(res, seen, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing post in request body.');
      if (typeof body['message'] === 'string') {
        if (body['message'].length > MAX_MESSAGE)
          return this.error(res, seen, 400, 'model.post.is_valid.msg.app_error', 'Invalid message.');
        post.message = body['message'];
      }
      if (body['props'] && typeof body['props'] === 'object') post.props = body['props'] as Record<string, unknown>;
      post.edits++;
      return this.send(res, seen, 200, post);
    }
    if (req.method === 'POST' && path === '/posts') {
      if (!body) return this.error(res, seen, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing post in request body.');
      const channel = typeof body['channel_id'] === 'string' ? body['channel_id'] : '';
      if (![...this.channels.values()].includes(channel))
        return this.error(res, seen, 403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      const message = typeof body['message'] === 'string' ? body['message'] : '';
      if (message.length > MAX_MESSAGE) return this.error(res, seen, 400, 'model.post.is_valid.msg.app_error', 'Invalid message.');
      const rootId = typeof body['root_id'] === 'string' ? body['root_id'] : '';
      if (rootId) {
        const root = this.posts.find((p) => p.id === rootId);
        if (!root || root.channel_id !== channel || root.root_id)
          return this.error(res, seen, 400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
      }
      const props = (body['props'] ?? {}) as Record<string, unknown>;
      if (props['attachments'] !== undefined && !Array.isArray(props['attachments']))
        return this.error(res, seen, 400, 'api.context.invalid_body_param.app_error', 'Invalid attachments.');
      const post = this.post({ channel_id: channel, root_id: rootId, message, props, viaWebhook: false });
      if (this.scripted(res, seen, () => this.keep(post)) === 'done') return;
      this.keep(post);
      return this.send(res, seen, 201, post);
    }
    return this.error(res, seen, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
  }

  private hook(key: string, seen: SeenRequest, res: ServerResponse): void {
    if (key !== this.webhookKey) return this.error(res, seen, 400, 'web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
    const body = parseJson(seen.body) as { text?: unknown; channel?: unknown; attachments?: unknown; props?: unknown } | undefined;
    if (!body) return this.error(res, seen, 400, 'web.incoming_webhook.parse.app_error', 'Unable to parse incoming data.');
    if (!body.text && !Array.isArray(body.attachments))
      return this.error(res, seen, 400, 'web.incoming_webhook.text.app_error', 'No text specified.');
    if (typeof body.text === 'string' && body.text.length > MAX_MESSAGE)
      return this.error(res, seen, 400, 'web.incoming_webhook.text.length.app_error', 'Text too long.');
    const team = this.opts.webhookTeam ?? [...this.channels.keys()][0]!.split('/')[0];
    const id = this.channels.get(`${team}/${typeof body.channel === 'string' ? body.channel : 'town-square'}`);
    if (!id) return this.error(res, seen, 403, 'web.incoming_webhook.channel.app_error', "Couldn't find the channel.");
    const post = this.post({
      channel_id: id,
      root_id: '',
      message: typeof body.text === 'string' ? body.text : '',
      props: { ...((body.props as object | undefined) ?? {}), attachments: body.attachments },
      viaWebhook: true,
    });
    if (this.scripted(res, seen, () => this.keep(post)) === 'done') return;
    this.keep(post);
    this.send(res, seen, 200, 'ok');
  }
}
