import type { Clock } from '../clock.js';
import type { IncidentWithDetails, TimelineEntry } from '../incidents/model.js';
import type { Metrics } from '../metrics/metrics.js';
import type { IncidentStore, PageOutcome } from '../store/store.js';
import { NotifyError, type Delivery, type Notifier } from '../notify/notifier.js';
import { describeTarget, type ChannelName, type OutboxEntry } from '../incidents/page.js';

/** Minimal logger the dispatcher reports to. */
export interface DispatchLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How the dispatcher paces and retries. */
export interface DispatcherOptions {
  /** Slack allows about one message per second per channel. */
  slackIntervalMs?: number;
  /** Pages to one Slack channel that would wait longer than this are folded into one digest. */
  foldAfterMs?: number;
  pollMs?: number;
  /** Attempts before a retryable failure is given up as failed. */
  maxAttempts?: number;
  /** For jitter; tests pass a fixed one. */
  random?: () => number;
  /** Start the loop with the app (default). Tests turn it off and call tick() under a fake clock. */
  autoStart?: boolean;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Delivers the outbox. A loop driven by the database: it claims due pages (most severe first),
 * sends each through its channel's notifier, and records every outcome, with a timeline entry, in
 * the store. Transient failures come back later with exponential backoff and jitter (or the
 * server's Retry-After); permanent ones are recorded and not retried. Pages left mid-send by a
 * process that died are looked up in the channel before they are sent again.
 */
export class Dispatcher {
  private readonly slackIntervalMs: number;
  private readonly foldAfterMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
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
    this.slackIntervalMs = options.slackIntervalMs ?? 1100;
    this.foldAfterMs = options.foldAfterMs ?? 3000;
    this.pollMs = options.pollMs ?? 250;
    this.maxAttempts = options.maxAttempts ?? 15;
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
    for (const [target, group] of bySlackTarget) work.push(this.slackTarget(target, group, incidents, now));
    await Promise.all(work);
    return pages.length;
  }

  /** Paces one Slack channel: one message per interval; a backlog beyond the budget becomes one digest. */
  private async slackTarget(target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const free = Math.max(now, this.nextFree.get(target) ?? 0);
    if (free > now) {
      // Paused (a 429, or the last message was just sent): all come back together when the channel
      // is free, so a backlog is judged (and folded) as a whole rather than trickling out one by one.
      await Promise.all(pages.map((p) => this.release(p, free)));
      return;
    }
    const budget = Math.floor(this.foldAfterMs / this.slackIntervalMs) + 1;
    const notifier = this.notifiers.get('slack')!;
    if (pages.length > budget && notifier.sendDigest && !notifier.notConfigured) {
      this.nextFree.set(target, now + this.slackIntervalMs);
      await this.digest(notifier, target, pages, incidents, now);
      return;
    }
    const [first, ...rest] = pages;
    this.nextFree.set(target, now + this.slackIntervalMs);
    await Promise.all(rest.map((p, i) => this.release(p, now + (i + 1) * this.slackIntervalMs)));
    await this.deliver(first!, incidents);
  }

  private async digest(notifier: Notifier, target: string, pages: OutboxEntry[], incidents: Map<number, IncidentWithDetails>, now: number): Promise<void> {
    const items = pages.flatMap((page) => {
      const incident = incidents.get(page.incidentId);
      return incident ? [{ page, incident }] : [];
    });
    try {
      const d = await notifier.sendDigest!(target, items);
      for (const { page } of items) {
        await this.complete(page, { status: 'sent', externalRef: `digest ${d.externalRef}`, timeline: [entry(now, 'paged', `Slack ${target}: in a digest of ${items.length} pages (alert storm)`)] });
      }
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
      this.metrics.notifications.inc({ channel: page.channel, outcome: 'skipped' });
      await this.complete(page, { status: 'failed', error: reason, timeline: [entry(now, 'page_failed', `${describeTarget(page)}: not sent, ${reason}`)] });
      return;
    }
    try {
      if (page.maybeSent && notifier.findSent) {
        const found = await notifier.findSent({ page, incident });
        if (found) {
          await this.sent(page, found, now, ' (found already delivered after a restart)');
          return;
        }
      }
      await this.sent(page, await notifier.send({ page, incident }), now, '');
    } catch (err) {
      await this.failed(page, err, now);
    }
  }

  private async sent(page: OutboxEntry, d: Delivery, now: number, suffix: string): Promise<void> {
    const who = page.channel === 'slack' ? (page.mentions.length ? `, mentioning ${page.mentions.length}` : '') : '';
    this.metrics.notifications.inc({ channel: page.channel, outcome: 'sent' });
    this.metrics.notificationLatency.observe({ channel: page.channel }, Math.max(0, (now - page.createdAt) / 1000));
    const timeline = [entry(now, 'paged', `${describeTarget(page)}: ${page.event.replace('_', ' ')}${who}${suffix}`)];
    for (const r of d.rejected ?? []) {
      this.log.warn({ page: page.id, recipient: r }, 'recipient rejected by the mail server');
      timeline.push(entry(now, 'page_failed', `E-mail to ${r}: rejected by the mail server`));
    }
    await this.complete(page, { status: 'sent', externalRef: d.externalRef, timeline });
  }

  private async failed(page: OutboxEntry, err: unknown, now: number): Promise<void> {
    const e = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
    if (!(err instanceof NotifyError)) this.log.error({ err, page: page.id }, 'unexpected error while sending a page; will retry');
    if (e.retryable && page.attempts < this.maxAttempts) {
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (page.attempts - 1)) * (0.8 + 0.4 * this.random());
      const at = now + (e.retryAfterMs ?? backoff);
      if (page.channel === 'slack' && e.retryAfterMs) this.nextFree.set(page.target, at);
      this.metrics.notifications.inc({ channel: page.channel, outcome: 'retried' });
      await this.complete(page, { status: 'retry', nextAttemptAt: at, error: e.message });
      return;
    }
    const why = e.retryable ? `${e.message} (gave up after ${page.attempts} attempts)` : `${e.message} (not retried)`;
    this.log.warn({ page: page.id, incident: page.incidentId, channel: page.channel, target: page.target, reason: e.message }, 'page failed');
    this.metrics.notifications.inc({ channel: page.channel, outcome: 'failed' });
    await this.complete(page, { status: 'failed', error: e.message, timeline: [entry(now, 'page_failed', `${describeTarget(page)}: ${why}`)] });
  }

  /** Back to the queue for later, without it counting as a failed attempt. */
  private release(page: OutboxEntry, at: number): Promise<void> {
    return this.complete(page, { status: 'release', nextAttemptAt: at });
  }

  private async complete(page: OutboxEntry, outcome: PageOutcome): Promise<void> {
    await this.store.completePage(page.id, outcome, this.clock.now());
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

function entry(at: number, kind: TimelineEntry['kind'], detail: string): TimelineEntry {
  return { at, kind, detail };
}
