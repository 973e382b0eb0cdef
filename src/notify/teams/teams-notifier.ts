import type { ChecklistConfig } from '../../incidents/checklist.js';
import { readableUtc, zonedTime } from '../../incidents/timeline-text.js';
import { NotifyError, type Delivery, type DigestItem, type Notifier, type Pace, type PageContext } from '../../outbox/channel.js';
import { showBidiControlsDeep } from '../../well-formed.js';
import { httpRequest } from '../http-post.js';
import { firstSteps, incidentUrl } from '../render.js';
import { envSuffix, TEAMS_URL_PREFIX } from '../secret-names.js';
import { digestCard, incidentCard, workflowsMessage } from './adaptive-card.js';

/** Settings of the Teams channel, from the environment. */
export interface TeamsSettings {
  /** Each room's Workflows webhook URL, by the room's variable suffix (TEAMS_WEBHOOK_URL_OPS for `teams:ops`). */
  webhookUrls: Readonly<Record<string, string>>;
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  checklists?: (() => ChecklistConfig) | undefined;
  timeZoneOf?: ((team: string | null) => string | undefined) | undefined;
  pace?: Partial<Pace> | undefined;
}

/**
 * A Workflows flow runs once per request and Power Automate throttles a trigger that is called too
 * often (a 429 with Retry-After): one card a second per room, and a backlog of over 5 s folded into one card.
 */
export const TEAMS_PACE: Pace = { intervalMs: 1000, foldAfterMs: 5000 };

/**
 * Pages Microsoft Teams rooms through Workflows webhooks ("Post to a channel when a webhook request
 * is received"), one Adaptive Card per page. A Workflows webhook can only post: it cannot edit a
 * card nor read the channel, so every update (acknowledged, escalated, resolved) is a new card, and
 * a page whose outcome is unknown is posted again (at least once; docs/delivery-guarantees.md).
 * The URLs are secrets: no message, log line or timeline entry holds one.
 */
export class TeamsNotifier implements Notifier {
  readonly channel = 'teams' as const;
  readonly notConfigured: string | undefined;
  readonly pace: Pace;
  private readonly closing = new AbortController();

  constructor(private readonly settings: TeamsSettings) {
    this.notConfigured = Object.keys(settings.webhookUrls).length
      ? undefined
      : `Teams is not configured (no ${TEAMS_URL_PREFIX}<ROOM> set)`;
    this.pace = { ...TEAMS_PACE, ...settings.pace };
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    const zone = this.settings.timeZoneOf?.(incident.team);
    const steps = incident.status === 'resolved' || page.event === 'review' ? [] : firstSteps(this.settings.checklists, incident);
    const card = incidentCard(incident, page, {
      url: incidentUrl(this.settings.publicUrl, incident.id),
      steps,
      time: zone ? zonedTime(zone) : readableUtc,
    });
    return this.post(page.target, card);
  }

  async sendDigest(target: string, items: DigestItem[]): Promise<Delivery> {
    return this.post(
      target,
      digestCard(items, (id) => incidentUrl(this.settings.publicUrl, id)),
    );
  }

  abort(): void {
    this.closing.abort(new DOMException('shutting down', 'AbortError'));
  }

  private async post(room: string, card: object): Promise<Delivery> {
    const variable = `${TEAMS_URL_PREFIX}${envSuffix(room)}`;
    const url = this.settings.webhookUrls[envSuffix(room)];
    if (!url) throw new NotifyError(`Teams room "${room}" has no webhook URL (${variable} unset)`, false);
    const r = await httpRequest({
      service: 'Teams',
      url,
      headers: { 'content-type': 'application/json' },
      // Bidirectional controls from labels are shown, not obeyed.
      body: JSON.stringify(workflowsMessage(showBidiControlsDeep(card))),
      timeoutMs: this.settings.timeoutMs ?? 10_000,
      signal: this.closing.signal,
    });
    // 202: the flow took the card and runs on its own; its run ID is the only reference there is.
    const run = r.headers.get('x-ms-workflow-run-id');
    return { externalRef: `${room}:${run ?? `HTTP ${r.status}`}` };
  }
}
