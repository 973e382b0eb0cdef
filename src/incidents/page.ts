import type { Severity } from '../classify/severity.js';
import type { ChannelName, PageEvent, TimelineEntry } from './timeline.js';

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
  /** The timeline entry the page tells about (who acknowledged, which step), or null for a new incident. */
  cause: TimelineEntry | null;
  /** When the change that called for it was decided; delivery latency is measured from here. */
  at: number;
  /** Set when the channel is not configured: the page is recorded as not sent, with this reason. */
  notSent?: string;
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

/** How one attempt to deliver a page ended, with the timeline entries that record it. */
export type PageOutcome = (
  | { status: 'sent'; externalRef: string }
  /** Delivered inside a digest (an alert storm): externalRef is the digest's. */
  | { status: 'folded'; externalRef: string }
  /** maybeSent: the outcome of this attempt is unknown; look the page up before sending it again. */
  | { status: 'retry'; nextAttemptAt: number; error: string; maybeSent?: boolean }
  | { status: 'failed'; error: string }
  /** Never attempted: the channel is not configured, or the incident is gone. Stored as failed. */
  | { status: 'skipped'; error: string }
  /** Not attempted after all (the channel's rate limit): back to the queue, the attempt not counted. */
  | { status: 'release'; nextAttemptAt: number }
) & { timeline?: TimelineEntry[] };
