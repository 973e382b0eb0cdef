import type { Clock } from '../clock.js';

/** How many failures a key may have in a window. */
export interface AttemptRule {
  max: number;
  windowMs: number;
}

/** Keys kept at most, so that a flood of made-up accounts cannot fill the memory. */
const MAX_KEYS = 50_000;

/**
 * Counts failed attempts (wrong sign-ins, wrong bearer tokens) per key, a client address or an
 * account, in fixed windows on the injected clock; a key past its rule is refused until its window
 * ends. Kept in memory: each replica counts its own, so with N replicas a guesser gets at most N
 * times the rule, still far from a useful guessing rate against high-entropy tokens.
 */
export class AttemptLimiter {
  private readonly counts = new Map<string, { n: number; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly rule: AttemptRule,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Seconds to wait when `key` has used up its failures, else undefined. */
  retryAfter(key: string): number | undefined {
    const now = this.clock.now();
    const c = this.counts.get(key);
    if (!c || c.until <= now) return undefined;
    return c.n >= this.rule.max ? Math.max(1, Math.ceil((c.until - now) / 1000)) : undefined;
  }

  /** Records a failure of `key`. */
  fail(key: string): void {
    const now = this.clock.now();
    const c = this.counts.get(key);
    if (c && c.until > now) {
      c.n++;
      return;
    }
    if (this.counts.size >= this.maxKeys) this.prune(now);
    this.counts.set(key, { n: 1, until: now + this.rule.windowMs });
  }

  /** Forgets `key`'s failures (a success for an account). */
  clear(key: string): void {
    this.counts.delete(key);
  }

  private prune(now: number): void {
    for (const [k, c] of this.counts) if (c.until <= now) this.counts.delete(k);
    // Still full of live keys: a flood from very many addresses. Make room by forgetting keys that are
    // not held, oldest first (a Map keeps insertion order), and only then held ones: clearing all
    // would let the flood free every key it wants to guess from.
    const room = Math.floor(this.maxKeys * 0.9);
    for (const [k, c] of this.counts) {
      if (this.counts.size < room) return;
      if (c.n < this.rule.max) this.counts.delete(k);
    }
    for (const k of this.counts.keys()) {
      if (this.counts.size < room) return;
      this.counts.delete(k);
    }
  }
}

/** The limits of sign-ins and bearer tokens (docs/people.md). */
export const ATTEMPT_RULES = {
  /** Wrong sign-ins from one client address. */
  signInByAddress: { max: 20, windowMs: 5 * 60_000 },
  /** Wrong sign-ins for one account (the name typed). */
  signInByAccount: { max: 10, windowMs: 15 * 60_000 },
  /** Wrong bearer tokens from one client address. */
  bearerByAddress: { max: 30, windowMs: 60_000 },
  /** Wrong secrets for one personal token's public prefix. */
  bearerByAccount: { max: 10, windowMs: 15 * 60_000 },
} as const satisfies Record<string, AttemptRule>;

/** The four limiters one app shares between its routes. */
export function attemptLimiters(clock: Clock) {
  return {
    signInByAddress: new AttemptLimiter(clock, ATTEMPT_RULES.signInByAddress),
    signInByAccount: new AttemptLimiter(clock, ATTEMPT_RULES.signInByAccount),
    bearerByAddress: new AttemptLimiter(clock, ATTEMPT_RULES.bearerByAddress),
    bearerByAccount: new AttemptLimiter(clock, ATTEMPT_RULES.bearerByAccount),
  };
}
export type AttemptLimiters = ReturnType<typeof attemptLimiters>;
