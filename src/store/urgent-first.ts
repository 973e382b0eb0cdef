import type { Urgency } from './store.js';

/** A notification waiting for a group commit, as far as choosing its batch goes. */
export interface Waiting {
  /** Its group: one notification of a group per batch, and never one overtaking an earlier one of its group. */
  key: string;
  urgency?: Urgency | undefined;
  /** The urgency, once asked for (a notification is asked once however long it waits). */
  rank?: number;
}

/** Ranks below this are kept apart (a severity's rank: 0-3); anything above waits with the last. */
const RANKS = 5;

/**
 * The next batch of at most `max` from `waiting` (in arrival order), and what is left, in arrival
 * order. Only the first waiting notification of a group not `busy` (a batch in flight holds it) can
 * go. When they all fit they go in arrival order and no urgency is asked for; otherwise the most
 * urgent go first, in arrival order within one urgency. Linear in the number waiting: a storm queues
 * thousands, and this runs for every batch.
 */
export function takeBatch<T extends Waiting>(waiting: readonly T[], busy: ReadonlySet<string>, max: number): { batch: T[]; left: T[] } {
  const heads: T[] = [];
  const seen = new Set<string>();
  for (const w of waiting) {
    if (!seen.has(w.key) && !busy.has(w.key)) heads.push(w);
    seen.add(w.key);
  }
  let batch = heads;
  if (heads.length > max) {
    const byRank: T[][] = Array.from({ length: RANKS }, () => []);
    for (const w of heads) {
      w.rank ??= rankOf(w.urgency);
      byRank[w.rank]!.push(w);
    }
    batch = [];
    for (const list of byRank) {
      for (const w of list) {
        if (batch.length === max) break;
        batch.push(w);
      }
    }
  }
  if (batch.length === waiting.length) return { batch, left: [] };
  const taken = new Set(batch);
  return { batch, left: waiting.filter((w) => !taken.has(w)) };
}

function rankOf(urgency: Urgency | undefined): number {
  let r: number | undefined;
  try {
    r = urgency?.();
  } catch {
    // Its decision will say what is wrong with it; meanwhile it is not urgent.
  }
  return r === undefined || !Number.isFinite(r) ? RANKS - 1 : Math.min(RANKS - 1, Math.max(0, Math.floor(r)));
}
