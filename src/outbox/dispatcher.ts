import type { Clock } from '../clock.js';
import type { IncidentWithDetails } from '../incidents/model.js';
import type { ChannelName } from '../incidents/timeline.js';
import { TimedLoop } from '../timed-loop.js';
import type { Notifier } from './channel.js';
import { PageDelivery } from './delivery.js';
import { defaultOwner, Leases } from './leases.js';
import { Pacer } from './pacing.js';
import { targetKey, type OutboxEntry } from './page.js';
import { DEFAULT_OUTBOX_POLICY, type OutboxPolicy } from './policy.js';
import type { OutboxLogger, OutboxStore, PageObserver } from './ports.js';

/** How the dispatcher retries (see outbox/policy.ts), and how its loop runs. */
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Pages claimed in one pass, at most. */
const CLAIM_LIMIT = 500;

/**
 * Delivers the outbox. A loop driven by the database, in the way of GoAlert's engine: it claims due
 * pages (most severe first) and hands each target's batch to the delivery stages (delivery.ts),
 * which look up, send, decide retries and record. It names no channel: what a channel needs
 * (pacing, digests, lookups) its notifier says.
 *
 * Targets are independent: the loop does not wait for sends, it tracks them per target (a Slack
 * channel, or one set of e-mail recipients) and keeps claiming for the others, so one hanging call
 * delays only its own target, and one target never has two sends in flight in this process.
 *
 * Several replicas share one outbox: a claim is a lease (leases.ts) renewed while the sends run, and
 * a page whose lease ran out (its replica died) is taken over by another, as an unknown outcome. A
 * paced target's pace is kept in the store, so all replicas together keep to it.
 */
export class Dispatcher {
  /** Who this dispatcher is in the leases it holds. */
  readonly owner: string;
  private readonly pollMs: number;
  private readonly graceMs: number;
  private readonly leases: Leases;
  private readonly pacer: Pacer;
  private readonly delivery: PageDelivery;
  private readonly loop: TimedLoop;
  /** The delivery under way for each busy target. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = true;

  constructor(
    private readonly store: OutboxStore,
    private readonly notifiers: ReadonlyMap<ChannelName, Notifier>,
    private readonly clock: Clock,
    observer: PageObserver,
    private readonly log: OutboxLogger,
    options: DispatcherOptions = {},
  ) {
    const d = DEFAULT_OUTBOX_POLICY;
    const policy: OutboxPolicy = {
      maxAttempts: options.maxAttempts ?? d.maxAttempts,
      maxBackoffMs: options.maxBackoffMs ?? d.maxBackoffMs,
    };
    this.pollMs = options.pollMs ?? 250;
    this.graceMs = options.shutdownGraceMs ?? 1000;
    this.owner = options.owner ?? defaultOwner();
    this.leases = new Leases(store, clock, log, this.owner, options.leaseMs ?? 30_000);
    this.pacer = new Pacer(store);
    this.delivery = new PageDelivery(store, notifiers, this.pacer, clock, observer, log, policy, this.owner, options.random ?? Math.random);
    this.loop = new TimedLoop(
      () => this.claim(),
      () => this.pacer.nextIn(this.pollMs, this.clock.now()),
      (err) => this.log.error({ err }, 'outbox pass failed; will retry'),
    );
  }

  /** Puts pages a dead process left mid-send back in the queue, then starts the loop. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.delivery.aborted = false;
    await this.recover();
    this.loop.start(0);
    this.leases.startHeartbeat();
  }

  /** Pages left `sending` by a process that died go back to the queue, to be looked up before resending. */
  async recover(): Promise<number> {
    const recovered = await this.store.recoverInFlight(this.clock.now());
    if (recovered) this.log.warn({ pages: recovered }, 'pages were being sent when a process stopped; checking before sending them again');
    return recovered;
  }

  /**
   * Pages were committed: claim them now rather than at the next poll. `targets`, when given, are
   * where the pages go: when each of them has a send in flight or is a paused target, there is
   * nothing to claim now (the end of the send wakes the loop, and the pass after a pause is
   * scheduled for its end), so a storm of commits to one target does not run a pass per commit.
   */
  wake(targets?: readonly Pick<OutboxEntry, 'channel' | 'target'>[]): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (targets?.length && targets.every((t) => this.inFlight.has(targetKey(t)) || this.pacer.isPaused(targetKey(t), now))) return;
    this.loop.wake();
  }

  /**
   * Stops claiming, lets the sends in flight finish for a short grace, then aborts them: an aborted
   * send has an unknown outcome, so its page stays `sending` and the next start (or another replica)
   * looks it up before sending it again. Resolves within about twice the grace.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    // The heartbeat goes on through the grace: the sends still running keep their leases.
    const sending = this.inFlight.size > 0;
    if (sending) {
      const settled = Promise.all(this.inFlight.values());
      if (!(await Promise.race([settled.then(() => true), sleep(this.graceMs).then(() => false)]))) {
        this.delivery.aborted = true;
        this.log.warn(
          { targets: this.inFlight.size },
          'shutting down with pages in flight: aborting them; another replica or the next start checks for them and settles them',
        );
        for (const n of this.notifiers.values()) n.abort?.();
        // A notifier that cannot abort is not waited for: its page stays `sending` all the same.
        await Promise.race([settled, sleep(this.graceMs)]);
      }
    }
    this.leases.stopHeartbeat();
    // End the leases of whatever is left (an aborted send leaves its page `sending`), so that
    // another replica takes the pages over at once.
    if (sending) await this.leases.handOver();
  }

  /** One pass over the due pages, waiting for their deliveries; returns how many were handled. Tests call it directly. */
  async tick(): Promise<number> {
    const { pages, deliveries } = await this.claim();
    await Promise.all(deliveries);
    return pages;
  }

  /** The incidents of a batch's pages, as they are now. */
  private async incidentsOf(batch: readonly OutboxEntry[]): Promise<Map<number, IncidentWithDetails>> {
    const incidents = new Map<number, IncidentWithDetails>();
    for (const id of new Set(batch.map((p) => p.incidentId))) {
      if (id === null) continue; // a notice
      const incident = await this.store.getIncident(id);
      if (incident) incidents.set(id, incident);
    }
    return incidents;
  }

  /** Claims the due pages of every target with nothing in flight and starts their delivery, without waiting for it. */
  private async claim(): Promise<{ pages: number; deliveries: Promise<void>[] }> {
    const now = this.clock.now();
    // A paused target (paced, or a 429) is left alone like a busy one.
    const pages = await this.store.claimPages(now, CLAIM_LIMIT, this.leases.from(now), [
      ...this.inFlight.keys(),
      ...this.pacer.paused(now),
    ]);
    if (!pages.length) return { pages: 0, deliveries: [] };
    // Each target's delivery reads its own incidents and runs on its own; the pass ends once they
    // are started, so a Critical committed meanwhile is claimed by the next pass at once instead of
    // waiting for the incidents of the 500 Lows claimed before it to be read.
    const byTarget = new Map<string, OutboxEntry[]>();
    for (const p of pages) {
      const batch = byTarget.get(targetKey(p));
      if (batch) batch.push(p);
      else byTarget.set(targetKey(p), [p]);
    }
    const deliveries: Promise<void>[] = [];
    for (const [key, batch] of byTarget) {
      const ids = batch.map((p) => p.id);
      const delivery = this.incidentsOf(batch)
        .then((incidents) => this.delivery.batch(batch, incidents, now))
        .catch(async (err: unknown) => {
          // Most likely the store failed (reading the incidents, or mid-batch): pages without a
          // recorded outcome may have been sent, so they are handed over (a page already recorded is
          // not `sending` any more) and taken again as unknown outcomes, looked up before any resend.
          this.log.error({ err, target: batch[0]!.target }, 'outbox delivery failed; its pages are looked up and retried');
          this.leases.letGo(key);
          await this.leases.handOver(ids);
        })
        .finally(() => {
          this.inFlight.delete(key);
          this.leases.letGo(key);
          // Pages for this target that arrived while it was busy are due now.
          this.wake();
        });
      this.inFlight.set(key, delivery);
      this.leases.hold(key, ids);
      deliveries.push(delivery);
    }
    return { pages: pages.length, deliveries };
  }
}
