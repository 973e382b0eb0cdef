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
  /**
   * When the page is due: when the change that called for it was decided, or later for a step of a
   * person's notification rules (a call a minute after the text). Delivery latency is measured from here.
   */
  at: number;
  /**
   * A page of a person's notification rules (a text, a call) rather than of a room: whose it is, and
   * whether it is the last step on its method, after which an unanswered call moves the escalation on.
   */
  personal?: { contact: string; lastOfMethod: boolean } | undefined;
  /** A status page subscriber's id (the status-email channel): the address is read at send time, never copied here. */
  subscriber?: number | undefined;
  /** Set when the channel is not configured: the page is recorded as not sent, with this reason. */
  notSent?: string;
}
