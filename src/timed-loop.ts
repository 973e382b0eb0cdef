/**
 * Timed work outside any request, in the way of GoAlert's engine: one pass at a time, the next
 * scheduled when the last has ended (never two overlapping), a failed pass reported and followed by
 * the next one all the same. The SLA scheduler and the outbox dispatcher both run on it.
 */
export class TimedLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly pass: () => Promise<unknown>,
    /** Read after each pass: how long until the next one. */
    private readonly nextDelay: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts the loop; its first pass runs after `delay`. */
  start(delay: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(delay);
  }

  /** A pass now, or, when one is under way, once it ends. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops scheduling and waits for a pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then(
          () => undefined,
          (err: unknown) => this.onError(err),
        )
        .finally(() => {
          this.running = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(again ? 0 : this.nextDelay());
        });
    }, delay);
    this.timer.unref();
  }
}
