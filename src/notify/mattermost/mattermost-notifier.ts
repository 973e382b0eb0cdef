import type { ChecklistConfig } from '../../incidents/checklist.js';
import { readableUtc, zonedTime, type TimeFormat } from '../../incidents/timeline-text.js';
import { NotifyError, type Delivery, type Notifier, type Pace, type PageContext } from '../../outbox/channel.js';
import { showBidiControlsDeep } from '../../well-formed.js';
import { httpRequest, type HttpRequest } from '../http-post.js';
import { firstSteps, incidentUrl } from '../render.js';
import { announcement, threadReply } from './mattermost-message.js';

/** Where the notifier keeps each incident's root post in each channel (REST mode). */
export interface MattermostThreads {
  get(incidentId: number, target: string): Promise<{ channelId: string; postId: string } | undefined>;
  save(incidentId: number, target: string, channelId: string, postId: string): Promise<void>;
}

/** Settings of the Mattermost channel, from the environment. */
export interface MattermostSettings {
  /** MATTERMOST_URL and MATTERMOST_BOT_TOKEN: the REST API as a bot, with threads, edits and lookups. */
  url?: string | undefined;
  botToken?: string | undefined;
  /** MATTERMOST_WEBHOOK_URL: an incoming webhook, when no bot is set up (no threads, no lookups). */
  webhookUrl?: string | undefined;
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  checklists?: (() => ChecklistConfig) | undefined;
  timeZoneOf?: ((team: string | null) => string | undefined) | undefined;
  pace?: Partial<Pace> | undefined;
}

/** Mattermost limits each client to 10 requests a second by default: a page takes up to two, so two pages a second per channel. */
export const MATTERMOST_PACE: Pace = { intervalMs: 500, foldAfterMs: 30_000 };
// A channel ID: 26 lower-case letters and digits.
const CHANNEL_ID = /^[a-z0-9]{26}$/;
const PROP = 'alert_triage_outbox_id';

/**
 * Pages Mattermost channels. With a bot token it works as the Slack channel does: the first page of
 * an incident in a channel is a post, later ones update that post and reply in its thread, and a
 * page whose outcome is unknown is looked up in the channel by its outbox id before it is sent again.
 * With an incoming webhook only, every page is a new post and an unknown outcome is sent again.
 * Targets are `team/channel` (names) or a channel ID; through a webhook, the channel's name.
 */
export class MattermostNotifier implements Notifier {
  readonly channel = 'mattermost' as const;
  readonly notConfigured: string | undefined;
  readonly pace: Pace;
  private readonly closing = new AbortController();
  private readonly channelIds = new Map<string, string>();

  constructor(
    private readonly settings: MattermostSettings,
    private readonly threads: MattermostThreads,
  ) {
    this.notConfigured =
      (settings.url && settings.botToken) || settings.webhookUrl
        ? undefined
        : 'Mattermost is not configured (MATTERMOST_URL and MATTERMOST_BOT_TOKEN, or MATTERMOST_WEBHOOK_URL, unset)';
    this.pace = { ...MATTERMOST_PACE, ...settings.pace };
  }

  private get rest(): boolean {
    return Boolean(this.settings.url && this.settings.botToken);
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    const zone = this.settings.timeZoneOf?.(incident.team);
    const time: TimeFormat = zone ? zonedTime(zone) : readableUtc;
    const steps = incident.status === 'resolved' || page.event === 'review' ? [] : firstSteps(this.settings.checklists, incident);
    // Bidirectional controls from labels are shown, not obeyed.
    const post = showBidiControlsDeep(
      announcement(incident, page, { url: incidentUrl(this.settings.publicUrl, incident.id), steps, time }),
    );
    if (!this.rest) {
      await this.call({
        url: this.settings.webhookUrl!,
        body: JSON.stringify({
          channel: page.target.split('/').at(-1),
          text: post.message,
          attachments: post.attachments,
          props: { [PROP]: String(page.id) },
        }),
      });
      return { externalRef: `${page.target}:webhook` };
    }
    const root = await this.threads.get(incident.id!, page.target);
    if (!root) {
      const props = { attachments: post.attachments, [PROP]: String(page.id) };
      const channelId = await this.channelId(page.target);
      const created = await this.api<{ id: string }>('POST', '/api/v4/posts', { channel_id: channelId, message: post.message, props });
      // Mattermost has the post: a store that fails to keep the thread must not turn the page into a resend.
      await this.threads.save(incident.id!, page.target, channelId, created.id).catch(() => undefined);
      return { externalRef: `${channelId}:${created.id}` };
    }
    // The root shows the incident as it is now; the thread says what happened. A root someone deleted does not stop the news.
    // A patch replaces the props: the root's own outbox id is kept, so a lookup can still find the announcement.
    await this.api<{ props?: Record<string, unknown> }>('GET', `/api/v4/posts/${root.postId}`)
      .then((r) =>
        this.api('PUT', `/api/v4/posts/${root.postId}/patch`, {
          message: post.message,
          props: { ...r.props, attachments: post.attachments },
        }),
      )
      .catch((err: NotifyError) => {
        if (err.retryable) throw err;
      });
    const reply = await this.api<{ id: string }>('POST', '/api/v4/posts', {
      channel_id: root.channelId,
      root_id: root.postId,
      message: showBidiControlsDeep(threadReply(page, time)),
      props: { [PROP]: String(page.id) },
    });
    return { externalRef: `${root.channelId}:${reply.id}` };
  }

  /** REST mode: the channel's posts since shortly before the page was queued, searched for the page's outbox id. */
  async findSent({ page, incident }: PageContext): Promise<Delivery | undefined> {
    if (!this.rest) return undefined;
    const root = await this.threads.get(incident.id!, page.target);
    let channelId: string;
    try {
      channelId = root?.channelId ?? (await this.channelId(page.target));
      const since = page.createdAt - 60_000;
      const r = await this.api<{
        order?: string[];
        posts?: Record<string, { id: string; root_id?: string; props?: Record<string, unknown> }>;
      }>('GET', `/api/v4/channels/${channelId}/posts?since=${since}`);
      const found = Object.values(r.posts ?? {}).find((p) => p.props?.[PROP] === String(page.id));
      if (!found) return undefined;
      // The announcement: later pages of the incident reply in its thread.
      if (!root && !found.root_id) await this.threads.save(incident.id!, page.target, channelId, found.id);
      return { externalRef: `${channelId}:${found.id}` };
    } catch (err) {
      const e = err as NotifyError;
      // No permission to read the channel: we can never tell, so send.
      if (!e.retryable) return undefined;
      throw new NotifyError(`${e.message} (looking the page up)`, true, { retryAfterMs: e.retryAfterMs });
    }
  }

  abort(): void {
    this.closing.abort(new DOMException('shutting down', 'AbortError'));
  }

  /** A channel ID for a target: an ID as it is, `team/channel` looked up once. */
  private async channelId(target: string): Promise<string> {
    if (CHANNEL_ID.test(target)) return target;
    const known = this.channelIds.get(target);
    if (known) return known;
    const [team, name, ...rest] = target.split('/');
    if (!team || !name || rest.length)
      throw new NotifyError(`Mattermost: "${target}" is neither a channel ID nor team-name/channel-name`, false);
    const c = await this.api<{ id: string }>(
      'GET',
      `/api/v4/teams/name/${encodeURIComponent(team)}/channels/name/${encodeURIComponent(name)}`,
    );
    this.channelIds.set(target, c.id);
    return c.id;
  }

  private async api<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: object): Promise<T> {
    const r = await this.call({
      method,
      url: `${this.settings.url!.replace(/\/+$/, '')}${path}`,
      headers: { authorization: `Bearer ${this.settings.botToken!}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return JSON.parse(r.text || '{}') as T;
  }

  private call(r: Pick<HttpRequest, 'url' | 'body' | 'method' | 'headers'>) {
    return httpRequest({
      service: 'Mattermost',
      timeoutMs: this.settings.timeoutMs ?? 10_000,
      signal: this.closing.signal,
      ...r,
      headers: { 'content-type': 'application/json', ...r.headers },
    });
  }
}
