import type { Clock } from '../clock.js';
import type { Classifier } from '../classify/classifier.js';
import type { GroupNotification, Incident } from './model.js';
import { acknowledge, applyNotification, resolve, sweepBreach, type SlaPolicy } from './incident-machine.js';
import type { CommittedChange, IncidentStore } from '../store/store.js';

/** What the incident service needs; the store is the only adapter and it comes in as an interface. */
export interface IncidentServiceDeps {
  store: IncidentStore;
  clock: Clock;
  classify: Classifier;
  sla: SlaPolicy;
  /** Called once for every committed change, after the commit (metrics, and later paging). */
  onCommitted?: (change: CommittedChange) => void;
}

/** The outcome of a person's action on one incident. */
export type ActionResult = { found: false } | { found: true; incident: Incident; changed: boolean };

/**
 * Runs the incident state machine against the store: each call is one store transaction, and
 * every committed change is reported to `onCommitted` exactly once.
 */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  async ingest(n: GroupNotification): Promise<CommittedChange | null> {
    const { store, clock, classify, sla } = this.deps;
    const change = await store.applyNotification(n, (active, previous, notification) =>
      applyNotification(active, previous, notification, { now: clock.now(), classify, sla }),
    );
    if (change) this.committed(change);
    return change;
  }

  acknowledge(id: number, by: string, note?: string): Promise<ActionResult> {
    return this.act(id, (incident) => acknowledge(incident, by, note, this.deps.clock.now()));
  }

  resolve(id: number, by: string, note?: string): Promise<ActionResult> {
    return this.act(id, (incident) => resolve(incident, by, note, this.deps.clock.now()));
  }

  /** Marks every incident whose deadline passed without an acknowledgement; returns how many. */
  async sweepBreaches(): Promise<CommittedChange[]> {
    const now = this.deps.clock.now();
    const changes = await this.deps.store.sweepOverdue(now, (incident) => sweepBreach(incident, now));
    for (const c of changes) this.committed(c);
    return changes;
  }

  private async act(id: number, decide: Parameters<IncidentStore['updateIncident']>[1]): Promise<ActionResult> {
    const result = await this.deps.store.updateIncident(id, decide);
    if (!result) return { found: false };
    if (result.change) this.committed(result.change);
    return { found: true, incident: result.incident, changed: result.change !== null };
  }

  private committed(change: CommittedChange): void {
    this.deps.onCommitted?.(change);
  }
}
