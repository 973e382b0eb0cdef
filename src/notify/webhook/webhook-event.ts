import { createHash, createHmac } from 'node:crypto';
import type { IncidentWithDetails } from '../../incidents/model.js';
import { describePage } from '../../incidents/timeline-text.js';
import type { IncidentPage, OutboxEntry } from '../../outbox/page.js';
import { incidentUrl } from '../render.js';

/** The version of the event's shape; a change that is not a pure addition gets a new one (docs/outgoing-webhooks.md). */
export const EVENT_VERSION = 1;

/** The header names a receiver reads. */
export const HEADERS = {
  timestamp: 'x-alert-triage-timestamp',
  signature: 'x-alert-triage-signature',
  event: 'x-alert-triage-event',
  idempotencyKey: 'idempotency-key',
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The idempotency key of one event to one webhook: the same on every attempt (and after a restart,
 * since it derives from the stored page), different for every other event.
 */
export function eventId(page: Pick<OutboxEntry, 'id' | 'incidentId' | 'createdAt' | 'target' | 'event'>): string {
  const digest = createHash('sha256').update(`${page.incidentId}:${page.id}:${page.createdAt}:${page.target}:${page.event}`).digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

/** `incident.opened`, `incident.review_saved`, …: the event's type. */
export function eventType(event: IncidentPage['event']): string {
  return `incident.${event === 'review' ? 'review_saved' : event}`;
}

/** The JSON event of one page, as documented in docs/outgoing-webhooks.md. */
export function webhookEvent(page: IncidentPage, i: IncidentWithDetails, publicUrl: string | undefined): object {
  const firing = i.alerts.filter((a) => a.status === 'firing').length;
  return {
    version: EVENT_VERSION,
    id: eventId(page),
    type: eventType(page.event),
    occurredAt: iso(page.createdAt),
    summary: describePage(page),
    incident: {
      id: i.id,
      url: incidentUrl(publicUrl, i.id) ?? null,
      title: i.title,
      severity: i.severity,
      status: i.status,
      team: i.team,
      rule: i.rule,
      labels: i.groupLabels,
      openedAt: iso(i.openedAt),
      respondBy: iso(i.respondBy),
      slaBreached: i.slaBreached,
      acknowledgedAt: iso(i.acknowledgedAt),
      acknowledgedBy: i.acknowledgedBy,
      resolvedAt: iso(i.resolvedAt),
      resolvedBy: i.resolvedBy,
      alerts: { firing, resolved: i.alerts.length - firing },
    },
    // What caused the event, as the timeline records it (who acknowledged, which step, the review's fields).
    cause: page.cause,
    // The people the event concerns, by their address for this webhook (contact `addresses: { webhook: … }`).
    recipients: page.mentions,
  };
}

/** `v1=` and the hex HMAC-SHA256, keyed with the webhook's secret, of `v1:<timestamp>:<body>`. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`v1:${timestamp}:${body}`).digest('hex')}`;
}
