import type { IncidentWithDetails } from '../incidents/model.js';
import { SYSTEM, type TimelineEntry } from '../incidents/timeline.js';
import type { Pace } from './channel.js';
import { pageTarget, type OutboxEntry, type PageOutcome } from './page.js';

// The outbox's decisions, as pure functions of the pages, the policy and `now`: how a channel's due
// pages go out (one now, the rest later, or one digest), whether a failure is retried and when, and
// what each outcome records. The dispatcher loop only claims, calls these, delivers and records.

/** How the outbox retries; how a channel is paced is the channel's own (its notifier's `pace`). */
export interface OutboxPolicy {
  /** Attempts before a retryable failure is given up as failed. */
  maxAttempts: number;
  /** The longest backoff between two attempts. */
  maxBackoffMs: number;
}

/** 15 attempts, backoff capped at 5 minutes. */
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = { maxAttempts: 15, maxBackoffMs: 5 * 60_000 };

/** What to do with one paced target's due pages. `nextFree` is when the target may take its next message. */
export type BatchPlan =
  /** The channel is paused (a 429, or a message just went out): every page comes back together then. */
  | { action: 'wait'; until: number }
  /** Too many to send one per interval within `foldAfterMs`: one message for all of them. */
  | { action: 'digest'; pages: OutboxEntry[]; nextFree: number }
  /** Send one now; the others come back one interval apart. */
  | { action: 'send'; page: OutboxEntry; later: { page: OutboxEntry; at: number }[]; nextFree: number };

/**
 * Plans a paced target's batch: pages arrive most severe first, so the one sent now is the most
 * severe, and a backlog beyond the budget is judged as a whole and folded into one digest.
 */
export function planPacedBatch(pages: readonly OutboxEntry[], nextFree: number, now: number, pace: Pace, canDigest: boolean): BatchPlan {
  if (nextFree > now) return { action: 'wait', until: nextFree };
  const free = now + pace.intervalMs;
  const budget = Math.floor(pace.foldAfterMs / pace.intervalMs) + 1;
  if (pages.length > budget && canDigest) return { action: 'digest', pages: [...pages], nextFree: free };
  const [first, ...rest] = pages;
  return { action: 'send', page: first!, later: rest.map((page, i) => ({ page, at: now + (i + 1) * pace.intervalMs })), nextFree: free };
}

/** A failed attempt as the policy sees it; notify's NotifyError is one. */
export interface SendFailure {
  message: string;
  retryable: boolean;
  /** The server's own Retry-After, when it gave one. */
  retryAfterMs?: number | undefined;
  /** The request may have been delivered (a timeout, a reset after it was written): the outcome is unknown. */
  maybeDelivered?: boolean | undefined;
}

/**
 * Retry at `at` (and, for a server's Retry-After, pause the channel until then), or give up.
 * `lookUp`: the attempt's outcome is unknown, so the retry first looks for the page in the channel.
 */
export type RetryDecision = { retry: true; at: number; pauseChannel: boolean; lookUp: boolean } | { retry: false; gaveUp: boolean };

/**
 * Exponential backoff with jitter (1 s, 2 s, 4 s … capped), or the server's Retry-After; a permanent
 * failure, or the last attempt, is not retried. `random` is in [0, 1): tests pass a fixed one.
 */
export function decideRetry(
  page: Pick<OutboxEntry, 'attempts'>,
  failure: SendFailure,
  now: number,
  policy: OutboxPolicy,
  random: number,
): RetryDecision {
  if (!failure.retryable) return { retry: false, gaveUp: false };
  if (page.attempts >= policy.maxAttempts) return { retry: false, gaveUp: true };
  const lookUp = failure.maybeDelivered === true;
  if (failure.retryAfterMs !== undefined) return { retry: true, at: now + failure.retryAfterMs, pauseChannel: true, lookUp };
  const backoff = Math.min(policy.maxBackoffMs, 1000 * 2 ** (page.attempts - 1)) * (0.8 + 0.4 * random);
  return { retry: true, at: now + backoff, pauseChannel: false, lookUp };
}

/**
 * Whether a failed attempt gets its own `page_retrying` entry: the first three (so a retry shows at
 * once and a flapping channel is visible), then every fifth. With 15 attempts that is at most five
 * entries per page; the metrics count every attempt.
 */
export function recordsRetry(attempt: number): boolean {
  return attempt <= 3 || attempt % 5 === 0;
}

/** A delivery: `found` when a page left mid-send by a crash turned out to be delivered already. */
export function sentOutcome(
  page: OutboxEntry,
  delivery: { externalRef: string; rejected?: string[] | undefined; entries?: TimelineEntry[] | undefined },
  now: number,
  found: boolean,
): PageOutcome {
  const timeline: TimelineEntry[] = [{ at: now, actor: SYSTEM, kind: 'paged', ...pageTarget(page), outcome: found ? 'found' : 'sent' }];
  for (const r of delivery.rejected ?? []) {
    timeline.push({
      at: now,
      actor: SYSTEM,
      kind: 'page_failed',
      ...pageTarget(page),
      recipients: [r],
      outcome: 'rejected',
      reason: 'rejected by the mail server',
    });
  }
  timeline.push(...(delivery.entries ?? []));
  return { status: 'sent', externalRef: delivery.externalRef, timeline };
}

const DELIVERY_KINDS: ReadonlySet<string> = new Set(['paged', 'page_failed', 'page_retrying']);

/** An outcome of a quiet channel's page: the channel's own entries alone, none about the delivery. */
export function quietOutcome(outcome: PageOutcome): PageOutcome {
  return outcome.timeline ? { ...outcome, timeline: outcome.timeline.filter((e) => !DELIVERY_KINDS.has(e.kind)) } : outcome;
}

/** A page delivered inside a digest of `size` pages. */
export function foldedOutcome(page: OutboxEntry, digestRef: string, size: number, now: number): PageOutcome {
  return {
    status: 'folded',
    externalRef: `digest ${digestRef}`,
    timeline: [{ at: now, actor: SYSTEM, kind: 'paged', ...pageTarget(page), outcome: 'folded', digestOf: size }],
  };
}

/** A failed attempt, retried or not, as `decideRetry` decided. */
export function failedOutcome(
  page: OutboxEntry,
  failure: SendFailure,
  decision: RetryDecision,
  now: number,
  everyRetry = false,
  canLookUp = true,
): PageOutcome {
  if (decision.retry) {
    const outcome: PageOutcome = { status: 'retry', nextAttemptAt: decision.at, error: failure.message, maybeSent: decision.lookUp };
    if (!everyRetry && !recordsRetry(page.attempts)) return outcome;
    const entry: TimelineEntry = {
      at: now,
      actor: SYSTEM,
      kind: 'page_retrying',
      ...pageTarget(page),
      attempt: page.attempts,
      nextAttemptAt: decision.at,
      reason: failure.message,
      ...(decision.lookUp ? { unknownOutcome: true, ...(canLookUp ? {} : { noLookup: true }) } : {}),
    };
    return { ...outcome, timeline: [entry] };
  }
  const entry: TimelineEntry = decision.gaveUp
    ? {
        at: now,
        actor: SYSTEM,
        kind: 'page_failed',
        ...pageTarget(page),
        outcome: 'gave_up',
        reason: failure.message,
        attempts: page.attempts,
      }
    : { at: now, actor: SYSTEM, kind: 'page_failed', ...pageTarget(page), outcome: 'failed', reason: failure.message };
  return { status: 'failed', error: failure.message, timeline: [entry] };
}

/** A page that cannot be attempted at all (its channel is not configured, or its incident is gone). */
export function skippedOutcome(page: OutboxEntry, reason: string, now: number): PageOutcome {
  return {
    status: 'skipped',
    error: reason,
    timeline: [{ at: now, actor: SYSTEM, kind: 'page_failed', ...pageTarget(page), outcome: 'skipped', reason }],
  };
}

/** The events that call a person to act; once the incident is acknowledged or resolved, a page about one would wake them for nothing. */
const CALLS_TO_ACT: ReadonlySet<string> = new Set(['opened', 'severity_raised', 'sla_breached', 'escalated', 'reminder']);

/**
 * Why a page that wakes a person is no longer to be sent ("acknowledged by Alice Martin"), or
 * undefined while the incident still waits for someone.
 */
export function stoppedBy(page: OutboxEntry, incident: IncidentWithDetails | undefined): string | undefined {
  if (!incident || incident.status === 'open' || !CALLS_TO_ACT.has(page.event)) return undefined;
  const last = [...incident.timeline].reverse().find((e) => e.kind === 'acknowledged' || e.kind === 'resolved');
  if (last?.kind === 'acknowledged') return `acknowledged by ${last.by}`;
  if (last?.kind === 'resolved') return last.via === 'alertmanager' ? 'resolved (every alert resolved)' : `resolved by ${last.by}`;
  return incident.status;
}

/** A page stopped before it went out, because the incident was acknowledged or resolved meanwhile. */
export function stoppedOutcome(page: OutboxEntry, reason: string, now: number): PageOutcome {
  return {
    status: 'skipped',
    error: `stopped: ${reason}`,
    timeline: [{ at: now, actor: SYSTEM, kind: 'page_failed', ...pageTarget(page), outcome: 'stopped', reason }],
  };
}
