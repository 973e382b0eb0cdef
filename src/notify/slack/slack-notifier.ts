import {
  ErrorCode,
  type WebClient,
  type ConversationsHistoryResponse,
  type ConversationsListResponse,
  type WebAPICallResult,
} from '@slack/web-api';
import type { IncidentWithDetails } from '../../incidents/model.js';
import type { ChecklistConfig } from '../../incidents/checklist.js';
import { SEVERITIES, severityRank } from '../../classify/severity.js';
import {
  NotifyError,
  type Delivery,
  type DigestItem,
  type NoticePage,
  type Notifier,
  type Pace,
  type PageContext,
} from '../../outbox/channel.js';
import type { OutboxEntry } from '../../outbox/page.js';
import { randomBytes } from 'node:crypto';
import { slackWebClient } from './web-client.js';
import { describePage, readableUtc, type TimeFormat } from '../../incidents/timeline-text.js';
import { showBidiControls, showBidiControlsDeep } from '../../well-formed.js';
import { facts, firstSteps, incidentUrl, SEVERITY_STYLE, slackEscape, slackText, slackUrl, subject } from '../render.js';

/** Where the Slack notifier keeps the message that announced each incident in each channel. */
export interface SlackThreads {
  get(incidentId: number, target: string): Promise<{ channelId: string; ts: string } | undefined>;
  save(incidentId: number, target: string, channelId: string, ts: string): Promise<void>;
}

/** Settings of the Slack channel, from the environment. */
export interface SlackSettings {
  token: string | undefined;
  /** SLACK_API_URL: another base URL for the Web API (a proxy, or the tests' server). */
  apiUrl?: string | undefined;
  /** PUBLIC_URL, to link each incident's page. */
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  /** The checklists in force, whose first section is the page's first response; the plan's without it. */
  checklists?: (() => ChecklistConfig) | undefined;
  /** Another pace than Slack's (tests). */
  pace?: Partial<Pace> | undefined;
}

/** Slack takes about one message a second per channel: one per 1.1 s, and a backlog of over 3 s folded into a digest. */
export const SLACK_PACE: Pace = { intervalMs: 1100, foldAfterMs: 3000 };

const METADATA_TYPE = 'alert_triage_page';

/** A time as Slack shows it, in each reader's own zone ("Today at 9:22 PM"); the fallback is readable UTC. */
export function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${readableUtc(ms)}>`;
}

// Times in words that are escaped for mrkdwn afterwards are written as marks, made Slack dates once
// escaped. The mark has a part no alert can guess, so a label cannot forge one.
const MARK = `\u0001${randomBytes(6).toString('hex')}:`;
const MARKS = new RegExp(`${MARK}(\\d{1,15})\u0001`, 'g');
const markTime: TimeFormat = (ms) => `${MARK}${ms}\u0001`;
const withSlackDates = (text: string) => text.replace(MARKS, (_, ms: string) => slackDate(Number(ms)));
// Errors Slack gives for requests that will never succeed as they are.
const PERMANENT = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'invalid_blocks',
  'invalid_arguments',
  'message_not_found',
  'cant_update_message',
]);

/**
 * Pages through Slack's Web API with the real @slack/web-api client. Its own retry policy (ten
 * retries over half an hour, and a 429 that pauses every channel) is off: the outbox retries,
 * per page and per channel. The first page of an incident in a channel is a message; later events
 * update that message and reply in its thread.
 */
export class SlackNotifier implements Notifier {
  readonly channel = 'slack' as const;
  readonly notConfigured: string | undefined;
  readonly pace: Pace;
  private readonly client: WebClient | undefined;
  /** Aborted at shutdown: every request of the client listens to it. */
  private readonly closing = new AbortController();
  /**
   * Conversation IDs by target. Posting takes a #name, but reading a channel's history takes its
   * ID: learned from every answer to a post, and looked up by name when none was seen yet (after
   * a restart, when the lookups matter most).
   */
  private readonly conversationIds = new Map<string, string>();

  constructor(
    private readonly settings: SlackSettings,
    private readonly threads: SlackThreads,
  ) {
    this.notConfigured = settings.token ? undefined : 'Slack is not configured (SLACK_BOT_TOKEN unset)';
    this.pace = { ...SLACK_PACE, ...settings.pace };
    this.client = settings.token
      ? slackWebClient({
          token: settings.token,
          apiUrl: settings.apiUrl,
          timeoutMs: settings.timeoutMs,
          // The client has no per-call signal; this fetch adds ours to its timeout so shutdown can cut calls short.
          fetch: (url, init) =>
            fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, this.closing.signal]) : this.closing.signal }),
        })
      : undefined;
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    const client = this.requireClient();
    const root = await this.threads.get(incident.id!, page.target);
    // Bidirectional controls from labels are shown, not obeyed: nothing in Slack displays reversed.
    const message = showBidiControlsDeep(this.message(incident, page));
    const metadata = { event_type: METADATA_TYPE, event_payload: { outbox_id: page.id, incident_id: incident.id! } };
    if (!root) {
      const r = await call(() => client.chat.postMessage({ channel: page.target, ...message, metadata }));
      const channelId = String(r.channel);
      const ts = String(r.ts);
      this.conversationIds.set(page.target, channelId);
      // Slack has the message now: a store that fails to keep its thread must not turn the page
      // into a blind resend. The next page of the incident then starts a new thread instead.
      await this.threads.save(incident.id!, page.target, channelId, ts).catch(() => undefined);
      return { externalRef: `${channelId}:${ts}` };
    }
    // The announcement shows the incident as it is now; the thread says what happened. An
    // announcement someone deleted (or can no longer be edited) does not stop the thread's news.
    await call(() => client.chat.update({ channel: root.channelId, ts: root.ts, ...message })).catch((err: NotifyError) => {
      if (!UPDATE_GONE.test(err.message)) throw err;
    });
    const reply = await call(() =>
      client.chat.postMessage({
        channel: root.channelId,
        thread_ts: root.ts,
        text: showBidiControls(`${mentions(page)}${withSlackDates(slackText(describePage(page, markTime)))}`),
        metadata,
      }),
    );
    return { externalRef: `${root.channelId}:${String(reply.ts)}` };
  }

  async findSent({ page, incident }: PageContext): Promise<Delivery | undefined> {
    const client = this.requireClient();
    const root = await this.threads.get(incident.id!, page.target);
    const oldest = String(Math.floor(page.createdAt / 1000) - 60);
    try {
      // A thread reply is in the thread. The page may also have gone out as a top-level message:
      // as the announcement (whose answer was lost while a later page of the incident started the
      // thread), or folded into a digest.
      if (root) {
        const r = await client.conversations.replies({
          channel: root.channelId,
          ts: root.ts,
          oldest,
          include_all_metadata: true,
          limit: 200,
        });
        const found = (r.messages ?? []).find((m) => carries(m, page.id));
        if (found) return { externalRef: `${root.channelId}:${String(found.ts)}` };
      }
      const channelId = root?.channelId ?? (await this.conversationId(page.target));
      // A channel no lookup can name (no channels:read scope, or not a member): we can never tell, so send.
      if (!channelId) return undefined;
      const found = await this.searchHistory(channelId, oldest, page.id);
      if (!found) return undefined;
      // The announcement: later pages of the incident reply in its thread.
      if (!root && !isDigest(found)) await this.threads.save(incident.id!, page.target, channelId, String(found.ts));
      return { externalRef: `${channelId}:${String(found.ts)}` };
    } catch (err) {
      // Slack unreachable, rate-limited or failing (or a proxy refusing the lookup): we cannot tell
      // yet, so ask again later rather than risk a second copy. Never a reason to give the page up.
      if (!isRefusal(err)) {
        const e = toNotifyError(err);
        throw e.retryable ? e : new NotifyError(`${e.message} (looking the page up)`, true, { retryAfterMs: e.retryAfterMs });
      }
      // No history scope (channels:history) or another refusal: we can never tell, so send.
      return undefined;
    }
  }

  /**
   * A notice: to a member ID (a direct message from the app) or a channel. Its words are escaped for
   * mrkdwn, so a name or title it quotes is never markup or a mention.
   */
  async sendNotice(page: NoticePage): Promise<Delivery> {
    const client = this.requireClient();
    const { title, lines, url } = page.notice;
    const body = [`*${slackText(title)}*`, ...lines.map(slackText), ...(url ? [`<${slackUrl(url)}|Open the on-call page>`] : [])].join(
      '\n',
    );
    const r = await call(() =>
      client.chat.postMessage(
        showBidiControlsDeep({
          channel: page.target,
          text: body,
          // Not unfurled: the on-call page's link would add a preview to every notice.
          unfurl_links: false,
          metadata: { event_type: METADATA_TYPE, event_payload: { outbox_id: page.id, notice: page.notice.kind } },
        }),
      ),
    );
    this.conversationIds.set(page.target, String(r.channel));
    return { externalRef: `${String(r.channel)}:${String(r.ts)}` };
  }

  /** After an unknown outcome: the notice in its conversation's history (a direct message's too), by its outbox id. */
  async findNotice(page: NoticePage): Promise<Delivery | undefined> {
    const oldest = String(Math.floor(page.createdAt / 1000) - 60);
    try {
      const channelId = await this.conversationId(page.target);
      if (!channelId) return undefined;
      const found = await this.searchHistory(channelId, oldest, page.id);
      return found ? { externalRef: `${channelId}:${String(found.ts)}` } : undefined;
    } catch (err) {
      // As findSent: unreachable or rate-limited, ask again later; refused (no im:history scope), send.
      if (!isRefusal(err)) {
        const e = toNotifyError(err);
        throw e.retryable ? e : new NotifyError(`${e.message} (looking the notice up)`, true, { retryAfterMs: e.retryAfterMs });
      }
      return undefined;
    }
  }

  /** The top-level message since `oldest` that carries page `id` (alone or in a digest), reading every page of the answer. */
  private async searchHistory(channel: string, oldest: string, id: number): Promise<SlackMessage | undefined> {
    for await (const r of this.pages('conversations.history', { channel, oldest, include_all_metadata: true, limit: 200 })) {
      const found = ((r as ConversationsHistoryResponse).messages ?? []).find((m) => carries(m, id));
      if (found) return found;
    }
    return undefined;
  }

  /** The ID of the conversation a target names (#name or an ID), or undefined when Slack names none. */
  private async conversationId(target: string): Promise<string | undefined> {
    const known = this.conversationIds.get(target);
    if (known) return known;
    // A member ID: the app's direct-message conversation with that person (im:write).
    if (/^[UW][A-Z0-9]+$/.test(target)) {
      const r = await this.requireClient().conversations.open({ users: target });
      const id = r.channel?.id;
      if (id) this.conversationIds.set(target, id);
      return id;
    }
    if (!target.startsWith('#')) return target;
    for await (const r of this.pages('conversations.list', {
      types: 'public_channel,private_channel',
      exclude_archived: true,
      limit: 1000,
    })) {
      for (const c of (r as ConversationsListResponse).channels ?? []) if (c.name && c.id) this.conversationIds.set(`#${c.name}`, c.id);
      const id = this.conversationIds.get(target);
      if (id) return id;
    }
    return undefined;
  }

  /** The pages of a cursor-paginated listing, through the client's own paginate, at most MAX_LOOKUP_PAGES of them. */
  private async *pages(method: string, options: Record<string, unknown>): AsyncGenerator<WebAPICallResult> {
    let n = 0;
    for await (const page of this.requireClient().paginate(method, options)) {
      yield page;
      if (++n >= MAX_LOOKUP_PAGES) return;
    }
  }

  abort(): void {
    this.closing.abort(new DOMException('shutting down', 'AbortError'));
  }

  async sendDigest(target: string, items: DigestItem[]): Promise<Delivery> {
    const client = this.requireClient();
    const counts = SEVERITIES.map((s) => [s, items.filter((i) => i.incident.severity === s).length] as const).filter(([, n]) => n > 0);
    const worst = counts[0]![0];
    const sorted = [...items].sort(
      (a, b) => severityRank(a.incident.severity) - severityRank(b.incident.severity) || a.incident.id! - b.incident.id!,
    );
    const headline = `${items.length} incident updates: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}`;
    const lines = sorted
      .slice(0, 40)
      .map(
        ({ incident, page }) =>
          `${SEVERITY_STYLE[incident.severity].emoji} ${this.link(incident)} ${slackText(incident.title)} (${page.event.replace('_', ' ')})`,
      );
    if (sorted.length > 40) lines.push(`…and ${sorted.length - 40} more: see /api/incidents`);
    const allMentions = [...new Set(items.flatMap((i) => i.page.mentions))];
    const r = await call(() =>
      client.chat.postMessage(
        showBidiControlsDeep({
          channel: target,
          text: `${allMentions.map((m) => `<@${m}>`).join(' ')} ${headline}`.trim(),
          attachments: [
            {
              color: SEVERITY_STYLE[worst].color,
              fallback: headline,
              blocks: [
                { type: 'section', text: { type: 'mrkdwn', text: `*${headline}* (folded to stay within Slack's rate limit)` } },
                { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } },
              ],
            },
          ],
          metadata: { event_type: METADATA_TYPE, event_payload: { outbox_ids: items.map((i) => i.page.id).join(',') } },
        }),
      ),
    );
    this.conversationIds.set(target, String(r.channel));
    return { externalRef: `${String(r.channel)}:${String(r.ts)}` };
  }

  private requireClient(): WebClient {
    if (!this.client) throw new NotifyError(this.notConfigured!, false);
    return this.client;
  }

  private link(i: IncidentWithDetails): string {
    const url = incidentUrl(this.settings.publicUrl, i.id);
    return url ? `<${url}|#${i.id}>` : `#${i.id}`;
  }

  private message(i: IncidentWithDetails, page: OutboxEntry) {
    const style = SEVERITY_STYLE[i.severity];
    const f = facts(i);
    const blocks: object[] = [
      // plain_text is never parsed for mentions; angle brackets are swapped anyway so no client ever does.
      {
        type: 'header',
        text: { type: 'plain_text', text: `${style.emoji} ${style.label}: ${i.title.replace(/</g, '‹').replace(/>/g, '›')}`.slice(0, 150) },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Incident*\n${this.link(i)}` },
          { type: 'mrkdwn', text: `*Status*\n${slackText(f.status)}` },
          { type: 'mrkdwn', text: `*Severity*\n${slackText(f.severity)}` },
          { type: 'mrkdwn', text: `*Respond by*\n${slackDate(i.respondBy)}` },
          { type: 'mrkdwn', text: `*Alerts*\n${f.alerts}` },
        ],
      },
    ];
    if (f.labels.length)
      blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: f.labels.map((l) => `\`${slackEscape(l).replace(/`/g, "'")}\``).join(' ') },
      });
    const about = [
      f.summary && `*${slackText(f.summary)}*`,
      f.description && slackText(f.description),
      f.runbook && `<${slackUrl(f.runbook)}|Runbook>`,
    ]
      .filter(Boolean)
      .join('\n');
    if (about) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: about.slice(0, 2900) } });
    if (i.status !== 'resolved') {
      blocks.push({
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*First response*\n${firstSteps(this.settings.checklists, i)
            .map((s, n) => `${n + 1}. ${slackText(s)}`)
            .join('\n')}`,
        },
      });
    }
    if (page.mentions.length && page.event === 'opened')
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `Paging ${mentions(page).trim()}` } });
    if (i.status !== 'resolved') {
      blocks.push({
        type: 'actions',
        block_id: `incident-${i.id}`,
        elements: [
          ...(i.status === 'open'
            ? [
                {
                  type: 'button',
                  action_id: 'ack',
                  text: { type: 'plain_text', text: 'Acknowledge' },
                  style: 'primary',
                  value: String(i.id),
                },
              ]
            : []),
          { type: 'button', action_id: 'resolve', text: { type: 'plain_text', text: 'Resolve' }, style: 'danger', value: String(i.id) },
          // Silencing the group needs its group labels (a group of nothing would silence every alert).
          ...(Object.keys(i.groupLabels).length ? SILENCE_BUTTONS.map((b) => silenceButton(i.id!, b.length, b.label)) : []),
        ],
      });
    }
    const text = `${page.event === 'opened' ? mentions(page) : ''}${slackText(subject(i))}: respond by ${slackDate(i.respondBy)}`;
    return { text, attachments: [{ color: style.color, fallback: slackEscape(subject(i)), blocks }] };
  }
}

/** A message as conversations.history and conversations.replies give it, with our metadata. */
type SlackMessage = { ts?: string; metadata?: { event_type?: string; event_payload?: { outbox_id?: unknown; outbox_ids?: unknown } } };

/** Whether a message is page `id`'s: its own (outbox_id) or a digest that folded it (outbox_ids). */
function carries(m: object, id: number): boolean {
  const meta = (m as SlackMessage).metadata;
  if (meta?.event_type !== METADATA_TYPE) return false;
  const p = meta.event_payload;
  if (p?.outbox_id === id) return true;
  return typeof p?.outbox_ids === 'string' && p.outbox_ids.split(',').includes(String(id));
}

function isDigest(m: SlackMessage): boolean {
  return typeof m.metadata?.event_payload?.outbox_ids === 'string';
}

// How many pages of a listing a lookup reads at most (200 messages or 1,000 channels each).
const MAX_LOOKUP_PAGES = 10;
// chat.update refusals that mean the announcement is gone or frozen, not that the page cannot go.
const UPDATE_GONE = /^Slack: (message_not_found|cant_update_message|edit_window_closed)$/;

function mentions(page: OutboxEntry): string {
  return page.mentions.length ? `${page.mentions.map((m) => `<@${m}>`).join(' ')} ` : '';
}

/** Runs one Web API call and turns its failure into a NotifyError that says whether to retry. */
async function call(fn: () => Promise<WebAPICallResult>): Promise<WebAPICallResult & { channel?: string; ts?: string }> {
  try {
    return await fn();
  } catch (err) {
    throw toNotifyError(err);
  }
}

// Failures that happen before a request can have been written: Slack cannot have the message.
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Slack answered and refused the call itself (missing_scope, channel_not_found, ...): asking again will not help. */
function isRefusal(err: unknown): boolean {
  return (err as { code?: string }).code === ErrorCode.PlatformError;
}

function toNotifyError(err: unknown): NotifyError {
  const e = err as {
    code?: string;
    data?: { error?: string };
    retryAfter?: number;
    statusCode?: number;
    message: string;
    original?: Error & { cause?: { code?: string } };
  };
  if (e.code === ErrorCode.RateLimitedError)
    return new NotifyError('Slack rate limit (429)', true, { retryAfterMs: (e.retryAfter ?? 1) * 1000 });
  if (e.code === ErrorCode.PlatformError) {
    const reason = e.data?.error ?? 'unknown_error';
    return new NotifyError(`Slack: ${reason}`, !PERMANENT.has(reason));
  }
  if (e.code === ErrorCode.HTTPError) {
    // A 502/503/504 or 408 may come from a proxy after Slack stored the message: look before resending.
    const unknown = e.statusCode === undefined || e.statusCode === 408 || (e.statusCode >= 502 && e.statusCode <= 504);
    return new NotifyError(
      `Slack HTTP ${e.statusCode ?? ''}`.trim(),
      e.statusCode === undefined || e.statusCode >= 500 || e.statusCode === 408,
      { maybeDelivered: unknown },
    );
  }
  // Network errors, timeouts, aborts. Unless the connection was never made, the request may have been
  // written and Slack may have stored the message with only the answer lost: the outcome is unknown.
  const original = e.original;
  const cause = original?.cause?.code ?? (original as { code?: string } | undefined)?.code;
  const reason =
    original?.name === 'TimeoutError'
      ? 'timed out'
      : original?.name === 'AbortError'
        ? 'aborted'
        : (cause ?? original?.message ?? e.message);
  return new NotifyError(`Slack unreachable: ${reason}`, true, { maybeDelivered: !(cause && NEVER_SENT.has(cause)) });
}

/** The Silence buttons of an open incident's message: the whole group, in Alertmanager, for this long. */
export const SILENCE_BUTTONS = [
  { length: '1h', label: 'Silence 1 h' },
  { length: '4h', label: 'Silence 4 h' },
] as const;

function silenceButton(id: number, length: string, label: string) {
  return {
    type: 'button',
    action_id: `silence_${length}`,
    text: { type: 'plain_text', text: label },
    value: String(id),
    // A silence mutes alerts for everyone: asked once more, as Slack does for destructive buttons.
    confirm: {
      title: { type: 'plain_text', text: 'Silence in Alertmanager?' },
      text: { type: 'plain_text', text: `Silence the whole group of incident #${id} in Alertmanager for ${length.replace('h', ' h')}?` },
      confirm: { type: 'plain_text', text: label },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}
