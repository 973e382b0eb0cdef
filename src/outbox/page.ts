import type { PageRequest } from '../incidents/page.js';
import type { TimelineEntry } from '../incidents/timeline.js';

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

/**
 * A dispatcher's hold on the pages it claims: who it is (unique per process) and until when the
 * claim stands unless renewed. A page whose lease has run out is another dispatcher's to take.
 */
export interface Lease {
  owner: string;
  until: number;
}

/** A page's destination: sends to one target never overlap; different targets never wait for each other. */
export function targetKey(p: Pick<PageRequest, 'channel' | 'target'>): string {
  return `${p.channel}\n${p.target}`;
}

/** The fields a timeline entry about a page names it by: mentioned people in a room, or the recipients. */
export function pageTarget(page: Pick<PageRequest, 'channel' | 'target' | 'event' | 'mentions' | 'recipients'>) {
  return {
    channel: page.channel,
    target: page.target,
    event: page.event,
    recipients: page.mentions.length ? page.mentions : page.recipients,
  };
}
