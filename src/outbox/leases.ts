import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Lease } from './page.js';
import type { OutboxLogger, OutboxStore } from './ports.js';

/** A name no other process has: the host (a container's id), the pid, and a random part for a pid reused. */
export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * This process's claims on the pages it is delivering. A claim is a lease that a heartbeat renews
 * every third of its length while the sends run, so only a dispatcher that died or stalled loses
 * it; a page dropped without an outcome must run out, so only the pages of deliveries under way
 * are renewed. Handing over ends leases at once, for another replica to take the pages over.
 */
export class Leases {
  /** The pages of each target's delivery under way. */
  private readonly held = new Map<string, number[]>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<OutboxStore, 'renewLeases'>,
    private readonly clock: Clock,
    private readonly log: OutboxLogger,
    readonly owner: string,
    readonly ms: number,
  ) {}

  /** A lease on what is claimed at `now`. */
  from(now: number): Lease {
    return { owner: this.owner, until: now + this.ms };
  }

  hold(key: string, ids: number[]): void {
    this.held.set(key, ids);
  }

  /** The heartbeat must not renew what is let go (handed over, or recorded). */
  letGo(key: string): void {
    this.held.delete(key);
  }

  startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.ms / 3)));
    this.heartbeat.unref();
  }

  /** No renewal may land after a handover and extend a lease it just ended. */
  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** A failure is only logged: the next beat tries again. */
  private async renew(): Promise<void> {
    const ids = [...this.held.values()].flat();
    if (ids.length === 0) return;
    try {
      await this.store.renewLeases(this.owner, this.clock.now() + this.ms, ids);
    } catch (err) {
      this.log.warn({ err }, 'could not renew the leases of the pages being sent; another replica takes them over if this lasts');
    }
  }

  /** Ends this process's leases (of `ids`, or all of them) now: another replica takes the pages over at once, as unknown outcomes. */
  async handOver(ids?: readonly number[]): Promise<void> {
    await this.store
      .renewLeases(this.owner, this.clock.now(), ids)
      .catch((err: unknown) => this.log.warn({ err }, 'could not hand the leases over; they run out by themselves'));
  }
}
