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
  pollMs?: number;
  /** For jitter; tests pass a fixed one. */
  random?: () => number;
  /** Start the loop with the app (default). Tests turn it off and call tick() under a fake clock. */
  autoStart?: boolean;
}

/**
 * Delivers the outbox. A loop driven by the database, in the way of Alertmanager's notify stages:
 * it claims due pages (most severe first), asks the outbox policy what to do with each channel's
 * batch, sends through the channel's notifier, asks the policy whether a failure is retried, and
 * records each outcome with its timeline entries in the store. Pages left mid-send by a process
 * that died are looked up in the channel before they are sent again.
 */
export class Dispatcher {
  private readonly policy: OutboxPolicy;
  private readonly pollMs: number;
  private readonly random: () => number;
  /** When each Slack channel may take its next message. */
  private readonly nextFree = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

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
    this.random = options.random ?? Math.random;
  }

  /** Puts pages a dead process left mid-send back in the queue, then starts the loop. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.recover();
    this.schedule(0);
  }

  /** Pages left `sending` by a process that died go back to the queue, to be looked up before resending. */
  async recover(): Promise<number> {
    const recovered = await this.store.recoverInFlight();
    if (recovered) this.log.warn({ pages: recovered }, 'pages were being sent when the process stopped; checking before sending them again');
    return recovered;
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the due pages; returns how many were handled. Tests call it directly. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const pages = await this.store.claimPages(now, 500);
    if (!pages.length) return 0;
    const incidents = new Map<number, IncidentWithDetails>();
    for (const id of new Set(pages.map((p) => p.incidentId))) {
      const incident = await this.store.getIncident(id);
      if (incident) incidents.set(id, incident);
    }
    const bySlackTarget = new Map<string, OutboxEntry[]>();
    const work: Promise<void>[] = [];
    for (const p of pages) {
      if (p.channel === 'slack') bySlackTarget.set(p.target, [...(bySlackTarget.get(p.target) ?? []), p]);
      else work.push(this.deliver(p, incidents));
    }
    for (const [target, batch] of bySlackTarget) work.push(this.slackBatch(target, batch, incidents, now));
    await Promise.all(work);
    return pages.length;
  }

  private async slackBatch(target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const notifier = this.notifiers.get('slack');
    const canDigest = Boolean(notifier?.sendDigest && !notifier.notConfigured);
    const plan = planSlackBatch(pages, this.nextFree.get(target) ?? 0, now, this.policy, canDigest);
    if (plan.action === 'wait') {
      await Promise.all(pages.map((p) => this.record(p, { status: 'release', nextAttemptAt: plan.until }, now)));
      return;
    }
    this.nextFree.set(target, plan.nextFree);
    if (plan.action === 'digest') {
      await this.digest(notifier!, target, plan.pages, incidents, now);
      return;
    }
    await Promise.all(plan.later.map(({ page, at }) => this.record(page, { status: 'release', nextAttemptAt: at }, now)));
    await this.deliver(plan.page, incidents);
  }

  private async digest(notifier: Notifier, target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const items: DigestItem[] = [];
    for (const page of pages) {
      const incident = incidents.get(page.incidentId);
      if (incident) items.push({ page, incident });
      else await this.record(page, skippedOutcome(page, `incident ${page.incidentId} is gone`, now), now);
    }
    try {
      const d = await notifier.sendDigest!(target, items);
      for (const { page } of items) await this.record(page, foldedOutcome(page, d.externalRef, items.length, now), now);
    } catch (err) {
      for (const { page } of items) await this.failed(page, err, now);
    }
  }

  private async deliver(page: OutboxEntry, incidents: Map<number, IncidentWithDetails>): Promise<void> {
    const now = this.clock.now();
    const notifier = this.notifiers.get(page.channel);
    const incident = incidents.get(page.incidentId);
    if (!notifier || notifier.notConfigured || !incident) {
      const reason = notifier?.notConfigured ?? (incident ? `no notifier for ${page.channel}` : `incident ${page.incidentId} is gone`);
      await this.record(page, skippedOutcome(page, reason, now), now);
      return;
    }
    try {
      const found = page.maybeSent && notifier.findSent ? await notifier.findSent({ page, incident }) : undefined;
      const delivery = found ?? (await notifier.send({ page, incident }));
      for (const r of delivery.rejected ?? []) this.log.warn({ page: page.id, recipient: r }, 'recipient rejected by the mail server');
      await this.record(page, sentOutcome(page, delivery, now, found !== undefined), now);
    } catch (err) {
      await this.failed(page, err, now);
    }
  }

  private async failed(page: OutboxEntry, err: unknown, now: number): Promise<void> {
    if (!(err instanceof NotifyError)) this.log.error({ err, page: page.id }, 'unexpected error while sending a page; will retry');
    const failure = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
    const decision = decideRetry(page, failure, now, this.policy, this.random());
    if (decision.retry && decision.pauseChannel && page.channel === 'slack') this.nextFree.set(page.target, decision.at);
    if (!decision.retry) this.log.warn({ page: page.id, incident: page.incidentId, channel: page.channel, target: page.target, reason: failure.message }, 'page failed');
    await this.record(page, failedOutcome(page, failure, decision, now), now);
  }

  /** Stores an outcome; `attemptedAt` is when the attempt began, which delivery latency is measured to. */
  private async record(page: OutboxEntry, outcome: PageOutcome, attemptedAt: number): Promise<void> {
    await this.store.completePage(page.id, outcome, this.clock.now());
    this.metrics.observePage(page, outcome, attemptedAt);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.log.error({ err }, 'outbox pass failed; will retry'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.pollMs);
        });
    }, delay);
    this.timer.unref();
  }
}
