import type { Severity } from '../classify/severity.js';

/** The channels the service can page through; the registry (notify/registry.ts) has one notifier each. */
export type ChannelName = 'slack' | 'email';

/** What happened to an incident that a page tells people about. */
export type PageEvent = 'opened' | 'severity_raised' | 'sla_breached' | 'escalated' | 'reminder' | 'acknowledged' | 'resolved';

/**
 * One message to send, decided in the same transaction as the incident change that caused it
 * and kept in the outbox until it is delivered.
 */
export interface PageRequest {
  channel: ChannelName;
  /** A Slack channel (#name or ID), or the e-mail recipients joined by ", ". */
  target: string;
  event: PageEvent;
  severity: Severity;
  /** Slack member IDs to mention. */
  mentions: string[];
  /** E-mail addresses. */
  recipients: string[];
  /** Free text for the event (who acknowledged, which step). */
  note: string;
  /** When the change that called for it was decided; delivery latency is measured from here. */
  at: number;
  /** Set when the channel is not configured: the page is recorded as not sent, with this reason. */
  notSent?: string;
}

/** "Slack #incidents" or "E-mail to a@x, b@y": how the timeline and the log name a page's destination. */
export function describeTarget(page: Pick<PageRequest, 'channel' | 'target'>): string {
  return page.channel === 'slack' ? `Slack ${page.target}` : `E-mail to ${page.target}`;
}

/** A page as stored in the outbox. */
export interface OutboxEntry extends Omit<PageRequest, 'at' | 'notSent'> {
  id: number;
  incidentId: number;
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'folded';
  attempts: number;
  nextAttemptAt: number;
  /** The PageRequest's `at`. */
  createdAt: number;
  /** The process died while this was being sent: look for it in the channel before sending again. */
  maybeSent: boolean;
}
