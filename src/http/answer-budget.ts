/** How many answers a budget lets through, and how long one may wait for its turn. */
export interface AnswerBudgetRule {
  /** Answers per second, on average. */
  perSecond: number;
  /** Answers at once after a quiet spell (default: one second's worth). */
  burst?: number;
  /** Longest a request waits for its turn before it is refused (default 2 s). */
  maxWaitMs?: number;
}

/**
 * A token bucket for answers of low priority (the public status page on the webhook's event loop,
 * docs/adr/0007-status-page-off-the-webhook-loop.md). Within the budget an answer goes at once;
 * beyond it the request waits its turn, which holds a keep-alive visitor's next request back (the
 * loop parses nothing more from that connection meanwhile); when the queue holds `maxWaitMs` worth
 * of answers, the request is refused at once, for a quick 503. So whatever the crowd, these answers
 * cost the loop at most about `perSecond` answers' work plus the refusals.
 */
export class AnswerBudget {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly maxQueue: number;
  private readonly waiting: ((ok: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly rule: AnswerBudgetRule,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.burst = Math.max(1, rule.burst ?? rule.perSecond);
    this.maxQueue = Math.max(1, Math.ceil((rule.perSecond * (rule.maxWaitMs ?? 2000)) / 1000));
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** true when an answer may go now; else a promise of true when its turn comes, or false when refused. */
  admit(): true | Promise<boolean> {
    this.refill();
    if (this.tokens >= 1 && this.waiting.length === 0) {
      this.tokens -= 1;
      return true;
    }
    if (this.closed || this.waiting.length >= this.maxQueue) return Promise.resolve(false);
    const turn = new Promise<boolean>((resolve) => this.waiting.push(resolve));
    this.schedule();
    return turn;
  }

  /** Requests waiting for their turn now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Refuses every waiting request (the service is closing). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const resolve of this.waiting.splice(0)) resolve(false);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rule.perSecond) / 1000);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    // Turns are handed out in batches at most every 10 ms: a timer per token would itself load the loop.
    const wait = Math.max(10, Math.ceil(((1 - this.tokens) * 1000) / this.rule.perSecond));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.tokens >= 1 && this.waiting.length) {
        this.tokens -= 1;
        this.waiting.shift()!(true);
      }
      if (this.waiting.length) this.schedule();
    }, wait);
  }
}
