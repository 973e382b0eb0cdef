import { NotifyError, type Delivery, type Notifier, type PageContext } from '../../outbox/channel.js';
import { httpRequest } from '../http-post.js';
import { envSuffix, WEBHOOK_URL_PREFIX } from '../secret-names.js';
import { eventId, eventType, HEADERS, sign, webhookEvent } from './webhook-event.js';

/** Settings of the outgoing webhooks, from the environment. */
export interface WebhookSettings {
  /** Each webhook's URL and signing secret, by its name's variable suffix (OUTGOING_WEBHOOK_URL_STATUS_PAGE for `webhook:status-page`). */
  endpoints: Readonly<Record<string, { url: string; secret: string }>>;
  publicUrl?: string | undefined;
  timeoutMs?: number | undefined;
  /** The service's clock, for the signature's timestamp. */
  now?: (() => number) | undefined;
}

/**
 * POSTs each event (opened, severity raised, deadline missed, escalated, reminder, acknowledged,
 * resolved, review saved) as signed, versioned JSON to the webhooks a route names. A receiver has
 * no history to look in, so delivery is at least once: every attempt carries the same idempotency
 * key, by which a receiver drops a copy. Every failed attempt is in the incident's timeline.
 */
export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly notConfigured: string | undefined;
  readonly recordsEveryRetry = true;
  private readonly closing = new AbortController();

  constructor(private readonly settings: WebhookSettings) {
    this.notConfigured = Object.keys(settings.endpoints).length
      ? undefined
      : `outgoing webhooks are not configured (no ${WEBHOOK_URL_PREFIX}<NAME> set)`;
  }

  async send({ page, incident }: PageContext): Promise<Delivery> {
    const endpoint = this.settings.endpoints[envSuffix(page.target)];
    if (!endpoint)
      throw new NotifyError(`webhook "${page.target}" has no URL (${WEBHOOK_URL_PREFIX}${envSuffix(page.target)} unset)`, false);
    const body = JSON.stringify(webhookEvent(page, incident, this.settings.publicUrl));
    // Signed anew at each attempt: a retry an hour later is still inside the receiver's replay window.
    const timestamp = Math.floor((this.settings.now ?? Date.now)() / 1000);
    const id = eventId(page);
    const r = await httpRequest({
      service: `webhook ${page.target}`,
      url: endpoint.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'alert-triage-webhook/1',
        [HEADERS.timestamp]: String(timestamp),
        [HEADERS.signature]: sign(endpoint.secret, timestamp, body),
        [HEADERS.event]: eventType(page.event),
        [HEADERS.idempotencyKey]: id,
      },
      body,
      timeoutMs: this.settings.timeoutMs ?? 10_000,
      signal: this.closing.signal,
    });
    return { externalRef: `${page.target}:${id} (HTTP ${r.status})` };
  }

  abort(): void {
    this.closing.abort(new DOMException('shutting down', 'AbortError'));
  }
}
