import type { PageRequest } from '../incidents/page.js';
import type { TimelineEntry } from '../incidents/timeline.js';

/**
 * A message about on-call rather than about an incident (a handoff, a swap or cover request and its
 * answer), or a status page subscription's confirmation e-mail (whose words the status-email channel
 * makes when it sends, from the subscriber's row): plain text that each channel escapes its own way,
 * so that names and titles it quotes are never markup.
 */
export interface Notice {
  kind: 'handoff' | 'shift_summary' | 'oncall_request' | 'oncall_answer' | 'status_confirmation';
  /** One line: an e-mail's subject, a chat message's first line. */
  title: string;
  /** The rest, a line each. */
  lines: string[];
  /** The page it is about (the rotation's /oncall page), when PUBLIC_URL is known. */
  url?: string | undefined;
}

/** A notice to queue: its destination on one channel (a Slack member ID or channel, e-mail recipients) and when it was decided. */
export interface NewNotice {
  channel: PageRequest['channel'];
  target: string;
  recipients: string[];
  notice: Notice;
  at: number;
}

/** A page as stored in the outbox; a notice (`notice` set) belongs to no incident. */
export interface OutboxEntry extends Omit<PageRequest, 'at' | 'notSent' | 'event'> {
  id: number;
  /** What the page tells of its incident; 'notice' for a notice. */
  event: PageRequest['event'] | 'notice';
  /** The incident the page is about; null for a notice. */
  incidentId: number | null;
  notice?: Notice | undefined;
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'folded';
  attempts: number;
  nextAttemptAt: number;
  /** The PageRequest's `at`. */
  createdAt: number;
  /** The process died while this was being sent: look for it in the channel before sending again. */
  maybeSent: boolean;
}

/** A page about an incident: what notifiers' send and digests take. */
export type IncidentPage = OutboxEntry & { incidentId: number; event: PageRequest['event']; notice?: undefined };

/** Whether a page is about an incident (not a notice). */
export function isIncidentPage(page: OutboxEntry): page is IncidentPage {
  return page.incidentId !== null && page.event !== 'notice';
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
export function pageTarget(page: Pick<OutboxEntry, 'channel' | 'target' | 'event' | 'mentions' | 'recipients'>) {
  return {
    channel: page.channel,
    target: page.target,
    // A notice's outcome is written to no timeline (PageDelivery.record drops it): its event never reaches one.
    event: page.event as PageRequest['event'],
    recipients: page.mentions.length ? page.mentions : page.recipients,
  };
}
