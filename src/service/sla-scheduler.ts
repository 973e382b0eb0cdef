import { describeEntry } from '../incidents/timeline-text.js';
import { TimedLoop } from '../timed-loop.js';
import type { IncidentService } from './incident-service.js';

/** Minimal logger the scheduler reports to. */
export interface SchedulerLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Checks SLA deadlines and escalations on a fixed interval, outside any request. Driven by the store, not by
 * in-memory timers per incident, so deadlines that passed while the service was down are found
 * on the first tick after a start.
 */
export class SlaScheduler {
  private readonly loop: TimedLoop;

  constructor(
    private readonly service: IncidentService,
    /** Read before each wait, so a reload's new interval applies from the next pass. */
    private readonly intervalMs: () => number,
    private readonly log: SchedulerLogger,
    /** Housekeeping each pass also does (the app deletes expired web sessions): never inside a request. */
    private readonly chores?: () => Promise<unknown>,
    /** Passes run after the incidents' own, in order: the heartbeats' deadlines, the silences made here. */
    private readonly also: readonly { sweep(): Promise<unknown> }[] = [],
  ) {
    this.loop = new TimedLoop(
      () => this.tick(),
      intervalMs,
      (err) => this.log.warn({ err }, 'SLA sweep failed; will retry'),
    );
  }

  /** Starts the loop; the first pass runs one interval from now (the app runs one at startup itself). */
  start(): void {
    this.loop.start(this.intervalMs());
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass; exposed so tests can fast-forward a fake clock and tick. */
  async tick(): Promise<number> {
    const breached = await this.service.sweepBreaches((c) =>
      this.log.warn(
        { incident: c.incident.id, severity: c.incident.severity, respondBy: new Date(c.incident.respondBy).toISOString() },
        'SLA breached',
      ),
    );
    // After the breaches: a missed deadline makes the next escalation step due at once.
    await this.service.sweepEscalations((c) => {
      const entry = c.timeline[0];
      if (entry) this.log.warn({ incident: c.incident.id, severity: c.incident.severity, kind: entry.kind }, describeEntry(entry));
    });
    if (this.chores) await this.chores().catch((err: unknown) => this.log.warn({ err }, 'housekeeping failed; will retry'));
    // Each pass on its own: one that keeps failing (a bug in it, a peer it calls) must not stop the
    // ones after it, such as the deletion of unconfirmed status page subscriptions.
    for (const pass of this.also)
      await pass.sweep().catch((err: unknown) => this.log.warn({ err, pass: pass.constructor.name }, 'scheduler pass failed; will retry'));
    return breached;
  }
}
