import type { IncidentWithDetails } from '../incidents/model.js';
import type { Lease, OutboxEntry, PageOutcome } from './page.js';

/**
 * Decides, from when a paced target may take its next message (0: never used), what to do and when
 * the target is next free. Runs inside the store's transaction, so it must be pure and quick.
 */
export type PaceDecider<T> = (nextFree: number) => { nextFree: number; result: T };

/** What the outbox needs of the store (store/store.ts's IncidentStore meets it); see there for each. */
export interface OutboxStore {
  claimPages(now: number, limit: number, lease: Lease, busy?: readonly string[]): Promise<OutboxEntry[]>;
  renewLeases(owner: string, until: number, ids?: readonly number[]): Promise<number>;
  recoverInFlight(now: number): Promise<number>;
  completePage(id: number, outcome: PageOutcome, now: number, owner: string): Promise<boolean>;
  /** Paces one target (its targetKey) across every process, atomically. */
  paceChannel<T>(target: string, decide: PaceDecider<T>): Promise<T>;
  getIncidents(ids: readonly number[]): Promise<Map<number, IncidentWithDetails>>;
}

/** Counts each recorded outcome (metrics/metrics.ts). */
export interface PageObserver {
  observePage(page: OutboxEntry, outcome: PageOutcome, attemptedAt: number): void;
}

/** Minimal logger the outbox reports to. */
export interface OutboxLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
