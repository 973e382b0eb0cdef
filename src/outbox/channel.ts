import type { IncidentWithDetails } from '../incidents/model.js';
import type { ChannelName, TimelineEntry } from '../incidents/timeline.js';
import type { IncidentPage, Notice, OutboxEntry } from './page.js';

/** A notice as the outbox hands it to a notifier: a page with its words and no incident. */
export type NoticePage = OutboxEntry & { notice: Notice };

/** What a notifier needs to send one page: the page and the incident as it is now. */
export interface PageContext {
  page: IncidentPage;
  incident: IncidentWithDetails;
}

/** What came of a delivery. */
export interface Delivery {
  /** Where the message is (Slack channel:ts, or the e-mail Message-ID), for the outbox. */
  externalRef: string;
  /** Recipients the server refused while accepting the rest (e-mail). */
  rejected?: string[];
  /** Entries the channel adds to the incident's timeline with the outcome (a checklist step the delivery completes). */
  entries?: TimelineEntry[];
}

/** What else a NotifyError knows about the failed call. */
export interface NotifyErrorDetails {
  /** The server's own Retry-After, when it gave one. */
  retryAfterMs?: number | undefined;
  /**
   * The request may have reached the server before the answer was lost (a timeout, a reset after
   * it was written, an abort at shutdown): the outcome is unknown, as after a crash, so the page
   * must be looked up before it is sent again.
   */
  maybeDelivered?: boolean | undefined;
}

/**
 * A failed send, saying whether a retry makes sense: network errors, 5xx, SMTP 4xx and rate
 * limits are retryable; bad credentials, unknown channels, SMTP 5xx are not.
 */
export class NotifyError extends Error {
  override name = 'NotifyError';
  readonly retryAfterMs: number | undefined;
  readonly maybeDelivered: boolean;
  constructor(
    message: string,
    readonly retryable: boolean,
    details: NotifyErrorDetails = {},
  ) {
    super(message);
    this.retryAfterMs = details.retryAfterMs;
    this.maybeDelivered = details.maybeDelivered ?? false;
  }
}

/** One incident of a digest, with the page that was folded into it. */
export interface DigestItem {
  page: IncidentPage;
  incident: IncidentWithDetails;
}

/**
 * How a channel that limits its rate takes its pages (Slack: about one message a second per
 * channel): at most one message per `intervalMs` to one target, across every replica, and a
 * backlog that would wait longer than `foldAfterMs` folded into one digest, when the notifier can
 * send one.
 */
export interface Pace {
  intervalMs: number;
  foldAfterMs: number;
}

/**
 * The contract every channel meets, and all the outbox knows of one: notify/registry.ts is the
 * only place that knows them all. A channel that batches (Slack's digest) says so here, through
 * `pace` and `sendDigest`, so that the outbox loop names no channel.
 */
export interface Notifier {
  readonly channel: ChannelName;
  /** Paced delivery; without it, each target's pages go out one after the other. */
  readonly pace?: Pace | undefined;
  /**
   * A channel that wakes a person (a call, a text): its pages about an incident still to act on
   * (opened, raised, escalated) are not sent once the incident is acknowledged or resolved, wherever
   * that happened; the timeline says they were stopped.
   */
  readonly wakes?: boolean;
  /** Why this channel cannot send (e.g. "SLACK_BOT_TOKEN unset"), or undefined when it can. */
  readonly notConfigured: string | undefined;
  /**
   * Every failed attempt gets its own `page_retrying` entry in the timeline, not only the first
   * three and every fifth (outgoing webhooks: the receiver's owner reads there why it got nothing).
   */
  readonly recordsEveryRetry?: boolean | undefined;
  /**
   * Its pages write no delivery entry of their own in the timeline (a status page's subscribers: one
   * page each, hundreds per update); outcomes are still counted in the metrics and logged on failure.
   */
  readonly quiet?: boolean | undefined;
  send(ctx: PageContext): Promise<Delivery>;
  /**
   * After a crash during a send: the delivery if the channel already has this page (found by its
   * outbox id), undefined if it does not or cannot tell.
   */
  findSent?(ctx: PageContext): Promise<Delivery | undefined>;
  /**
   * Sends a notice (a page of no incident: a handoff, a swap request); a channel without it skips
   * notices. The target is the page's (a Slack member ID or channel, e-mail recipients).
   */
  sendNotice?(page: NoticePage): Promise<Delivery>;
  /** As findSent, for a notice whose last send had an unknown outcome. */
  findNotice?(page: NoticePage): Promise<Delivery | undefined>;
  /** One message for many pages to the same target, when sending each would break the rate limit. */
  sendDigest?(target: string, items: DigestItem[]): Promise<Delivery>;
  /**
   * Shutdown: cancels every call in flight now and refuses new ones. The cancelled sends fail with
   * `maybeDelivered`; their pages stay `sending` and are settled by the next start.
   */
  abort?(): void;
  /** Lets go of what the notifier keeps open (pooled SMTP connections), once nothing is sent any more. */
  close?(): void;
}
