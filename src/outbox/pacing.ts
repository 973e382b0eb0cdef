import type { Pace } from './channel.js';
import type { OutboxEntry } from './page.js';
import { planPacedBatch, type BatchPlan } from './policy.js';
import type { OutboxStore } from './ports.js';

/**
 * The pace of each paced target, shared with every replica through the store. This process keeps
 * a hint of when each target is next free, as it last saw it: it spares claiming pages only to
 * release them again (two writes per page per pass in a storm). The store's pace decides; another
 * replica may have moved it further, and then the claim finds out.
 */
export class Pacer {
  private readonly hint = new Map<string, number>();

  constructor(private readonly store: Pick<OutboxStore, 'paceChannel'>) {}

  /** The targets that may not take a message at `now`; forgets the pauses that are over. */
  paused(now: number): string[] {
    const out: string[] = [];
    for (const [key, at] of this.hint) {
      if (at > now) out.push(key);
      else this.hint.delete(key); // over: what is left is what this pass left alone
    }
    return out;
  }

  isPaused(key: string, now: number): boolean {
    return (this.hint.get(key) ?? 0) > now;
  }

  /** `delay`, or less when a paused target may take its next message sooner (0: a pause already over). */
  nextIn(delay: number, now: number): number {
    for (const at of this.hint.values()) delay = Math.min(delay, Math.max(0, at - now));
    return delay;
  }

  /** Plans a target's batch against the store's pace, taken atomically. */
  async plan(key: string, pages: readonly OutboxEntry[], now: number, pace: Pace, canDigest: boolean): Promise<BatchPlan> {
    const plan = await this.store.paceChannel(key, (nextFree) => {
      const plan = planPacedBatch(pages, nextFree, now, pace, canDigest);
      return { nextFree: plan.action === 'wait' ? nextFree : plan.nextFree, result: plan };
    });
    this.hint.set(key, plan.action === 'wait' ? plan.until : plan.nextFree);
    return plan;
  }

  /** A server's Retry-After: the target takes nothing until `until`, in every replica. */
  async pause(key: string, until: number): Promise<void> {
    const paused = await this.store.paceChannel(key, (nextFree) => ({
      nextFree: Math.max(nextFree, until),
      result: Math.max(nextFree, until),
    }));
    this.hint.set(key, paused);
  }
}
