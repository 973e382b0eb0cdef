import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { IncidentWithDetails } from '../incidents/model.js';
import type { OutboxEntry, PageOutcome } from '../incidents/page.js';
import type { ChannelName } from '../incidents/timeline.js';
import type { Metrics } from '../metrics/metrics.js';
import { NotifyError, type DigestItem, type Notifier } from '../notify/notifier.js';
import {
  decideRetry,
  DEFAULT_OUTBOX_POLICY,
  failedOutcome,
  foldedOutcome,
  planSlackBatch,
  sentOutcome,
  skippedOutcome,
  type OutboxPolicy,
} from '../paging/outbox-policy.js';
import type { IncidentStore } from '../store/store.js';

/** Minimal logger the dispatcher reports to. */
export interface DispatchLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How the dispatcher paces and retries (see paging/outbox-policy.ts), and how its loop runs. */
export interface DispatcherOptions extends Partial<OutboxPolicy> {
  /** The safety net: how often the loop claims when nothing woke it (a commit with pages wakes it at once). */
  pollMs?: number;
  /** On shutdown, how long sends in flight may finish before they are aborted and left as unknown outcomes. */
  shutdownGraceMs?: number;
  /** For jitter; tests pass a fixed one. */
  random?: () => number;
  /** Start the loop with the app (default). Tests turn it off and call tick() under a fake clock. */
  autoStart?: boolean;
  /**
   * How long a claim on a page holds without renewal (default 30 s). The loop renews its leases every
   * third of it while sends are in flight, so only a dispatcher that died or stalled loses them.
   */
  leaseMs?: number;
  /** Who this dispatcher is in the leases it takes; unique per process by default. */
  owner?: string;
}

/** A name no other process has: the host (a container's id), the pid, and a random part for a pid reused. */
function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A page's destination: sends to one target never overlap; different targets never wait for each other. */
function targetKey(p: Pick<OutboxEntry, 'channel' | 'target'>): string {
  return `${p.channel}\n${p.target}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** How many outcomes of one batch are recorded at once. */
const RECORD_CONCURRENCY = 16;

/** Runs `fn` on every item, at most `limit` at a time. */
async function inTurns<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Delivers the outbox. A loop driven by the database, in the way of Alertmanager's notify stages:
 * it claims due pages (most severe first), asks the outbox policy what to do with each channel's
 * batch, sends through the channel's notifier, asks the policy whether a failure is retried, and
 * records each outcome with its timeline entries in the store. Pages whose last send had an unknown
 * outcome (a crash, a timeout, a reset) are looked up in the channel before they are sent again.
 *
 * Targets are independent: the loop does not wait for sends, it tracks them per target (a Slack
 * channel, or one set of e-mail recipients) and keeps claiming for the others, so one hanging call
 * delays only its own target, and one target never has two sends in flight in this process.
 *
 * Several replicas share one outbox: a claim is a lease the loop renews while it sends, and a page
 * whose lease ran out (its replica died) is taken over by another, as an unknown outcome. An outcome
 * is recorded only while the lease is still held. Slack's pace per channel is kept in the store, so
 * all replicas together post at most one message per interval to a channel.
 */
export class Dispatcher {
  private readonly policy: OutboxPolicy;
  private readonly pollMs: number;
  private readonly graceMs: number;
  private readonly random: () => number;
  private readonly leaseMs: number;
  /** Who this dispatcher is in the leases it holds. */
  readonly owner: string;
  /**
   * When each Slack channel may take its next message, as this replica last saw it in the store: a
   * hint that spares claiming pages only to release them. The store's pace decides; another replica
   * may have moved it further, and then the claim finds out.
   */
  private readonly paceHint = new Map<string, number>();
  /** The pages of each target's delivery under way, whose leases the heartbeat renews. */
  private readonly leased = new Map<string, number[]>();
  /** The delivery under way for each busy target. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private claiming: Promise<unknown> | undefined;
  private wakeRequested = false;
  private stopped = true;
  /** Shutdown cut the sends in flight short: their failures are not recorded, their pages stay `sending`. */
  private aborted = false;

  constructor(
    private readonly store: IncidentStore,
    private readonly notifiers: Map<ChannelName, Notifier>,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: DispatchLogger,
    options: DispatcherOptions = {},
  ) {
    const d = DEFAULT_OUTBOX_POLICY;
    this.policy = {
      slackIntervalMs: options.slackIntervalMs ?? d.slackIntervalMs,
      foldAfterMs: options.foldAfterMs ?? d.foldAfterMs,
      maxAttempts: options.maxAttempts ?? d.maxAttempts,
      maxBackoffMs: options.maxBackoffMs ?? d.maxBackoffMs,
    };
    this.pollMs = options.pollMs ?? 250;
    this.graceMs = options.shutdownGraceMs ?? 1000;
    this.random = options.random ?? Math.random;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.owner = options.owner ?? defaultOwner();
  }

  /** Puts pages a dead process left mid-send back in the queue, then starts the loop. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.aborted = false;
    await this.recover();
    this.schedule(0);
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Pages left `sending` by a process that died go back to the queue, to be looked up before resending. */
  async recover(): Promise<number> {
    const recovered = await this.store.recoverInFlight(this.clock.now());
    if (recovered) this.log.warn({ pages: recovered }, 'pages were being sent when a process stopped; checking before sending them again');
    return recovered;
  }

  /**
   * Keeps the leases of the pages this process is delivering, and only those: a page dropped without
   * an outcome must run out. A failure is only logged, and the next beat tries again.
   */
  private async renew(): Promise<void> {
    const ids = [...this.leased.values()].flat();
    if (ids.length === 0) return;
    try {
      await this.store.renewLeases(this.owner, this.clock.now() + this.leaseMs, ids);
    } catch (err) {
      this.log.warn({ err }, 'could not renew the leases of the pages being sent; another replica takes them over if this lasts');
    }
  }

  /**
   * Pages were committed: claim them now rather than at the next poll. `targets`, when given, are
   * where the pages go: when each of them has a send in flight or is a paused Slack channel, there
   * is nothing to claim now (the end of the send wakes the loop, and the pass after a pause is
   * scheduled for its end), so a storm of commits to one channel does not run a pass per commit.
   */
  wake(targets?: readonly Pick<OutboxEntry, 'channel' | 'target'>[]): void {
    if (this.stopped) return;
    if (targets?.length && targets.every((t) => this.waiting(t, this.clock.now()))) return;
    if (this.claiming) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Stops claiming, lets the sends in flight finish for a short grace, then aborts them: an aborted
   * send has an unknown outcome, so its page stays `sending` and the next start (or another replica)
   * looks it up before sending it again. Resolves within about twice the grace.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.claiming;
    // The heartbeat goes on through the grace: the sends still running keep their leases.
    const sending = this.inFlight.size > 0;
    if (sending) {
      const settled = Promise.all(this.inFlight.values());
      if (!(await Promise.race([settled.then(() => true), sleep(this.graceMs).then(() => false)]))) {
        this.aborted = true;
        this.log.warn({ targets: this.inFlight.size }, 'shutting down with pages in flight: aborting them; another replica or the next start checks for them and settles them');
        for (const n of this.notifiers.values()) n.abort?.();
        // A notifier that cannot abort is not waited for: its page stays `sending` all the same.
        await Promise.race([settled, sleep(this.graceMs)]);
      }
    }
    // No renewal may land after the handover and extend a lease it just ended.
    clearInterval(this.heartbeat);
    // End the leases of whatever is left (an aborted send leaves its page `sending`), so that
    // another replica takes the pages over at once.
    if (sending) await this.handOver();
  }

  /** Ends this process's leases (of `ids`, or all of them) now: another replica takes the pages over at once, as unknown outcomes. */
  private async handOver(ids?: readonly number[]): Promise<void> {
    await this.store
      .renewLeases(this.owner, this.clock.now(), ids)
      .catch((err: unknown) => this.log.warn({ err }, 'could not hand the leases over; they run out by themselves'));
  }

  /** One pass over the due pages, waiting for their deliveries; returns how many were handled. Tests call it directly. */
  async tick(): Promise<number> {
    const { pages, deliveries } = await this.claim();
    await Promise.all(deliveries);
    return pages;
  }

  /** Claims the due pages of every target with nothing in flight and starts their delivery, without waiting for it. */
  private async claim(): Promise<{ pages: number; deliveries: Promise<void>[] }> {
    const now = this.clock.now();
    // A Slack channel that may not take a message yet (paced, or a 429) is left alone like a busy
    // one: claiming its pages only to release them again cost two writes per page per pass in a storm.
    const paused: string[] = [];
    for (const [target, at] of this.paceHint) {
      if (at > now) paused.push(targetKey({ channel: 'slack', target }));
      else this.paceHint.delete(target); // over: what is left is what this pass left alone
    }
    const pages = await this.store.claimPages(now, 500, { owner: this.owner, until: now + this.leaseMs }, [...this.inFlight.keys(), ...paused]);
    if (!pages.length) return { pages: 0, deliveries: [] };
    const incidents = new Map<number, IncidentWithDetails>();
    try {
      for (const id of new Set(pages.map((p) => p.incidentId))) {
        const incident = await this.store.getIncident(id);
        if (incident) incidents.set(id, incident);
      }
    } catch (err) {
      // Claimed, but nothing will be sent: the pages are handed over rather than held for a lease.
      await this.handOver(pages.map((p) => p.id));
      throw err;
    }
    const byTarget = new Map<string, OutboxEntry[]>();
    for (const p of pages) byTarget.set(targetKey(p), [...(byTarget.get(targetKey(p)) ?? []), p]);
    const deliveries: Promise<void>[] = [];
    for (const [key, batch] of byTarget) {
      const ids = batch.map((p) => p.id);
      const delivery = (batch[0]!.channel === 'slack' ? this.slackBatch(batch[0]!.target, batch, incidents, now) : this.oneByOne(batch, incidents))
        .catch(async (err: unknown) => {
          // Most likely the store failed mid-batch: pages without a recorded outcome may have been
          // sent, so they are handed over (a page already recorded is not `sending` any more) and
          // taken again as unknown outcomes, looked up before any resend.
          this.log.error({ err, target: batch[0]!.target }, 'outbox delivery failed; its pages are looked up and retried');
          this.leased.delete(key); // the heartbeat must not renew what is handed over
          await this.handOver(ids);
        })
        .finally(() => {
          this.inFlight.delete(key);
          this.leased.delete(key);
          // Pages for this target that arrived while it was busy are due now.
          this.wake();
        });
      this.inFlight.set(key, delivery);
      this.leased.set(key, ids);
      deliveries.push(delivery);
    }
    return { pages: pages.length, deliveries };
  }

  /**
   * One target's pages in turn (e-mail): never two sends in flight to the same recipients. A page
   * found taken over by another replica means this process stalled past its leases, which ran out
   * together: that replica holds the rest of the batch too, so none of it is sent from here.
   */
  private async oneByOne(pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>): Promise<void> {
    for (const p of pages) {
      if (!(await this.deliver(p, incidents))) return;
    }
  }

  private async slackBatch(target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const notifier = this.notifiers.get('slack');
    const canDigest = Boolean(notifier?.sendDigest && !notifier.notConfigured);
    // The channel's pace is shared with every replica: planned against the store's time and taken atomically.
    const plan = await this.store.paceChannel(target, (nextFree) => {
      const plan = planSlackBatch(pages, nextFree, now, this.policy, canDigest);
      return { nextFree: plan.action === 'wait' ? nextFree : plan.nextFree, result: plan };
    });
    this.paceHint.set(target, plan.action === 'wait' ? plan.until : plan.nextFree);
    if (plan.action === 'wait') {
      await inTurns(pages, RECORD_CONCURRENCY, (p) => this.record(p, { status: 'release', nextAttemptAt: plan.until }, now));
      return;
    }
    if (plan.action === 'digest') {
      await this.digest(notifier!, target, plan.pages, incidents, now);
      return;
    }
    await inTurns(plan.later, RECORD_CONCURRENCY, ({ page, at }) => this.record(page, { status: 'release', nextAttemptAt: at }, now));
    await this.deliver(plan.page, incidents);
  }

  private async digest(notifier: Notifier, target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const items: DigestItem[] = [];
    for (const page of pages) {
      const incident = incidents.get(page.incidentId);
      if (!incident) {
        await this.record(page, skippedOutcome(page, `incident ${page.incidentId} is gone`, now), now);
        continue;
      }
      // A page whose last send had an unknown outcome is looked for first, even in a storm; when the
      // lookup itself fails, the page waits for a later try rather than risk a second copy.
      if (page.maybeSent && notifier.findSent) {
        let found;
        try {
          found = await notifier.findSent({ page, incident });
        } catch (err) {
          await this.failed(page, err, now);
          continue;
        }
        if (found) {
          await this.record(page, sentOutcome(page, found, now, true), now);
          continue;
        }
      }
      items.push({ page, incident });
    }
    if (!items.length) return;
    let d;
    try {
      d = await notifier.sendDigest!(target, items);
    } catch (err) {
      // One failure of one message: the channel is paused (on a 429) once, not once per page.
      await inTurns(items, RECORD_CONCURRENCY, ({ page }, i) => this.failed(page, err, now, i === 0));
      return;
    }
    // Outside the try: a store failure now must not turn a delivered digest into a resend.
    // Recorded several at a time, so a group commit holds many (one by one, 500 pages took 500
    // commits) while a pool of database connections is not flooded.
    const ref = d.externalRef;
    await inTurns(items, RECORD_CONCURRENCY, ({ page }) => this.record(page, foldedOutcome(page, ref, items.length, now), now));
  }

  /** Delivers one page and records its outcome; false when this process no longer holds it (or is aborting). */
  private async deliver(page: OutboxEntry, incidents: Map<number, IncidentWithDetails>): Promise<boolean> {
    if (this.aborted) return false; // shutting down: left `sending`, settled at the next start
    const now = this.clock.now();
    const notifier = this.notifiers.get(page.channel);
    const incident = incidents.get(page.incidentId);
    if (!notifier || notifier.notConfigured || !incident) {
      const reason = notifier?.notConfigured ?? (incident ? `no notifier for ${page.channel}` : `incident ${page.incidentId} is gone`);
      return this.record(page, skippedOutcome(page, reason, now), now);
    }
    let found, delivery;
    try {
      found = page.maybeSent && notifier.findSent ? await notifier.findSent({ page, incident }) : undefined;
      delivery = found ?? (await notifier.send({ page, incident }));
    } catch (err) {
      return this.failed(page, err, this.clock.now());
    }
    for (const r of delivery.rejected ?? []) this.log.warn({ page: page.id, recipient: r }, 'recipient rejected by the mail server');
    // Outside the try: if the store fails now, the page was delivered; the batch hands its lease over
    // and it is looked up, never sent again blindly.
    return this.record(page, sentOutcome(page, delivery, now, found !== undefined), now);
  }

  /** Records a failed attempt; `pause`: a server's Retry-After pauses the Slack channel (once per message that failed). */
  private async failed(page: OutboxEntry, err: unknown, now: number, pause = true): Promise<boolean> {
    if (this.aborted) {
      this.log.warn({ page: page.id, incident: page.incidentId, channel: page.channel, target: page.target }, 'send aborted at shutdown; its outcome is unknown and is checked at the next start');
      return false;
    }
    if (!(err instanceof NotifyError)) this.log.error({ err, page: page.id }, 'unexpected error while sending a page; will retry');
    const failure = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
    const decision = decideRetry(page, failure, now, this.policy, this.random());
    if (pause && decision.retry && decision.pauseChannel && page.channel === 'slack') {
      const until = decision.at;
      const paused = await this.store.paceChannel(page.target, (nextFree) => ({ nextFree: Math.max(nextFree, until), result: Math.max(nextFree, until) }));
      this.paceHint.set(page.target, paused);
    }
    if (!decision.retry) this.log.warn({ page: page.id, incident: page.incidentId, channel: page.channel, target: page.target, reason: failure.message }, 'page failed');
    return this.record(page, failedOutcome(page, failure, decision, now), now);
  }

  /**
   * Stores an outcome; `attemptedAt` is when the attempt began, which delivery latency is measured
   * to. False when the page was no longer this process's to record.
   */
  private async record(page: OutboxEntry, outcome: PageOutcome, attemptedAt: number): Promise<boolean> {
    if (await this.store.completePage(page.id, outcome, this.clock.now(), this.owner)) {
      this.metrics.observePage(page, outcome, attemptedAt);
      return true;
    }
    // The lease ran out during the send (this process stalled, or lost the database for a while) and
    // another replica took the page over: it looks the page up and records it, and counts it.
    this.log.warn({ page: page.id, incident: page.incidentId, channel: page.channel, target: page.target }, 'page taken over by another replica while this one sent it; its outcome is left to that one');
    return false;
  }

  /** A target that takes nothing now: a send to it is in flight, or it is a Slack channel still paused. */
  private waiting(t: Pick<OutboxEntry, 'channel' | 'target'>, now: number): boolean {
    return this.inFlight.has(targetKey(t)) || (t.channel === 'slack' && (this.paceHint.get(t.target) ?? 0) > now);
  }

  /** The poll interval, or less when a paused Slack channel may take its next message sooner. */
  private nextPassIn(): number {
    const now = this.clock.now();
    let delay = this.pollMs;
    // A pause that ended since the pass began (its pages were left alone) calls for a pass at once.
    for (const at of this.paceHint.values()) delay = Math.min(delay, Math.max(0, at - now));
    return delay;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.claiming = this.claim()
        .catch((err: unknown) => this.log.error({ err }, 'outbox pass failed; will retry'))
        .finally(() => {
          this.claiming = undefined;
          const again = this.wakeRequested;
          this.wakeRequested = false;
          this.schedule(again ? 0 : this.nextPassIn());
        });
    }, delay);
    this.timer.unref();
  }
}
