import type { Clock } from '../clock.js';
import { ConfigError, type TriageConfig } from '../config/load-config.js';

/** Where a reload's outcome goes (metrics). */
export type ReloadObserver = (ok: boolean, at: number) => void;

/**
 * The config in force, and its reload (SIGHUP, POST /-/reload), the Prometheus way: a valid file
 * replaces it for the next decision; an invalid one is refused with the file and key at fault and
 * the running config is kept. What was decided stays decided: an incident keeps its team, severity
 * and deadline. Settings the server was built with (body limit, timeouts) need a restart.
 */
/** The config in force, as code that reads it at each use sees it (a LiveConfig). */
export interface CurrentConfig {
  readonly current: TriageConfig;
}

export class LiveConfig implements CurrentConfig {
  private config: TriageConfig;
  private readonly listeners: ((config: TriageConfig) => void)[] = [];

  constructor(
    initial: TriageConfig,
    /** Reads and validates the file again; throws ConfigError. Undefined: this process cannot reload. */
    private readonly load: (() => TriageConfig) | undefined,
    private readonly clock: Clock,
    private readonly observe: ReloadObserver,
  ) {
    this.config = initial;
    observe(true, clock.now());
  }

  get current(): TriageConfig {
    return this.config;
  }

  /** Re-reads the file; returns the new config, or throws ConfigError with the running one kept. */
  reload(): TriageConfig {
    if (!this.load) throw new ConfigError('this instance was started without a config file to reload');
    try {
      this.config = this.load();
    } catch (err) {
      this.observe(false, this.clock.now());
      throw err;
    }
    this.observe(true, this.clock.now());
    for (const listener of this.listeners) listener(this.config);
    return this.config;
  }

  /** Calls `listener` after each reload that took (e.g. the on-call overrides of removed contacts are made void). */
  onReload(listener: (config: TriageConfig) => void): void {
    this.listeners.push(listener);
  }
}
