import type { Clock } from '../clock.js';
import type { IncidentWithDetails } from '../incidents/model.js';
import type { ChannelName } from '../incidents/timeline.js';
import { NotifyError, type Delivery, type DigestItem, type Notifier } from './channel.js';
import { isIncidentPage, targetKey, type IncidentPage, type OutboxEntry, type PageOutcome } from './page.js';
import type { Pacer } from './pacing.js';
import {
  decideRetry,
  failedOutcome,
  foldedOutcome,
  quietOutcome,
  sentOutcome,
  skippedOutcome,
  stoppedBy,
  stoppedOutcome,
  type OutboxPolicy,
} from './policy.js';
import type { OutboxLogger, OutboxStore, PageObserver } from './ports.js';

/**
 * How many outcomes of one batch are recorded at once: a whole claim's (CLAIM_LIMIT). Each store
 * records the outcomes asked in one turn together (one transaction on SQLite, one statement on
 * PostgreSQL), so a digest of 500 pages is one write, not 32 of 16.
 */
const RECORD_CONCURRENCY = 500;

/** Runs `fn` on every item, at most `limit` at a time. */
async function inTurns<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The delivery stages of one target's batch, in the way of Alertmanager's notify pipeline: look a
 * page of unknown outcome up, send, decide a retry, record. A paced channel's batch is planned
 * first (one now, the rest later, or one digest). An outcome is recorded only while this process
 * still holds the page's lease.
 */
export class PageDelivery {
  /** Shutdown cut the sends in flight short: their failures are not recorded, their pages stay `sending`. */
  aborted = false;

  constructor(
    private readonly store: OutboxStore,
    private readonly notifiers: ReadonlyMap<ChannelName, Notifier>,
    private readonly pacer: Pacer,
    private readonly clock: Clock,
    private readonly observer: PageObserver,
    private readonly log: OutboxLogger,
    private readonly policy: OutboxPolicy,
    private readonly owner: string,
    private readonly random: () => number,
  ) {}

  /** Delivers one target's claimed pages, as its channel takes them: paced, or one after the other. */
  async batch(all: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const notifier = this.notifiers.get(all[0]!.channel);
    const pages: OutboxEntry[] = [];
    for (const p of all) {
      const stop = notifier?.wakes && p.incidentId !== null ? stoppedBy(p, incidents.get(p.incidentId)) : undefined;
      if (stop) await this.record(p, stoppedOutcome(p, stop, now), now);
      else pages.push(p);
    }
    if (!pages.length) return;
    if (notifier?.pace && !notifier.notConfigured) await this.paced(notifier, pages, incidents, now);
    else await this.oneByOne(pages, incidents);
  }

  /**
   * One target's pages in turn: never two sends in flight to the same recipients. A page found
   * taken over by another replica means this process stalled past its leases, which ran out
   * together: that replica holds the rest of the batch too, so none of it is sent from here.
   */
  private async oneByOne(pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>): Promise<void> {
    for (const p of pages) {
      if (!(await this.deliver(p, incidents))) return;
    }
  }

  private async paced(notifier: Notifier, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const plan = await this.pacer.plan(targetKey(pages[0]!), pages, now, notifier.pace!, notifier.sendDigest !== undefined);
    if (plan.action === 'wait') {
      await inTurns(pages, RECORD_CONCURRENCY, (p) => this.record(p, { status: 'release', nextAttemptAt: plan.until }, now));
      return;
    }
    if (plan.action === 'digest') {
      await this.digest(notifier, plan.pages, incidents, now);
      return;
    }
    await inTurns(plan.later, RECORD_CONCURRENCY, ({ page, at }) => this.record(page, { status: 'release', nextAttemptAt: at }, now));
    await this.deliver(plan.page, incidents);
  }

  /**
   * Before a page whose last send had an unknown outcome (a crash, a timeout, a reset) is sent
   * again, it is looked for in the channel: the delivery found, or undefined. Throws when the
   * lookup fails, so that the page waits for a later try rather than risk a second copy.
   */
  private async lookUp(notifier: Notifier, page: IncidentPage, incident: IncidentWithDetails): Promise<Delivery | undefined> {
    return page.maybeSent && notifier.findSent ? notifier.findSent({ page, incident }) : undefined;
  }

  private async digest(notifier: Notifier, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const items: DigestItem[] = [];
    let notices = 0;
    for (const page of pages) {
      if (!isIncidentPage(page)) {
        // A notice is never folded: it takes the next free turns after the digest.
        await this.record(page, { status: 'release', nextAttemptAt: now + ++notices * notifier.pace!.intervalMs }, now);
        continue;
      }
      const incident = incidents.get(page.incidentId);
      if (!incident) {
        await this.record(page, skippedOutcome(page, `incident ${page.incidentId} is gone`, now), now);
        continue;
      }
      // Looked up first, even in a storm.
      let found;
      try {
        found = await this.lookUp(notifier, page, incident);
      } catch (err) {
        await this.failed(notifier, page, err, now);
        continue;
      }
      if (found) await this.record(page, sentOutcome(page, found, now, true), now);
      else items.push({ page, incident });
    }
    if (!items.length) return;
    let d;
    try {
      d = await notifier.sendDigest!(items[0]!.page.target, items);
    } catch (err) {
      // One failure of one message: the target is paused (on a 429) once, not once per page.
      await inTurns(items, RECORD_CONCURRENCY, ({ page }, i) => this.failed(notifier, page, err, now, i === 0));
      return;
    }
    // Outside the try: a store failure now must not turn a delivered digest into a resend.
    // Recorded together, so one group commit holds them all (one by one, 500 pages took 500 commits).
    const ref = d.externalRef;
    await inTurns(items, RECORD_CONCURRENCY, ({ page }) => this.record(page, foldedOutcome(page, ref, items.length, now), now));
  }

  /** Delivers one page and records its outcome; false when this process no longer holds it (or is aborting). */
  private async deliver(page: OutboxEntry, incidents: Map<number, IncidentWithDetails>): Promise<boolean> {
    if (this.aborted) return false; // shutting down: left `sending`, settled at the next start
    const now = this.clock.now();
    const notifier = this.notifiers.get(page.channel);
    if (!isIncidentPage(page)) return this.deliverNotice(notifier, page, now);
    const incident = incidents.get(page.incidentId);
    if (!notifier || notifier.notConfigured || !incident) {
      const reason = notifier?.notConfigured ?? (incident ? `no notifier for ${page.channel}` : `incident ${page.incidentId} is gone`);
      return this.record(page, skippedOutcome(page, reason, now), now);
    }
    let found, delivery;
    try {
      found = await this.lookUp(notifier, page, incident);
      delivery = found ?? (await notifier.send({ page, incident }));
    } catch (err) {
      return this.failed(notifier, page, err, this.clock.now());
    }
    for (const r of delivery.rejected ?? []) this.log.warn({ page: page.id, recipient: r }, 'recipient rejected by the server');
    // Outside the try: if the store fails now, the page was delivered; the batch hands its lease over
    // and it is looked up, never sent again blindly.
    return this.record(page, sentOutcome(page, delivery, now, found !== undefined), now);
  }

  /**
   * Delivers a notice (a page of no incident) as a page is delivered: looked up first after an
   * unknown outcome, retried, paced, recorded only while this process holds it.
   */
  private async deliverNotice(notifier: Notifier | undefined, page: OutboxEntry, now: number): Promise<boolean> {
    const notice = page.notice;
    if (!notifier || notifier.notConfigured || !notifier.sendNotice || !notice) {
      const reason = notifier?.notConfigured ?? (notice ? `${page.channel} takes no notices` : 'a page of no incident and no notice');
      return this.record(page, skippedOutcome(page, reason, now), now);
    }
    const p = { ...page, notice };
    let found, delivery;
    try {
      found = page.maybeSent && notifier.findNotice ? await notifier.findNotice(p) : undefined;
      delivery = found ?? (await notifier.sendNotice(p));
    } catch (err) {
      return this.failed(notifier, page, err, this.clock.now());
    }
    return this.record(page, sentOutcome(page, delivery, now, found !== undefined), now);
  }

  /** Records a failed attempt; `pause`: a server's Retry-After pauses a paced target (once per message that failed). */
  private async failed(notifier: Notifier, page: OutboxEntry, err: unknown, now: number, pause = true): Promise<boolean> {
    if (this.aborted) {
      this.log.warn(
        { page: page.id, incident: page.incidentId, channel: page.channel, target: page.target },
        'send aborted at shutdown; its outcome is unknown and is checked at the next start',
      );
      return false;
    }
    if (!(err instanceof NotifyError)) this.log.error({ err, page: page.id }, 'unexpected error while sending a page; will retry');
    const failure = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
    const decision = decideRetry(page, failure, now, this.policy, this.random());
    if (pause && decision.retry && decision.pauseChannel && notifier.pace) await this.pacer.pause(targetKey(page), decision.at);
    if (!decision.retry)
      this.log.warn(
        { page: page.id, incident: page.incidentId, channel: page.channel, target: page.target, reason: failure.message },
        'page failed',
      );
    return this.record(
      page,
      failedOutcome(
        page,
        failure,
        decision,
        now,
        notifier.recordsEveryRetry === true,
        page.incidentId === null ? notifier.findNotice !== undefined : notifier.findSent !== undefined,
      ),
      now,
    );
  }

  /**
   * Stores an outcome; `attemptedAt` is when the attempt began, which delivery latency is measured
   * to. False when the page was no longer this process's to record.
   */
  record(page: OutboxEntry, outcome: PageOutcome, attemptedAt: number): Promise<boolean> {
    // A notice has no incident, so no timeline: the outbox row and the metrics say what came of it.
    // A quiet channel's pages (the status page's subscribers) write no delivery entry either.
    const quiet = this.notifiers.get(page.channel)?.quiet ? quietOutcome(outcome) : outcome;
    const stored: PageOutcome = page.incidentId === null ? { ...outcome, timeline: [] } : quiet;
    return this.store.completePage(page.id, stored, this.clock.now(), this.owner).then((held) => {
      if (held) {
        this.observer.observePage(page, outcome, attemptedAt);
        return true;
      }
      // The lease ran out during the send (this process stalled, or lost the database for a while) and
      // another replica took the page over: it looks the page up and records it, and counts it.
      this.log.warn(
        { page: page.id, incident: page.incidentId, channel: page.channel, target: page.target },
        'page taken over by another replica while this one sent it; its outcome is left to that one',
      );
      return false;
    });
  }
}
