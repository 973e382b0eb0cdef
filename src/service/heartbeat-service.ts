import type { Clock } from '../clock.js';
import type { HeartbeatConfig } from '../config/load-config.js';
import { backNotification, silentNotification, type ExpectedHeartbeat, type HeartbeatKind } from '../incidents/heartbeat.js';
import type { GroupNotification } from '../incidents/model.js';
import type { HeartbeatStore } from '../store/store.js';
import type { IncidentService } from './incident-service.js';

/** What the heartbeat service needs. */
export interface HeartbeatServiceDeps {
  store: HeartbeatStore;
  incidents: IncidentService;
  clock: Clock;
  /** The config in force, read at every call (a reload adds or drops sources and monitors). */
  config: { readonly current: { heartbeats: HeartbeatConfig } };
}

/** A Watchdog taken out of a notification: the source it was a beat of. */
export interface WatchdogBeat {
  source: string;
  /** Whether the source is in heartbeats.watchdog.sources (only those are expected). */
  expected: boolean;
}

/**
 * The alerting pipeline's dead man's switch. Each Alertmanager's always-firing Watchdog, and each
 * monitor's POST, moves its deadline in the store; the scheduler's pass opens a critical
 * "Alerting pipeline silent: <source>" incident for a deadline that passed, and the next beat
 * resolves it. The incident goes through the incident service like any notification, so it is
 * opened (and paged) once however many replicas notice, and a repeated pass changes nothing.
 */
export class HeartbeatService {
  /** The config object whose heartbeats were last written to the store as expected. */
  private seeded: HeartbeatConfig | undefined;

  constructor(private readonly deps: HeartbeatServiceDeps) {}

  /** The heartbeats the config expects. */
  expected(): ExpectedHeartbeat[] {
    const { watchdog, monitors } = this.deps.config.current.heartbeats;
    return [
      ...watchdog.sources.map((s) => ({ kind: 'watchdog' as const, name: s.name, timeoutMs: s.timeoutMs, externalUrl: s.externalUrls[0] })),
      ...monitors.map((m) => ({ kind: 'monitor' as const, name: m.name, timeoutMs: m.timeoutMs })),
    ];
  }

  /**
   * Takes the Watchdog alerts out of a notification: each firing one is a beat of its source (never
   * an ordinary incident), and what is left is the notification without them. A resolved Watchdog is
   * no beat: its Prometheus stopped sending it, and the deadline will pass.
   */
  async takeWatchdogs(n: GroupNotification): Promise<{ rest: GroupNotification; beats: WatchdogBeat[] }> {
    const { alertname, sources } = this.deps.config.current.heartbeats.watchdog;
    const watchdogs = n.alerts.filter((a) => a.labels['alertname'] === alertname);
    if (watchdogs.length === 0) return { rest: n, beats: [] };
    const beats: WatchdogBeat[] = [];
    const url = n.externalUrl.replace(/\/+$/, '');
    for (const a of watchdogs) {
      if (a.status !== 'firing') continue;
      const named = a.labels['source'];
      const source = sources.find((s) => (url && s.externalUrls.includes(url)) || (named !== undefined && s.name === named));
      const name = source?.name ?? named ?? (url || n.receiver);
      if (beats.some((b) => b.source === name)) continue;
      beats.push({ source: name, expected: source !== undefined });
      // An unexpected source's beat is recorded (its last beat is a metric) with the default timeout, and never paged.
      await this.beat('watchdog', name, source?.timeoutMs ?? 5 * 60_000);
    }
    return { rest: { ...n, alerts: n.alerts.filter((a) => a.labels['alertname'] !== alertname) }, beats };
  }

  /** A monitor's POST: undefined when no monitor has that name. */
  async monitorBeat(name: string): Promise<{ deadline: number } | undefined> {
    const monitor = this.deps.config.current.heartbeats.monitors.find((m) => m.name === name);
    if (!monitor) return undefined;
    await this.beat('monitor', name, monitor.timeoutMs);
    return { deadline: this.deps.clock.now() + monitor.timeoutMs };
  }

  /** Moves the deadline; a beat after a missed deadline resolves the pipeline-silent incident. */
  private async beat(kind: HeartbeatKind, name: string, timeoutMs: number): Promise<void> {
    const now = this.deps.clock.now();
    const before = await this.deps.store.beat(kind, name, now, timeoutMs);
    if (before !== undefined && before <= now) {
      const h = this.expected().find((e) => e.kind === kind && e.name === name) ?? { kind, name, timeoutMs };
      await this.deps.incidents.ingest(backNotification(h, before, now));
    }
  }

  /**
   * The scheduler's pass: every expected heartbeat whose deadline has passed has its incident
   * (opened by the first pass, on whichever replica; a re-delivery for every later one). Returns
   * how many are missed.
   */
  async sweep(): Promise<number> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const expected = this.expected();
    if (expected.length === 0) return 0;
    const config = this.deps.config.current.heartbeats;
    if (this.seeded !== config) {
      // Newly expected heartbeats count from now: a source added by a reload has its timeout to send its first beat.
      await store.expectHeartbeats(expected.map((e) => ({ kind: e.kind, name: e.name, deadline: now + e.timeoutMs })));
      this.seeded = config;
    }
    const rows = await store.listHeartbeats();
    let missed = 0;
    for (const h of expected) {
      const row = rows.find((r) => r.kind === h.kind && r.name === h.name);
      if (!row || row.deadline > now) continue;
      missed++;
      await this.deps.incidents.ingest(silentNotification(h, row.deadline, row.lastBeatAt));
    }
    return missed;
  }
}
