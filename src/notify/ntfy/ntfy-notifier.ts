import type { Severity } from '../../classify/severity.js';
import type { ChecklistConfig } from '../../incidents/checklist.js';
import { describePage, readableUtc, zonedTime } from '../../incidents/timeline-text.js';
import { NotifyError, type Delivery, type Notifier, type Pace, type PageContext } from '../../outbox/channel.js';
import type { OutboxEntry } from '../../outbox/page.js';
import { showBidiControls } from '../../well-formed.js';
import { httpRequest } from '../http-post.js';
import { facts, firstSteps, incidentUrl, SEVERITY_STYLE, subject } from '../render.js';

/** Settings of the ntfy channel, from the environment. */
export interface NtfySettings {
  /** NTFY_URL: https://ntfy.sh or a server of one's own. */
  url: string | undefined;
  /** NTFY_TOKEN: an access token (tk_…), sent as a Bearer token; anonymous without it. */
  token?: string | undefined;
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  checklists?: (() => ChecklistConfig) | undefined;
  timeZoneOf?: ((team: string | null) => string | undefined) | undefined;
  pace?: Partial<Pace> | undefined;
}

/**
 * ntfy's priorities: 5 ("max", urgent) rings through Do Not Disturb on the phone apps, 1 is silent.
 * News that nobody has to act on (acknowledged, resolved, a review, a silence made) goes out at 2 whatever the severity.
 */
export const NTFY_PRIORITY: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2 };
const QUIET_EVENTS = new Set<OutboxEntry['event']>(['acknowledged', 'resolved', 'review', 'silenced']);
// Emoji shortcodes ntfy shows before the title, then the severity as a plain tag.
const TAGS: Record<Severity, string[]> = {
  critical: ['rotating_light', 'critical'],
  high: ['warning', 'high'],
  medium: ['large_yellow_circle', 'medium'],
  low: ['information_source', 'low'],
};

/** ntfy takes 60 messages at once from one client and then one every 5 s: a push per second per topic keeps well inside. */
export const NTFY_PACE: Pace = { intervalMs: 1000, foldAfterMs: 30_000 };
// ntfy's own rule for a topic name; anything else is refused with a 400 (or means another path).
const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;
// ntfy turns a message over 4,096 bytes into an attachment, or refuses it where attachments are off.
const MAX_MESSAGE_BYTES = 4000;
// The outbox id travels in a tag, the only field ntfy keeps that a poll of its cache gives back and that we choose.
const PAGE_TAG = /^page-(\d+)$/;

/**
 * Pushes pages to ntfy topics (a team's topic from `to:`, or each person's own from their contact
 * addresses), published as JSON so that no alert text ever becomes an HTTP header. ntfy keeps a
 * topic's recent messages in its cache: after an unknown outcome, the page is looked for there by
 * its `page-<id>` tag before it is pushed again.
 */
export class NtfyNotifier implements Notifier {
  readonly channel = 'ntfy' as const;
  readonly notConfigured: string | undefined;
  readonly pace: Pace;
  private readonly closing = new AbortController();

  constructor(private readonly settings: NtfySettings) {
    this.notConfigured = settings.url ? undefined : 'ntfy is not configured (NTFY_URL unset)';
    this.pace = { ...NTFY_PACE, ...settings.pace };
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    const base = this.base(page.target);
    const zone = this.settings.timeZoneOf?.(incident.team);
    const time = zone ? zonedTime(zone) : readableUtc;
    const f = facts(incident, time);
    const steps = incident.status === 'resolved' || page.event === 'review' ? [] : firstSteps(this.settings.checklists, incident);
    const lines = [
      describePage(page, time),
      `Status: ${f.status}`,
      incident.status === 'open' ? `Respond by: ${f.respondBy}` : '',
      f.summary,
      steps.length ? `First response:\n${steps.map((s, n) => `${n + 1}. ${s}`).join('\n')}` : '',
    ].filter(Boolean);
    const link = incidentUrl(this.settings.publicUrl, incident.id);
    const body = {
      topic: page.target,
      title: showBidiControls(`${SEVERITY_STYLE[incident.severity].label}: ${subject(incident).replace(/^\[\w+\] /, '')}`).slice(0, 250),
      // Plain text (markdown stays off): nothing in an alert's labels is read as markup.
      message: truncateBytes(showBidiControls(lines.join('\n')), MAX_MESSAGE_BYTES),
      priority: QUIET_EVENTS.has(page.event) ? 2 : NTFY_PRIORITY[incident.severity],
      tags: [...TAGS[incident.severity], `incident-${incident.id}`, `page-${page.id}`],
      ...(link ? { click: link, actions: [{ action: 'view', label: 'Open incident', url: link, clear: true }] } : {}),
    };
    const r = await httpRequest({
      service: 'ntfy',
      url: base,
      headers: { 'content-type': 'application/json', ...this.auth() },
      body: JSON.stringify(body),
      // ntfy's 429 has no Retry-After; its bucket gains a message every 5 s.
      rateLimitPauseMs: 5000,
      timeoutMs: this.settings.timeoutMs ?? 10_000,
      signal: this.closing.signal,
    });
    return { externalRef: `${page.target}:${messageId(r.text)}` };
  }

  /**
   * Polls the topic's cache since shortly before the page was queued, for a message tagged with the
   * page's id. A server with its cache off keeps nothing: the page is then sent again (at least once).
   */
  async findSent({ page }: PageContext): Promise<Delivery | undefined> {
    const base = this.base(page.target);
    const since = Math.floor(page.createdAt / 1000) - 60;
    let text: string;
    try {
      text = (
        await httpRequest({
          service: 'ntfy',
          method: 'GET',
          url: `${base}/${page.target}/json?poll=1&since=${since}`,
          headers: this.auth(),
          timeoutMs: this.settings.timeoutMs ?? 10_000,
          signal: this.closing.signal,
        })
      ).text;
    } catch (err) {
      const e = err as NotifyError;
      // Not allowed to read the topic (a write-only token): we can never tell, so send.
      if (!e.retryable) return undefined;
      throw new NotifyError(`${e.message} (looking the page up)`, true, { retryAfterMs: e.retryAfterMs });
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let m: { id?: string; event?: string; tags?: string[] };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        continue;
      }
      if (m.event === 'message' && m.tags?.some((t) => PAGE_TAG.exec(t)?.[1] === String(page.id)))
        return { externalRef: `${page.target}:${m.id ?? 'unknown'}` };
    }
    return undefined;
  }

  abort(): void {
    this.closing.abort(new DOMException('shutting down', 'AbortError'));
  }

  private base(topic: string): string {
    if (!this.settings.url) throw new NotifyError(this.notConfigured!, false);
    if (!TOPIC.test(topic)) throw new NotifyError(`ntfy: "${topic}" is not a topic name (letters, digits, - and _, at most 64)`, false);
    return this.settings.url.replace(/\/+$/, '');
  }

  private auth(): Record<string, string> {
    return this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {};
  }
}

function messageId(text: string): string {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === 'string' ? id : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary, with an ellipsis when cut. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}…`;
}
