import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IncidentChange } from '../incidents/model.js';
import type { OutboxEntry, PageOutcome } from '../outbox/page.js';
import { SEVERITIES } from '../classify/severity.js';
import { drillOf } from '../incidents/drill.js';
import type { HeartbeatRecord, IncidentCounts } from '../store/store.js';
import type { ChannelName, PhoneOutcome } from '../incidents/timeline.js';

/** Every metric the service exports, on its own registry (so tests and apps never share state). */
export interface Metrics {
  registry: Registry;
  alertsReceived: Counter<'status'>;
  alertsTruncated: Counter;
  webhookRequests: Counter<'code'>;
  webhookDuration: Histogram;
  notifications: Counter<'channel' | 'outcome'>;
  notificationLatency: Histogram<'channel'>;
  /** Counts the consequences of a committed incident change. */
  observeChange(change: IncidentChange): void;
  /** Counts how an attempt to deliver a page ended, once it is recorded. */
  observePage(page: OutboxEntry, outcome: PageOutcome, now: number): void;
  /** Records a config load or reload: whether it was taken, and when. */
  observeReload(ok: boolean, now: number): void;
  /** Counts what came of a call or text (answered, key_pressed, no_answer, delivered, stop, ...). */
  observePhone(channel: ChannelName, outcome: PhoneOutcome): void;
  /** Records a sync of a Slack user group to who is on call: done or failed, and when. */
  observeUsergroupSync(usergroup: string, ok: boolean, now: number): void;
}

/** Every known channel's value (0 when the store has none), and any other channel the store names. */
function setByChannel(gauge: Gauge<'channel'>, channels: readonly ChannelName[], values: Partial<Record<ChannelName, number>>): void {
  for (const channel of channels) gauge.set({ channel }, values[channel] ?? 0);
  for (const [channel, n] of Object.entries(values)) if (!channels.includes(channel)) gauge.set({ channel }, n ?? 0);
}

/** One call in flight shared by everyone who asks meanwhile: the gauges of one scrape read the store once. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  return () => (inflight ??= read().finally(() => (inflight = undefined)));
}

// The outbox outcomes the notifications counter counts, by the name it counts them under.
const COUNTED: Partial<Record<PageOutcome['status'], string>> = { sent: 'sent', retry: 'retried', failed: 'failed', skipped: 'skipped' };

/** What the metrics read from the rest of the service. */
export interface MetricsSources {
  /** The channels, as notify/registry.ts lists them: each gets its series from the start. */
  channels: readonly ChannelName[];
  /** Asked once per scrape, so the open and breached gauges come from the store and are right after a restart. */
  readCounts: () => Promise<IncidentCounts>;
  /** Pages waiting or being sent, by channel; a channel left out has none. */
  queueDepth: () => Promise<Partial<Record<ChannelName, number>>>;
  /** Pages whose last attempt failed, by channel; a channel left out has none. */
  retrying?: () => Promise<Partial<Record<ChannelName, number>>>;
  /** The heartbeats and their deadlines (the Watchdog of each Alertmanager, the monitors), from the store. */
  heartbeats?: () => Promise<HeartbeatRecord[]>;
}

/** Builds the metrics. */
export function createMetrics({ channels, readCounts, queueDepth, retrying = async () => ({}), heartbeats }: MetricsSources): Metrics {
  const counts = shared(readCounts);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client also exports gauges named nodejs_active_{handles,requests,resources}_total, which
  // `promtool check metrics` refuses (`_total` is for counters). They are the sums of the per-type
  // gauges without the suffix (sum(nodejs_active_handles)), so they are dropped, not renamed.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  const registers = [registry];

  const opened = new Counter({ name: 'triage_incidents_opened_total', help: 'Incidents opened', labelNames: ['severity'], registers });
  const resolved = new Counter({
    name: 'triage_incidents_resolved_total',
    help: 'Incidents resolved',
    labelNames: ['severity'],
    registers,
  });
  const breaches = new Counter({
    name: 'triage_sla_breaches_total',
    help: 'Incidents whose response deadline passed without an acknowledgement',
    labelNames: ['severity'],
    registers,
  });
  const tta = new Histogram({
    name: 'triage_time_to_acknowledge_seconds',
    help: 'Time from an incident opening to its acknowledgement',
    labelNames: ['severity'],
    buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400],
    registers,
  });
  const ttr = new Histogram({
    name: 'triage_time_to_resolve_seconds',
    help: 'Time from an incident opening to its resolution (MTTR: _sum / _count)',
    labelNames: ['severity'],
    buckets: [60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800],
    registers,
  });
  for (const severity of SEVERITIES) {
    // Zero series from the start, so rate() and increase() work from the first scrape.
    opened.inc({ severity }, 0);
    resolved.inc({ severity }, 0);
    breaches.inc({ severity }, 0);
    tta.zero({ severity });
    ttr.zero({ severity });
  }

  new Gauge({
    name: 'triage_incidents_open',
    help: 'Incidents not yet resolved',
    labelNames: ['severity'],
    registers,
    async collect() {
      const c = await counts();
      for (const s of SEVERITIES) this.set({ severity: s }, c.open[s]);
    },
  });
  new Gauge({
    name: 'triage_incidents_breached_open',
    help: 'Unresolved incidents past their response deadline without an acknowledgement',
    labelNames: ['severity'],
    registers,
    async collect() {
      const c = await counts();
      for (const s of SEVERITIES) this.set({ severity: s }, c.breachedOpen[s]);
    },
  });

  // The same for every replica (read from the store): aggregate with max, never sum.
  const beats = heartbeats ? shared(heartbeats) : undefined;
  new Gauge({
    name: 'triage_heartbeat_last_seen_timestamp_seconds',
    help: 'When each heartbeat (an Alertmanager Watchdog, a monitor) last came, Unix time; absent until the first',
    labelNames: ['kind', 'source'],
    registers,
    async collect() {
      this.reset();
      for (const h of (await beats?.()) ?? []) if (h.lastBeatAt !== null) this.set({ kind: h.kind, source: h.name }, h.lastBeatAt / 1000);
    },
  });
  new Gauge({
    name: 'triage_heartbeat_deadline_timestamp_seconds',
    help: 'When each heartbeat is due by, Unix time; past it, a pipeline-silent incident opens',
    labelNames: ['kind', 'source'],
    registers,
    async collect() {
      this.reset();
      for (const h of (await beats?.()) ?? []) this.set({ kind: h.kind, source: h.name }, h.deadline / 1000);
    },
  });

  const webhookRequests = new Counter({
    name: 'triage_webhook_requests_total',
    help: 'Webhook requests by HTTP status code',
    labelNames: ['code'],
    registers,
  });
  // The answers a dashboard plots; a series born at 1 would hide its first request from rate().
  for (const code of ['200', '400', '401', '413', '503']) webhookRequests.inc({ code }, 0);

  const escalations = new Counter({
    name: 'triage_escalations_total',
    help: 'Escalation steps taken',
    labelNames: ['severity'],
    registers,
  });
  const notifications = new Counter({
    name: 'triage_notifications_total',
    help: 'Pages by channel and outcome: sent, retried, failed, skipped (channel not configured)',
    labelNames: ['channel', 'outcome'],
    registers,
  });
  for (const channel of channels) {
    for (const outcome of ['sent', 'retried', 'failed', 'skipped']) notifications.inc({ channel, outcome }, 0);
  }
  for (const severity of SEVERITIES) escalations.inc({ severity }, 0);
  const drills = new Counter({
    name: 'triage_drills_total',
    help: 'Drills opened (alert-triage fire); they count in no other incident metric, so a rehearsal never shows as a real incident',
    labelNames: ['severity'],
    registers,
  });
  for (const severity of SEVERITIES) drills.inc({ severity }, 0);
  const unpaged = new Counter({
    name: 'triage_incidents_unpaged_total',
    help: 'Incidents that paged nobody when they opened: their route has no channel and no one to notify, and no escalation step',
    labelNames: ['severity'],
    registers,
  });
  for (const severity of SEVERITIES) unpaged.inc({ severity }, 0);
  const notificationLatency = new Histogram({
    name: 'triage_notification_latency_seconds',
    help: 'Time from the incident change to the delivery of its page',
    labelNames: ['channel'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  // Zero series per channel, like the counters: rate() then sees the very first delivered page.
  for (const channel of channels) notificationLatency.zero({ channel });
  new Gauge({
    name: 'triage_notification_queue_depth',
    help: 'Pages waiting in the outbox or being sent',
    labelNames: ['channel'],
    registers,
    async collect() {
      const depth = await queueDepth();
      setByChannel(this, channels, depth);
    },
  });

  new Gauge({
    name: 'triage_notifications_retrying',
    help: 'Pages whose last attempt failed and that wait for another (from the first failure on)',
    labelNames: ['channel'],
    registers,
    async collect() {
      const n = await retrying();
      setByChannel(this, channels, n);
    },
  });

  const alertsReceived = new Counter({
    name: 'triage_alerts_received_total',
    help: 'Alerts received in webhooks',
    labelNames: ['status'],
    registers,
  });
  alertsReceived.inc({ status: 'firing' }, 0);
  alertsReceived.inc({ status: 'resolved' }, 0);

  const reloadOk = new Gauge({
    name: 'triage_config_last_reload_successful',
    help: 'Whether the last config (re)load was taken (1) or refused (0)',
    registers,
  });
  const reloadAt = new Gauge({
    name: 'triage_config_last_reload_success_timestamp_seconds',
    help: 'When the config in force was loaded',
    registers,
  });

  const phoneOutcomes = new Counter({
    name: 'triage_phone_outcomes_total',
    help: 'What came of calls and texts after they were placed (Twilio status callbacks, keys pressed, replies), by channel and outcome',
    labelNames: ['channel', 'outcome'],
    registers,
  });

  const usergroupSyncs = new Counter({
    name: 'triage_slack_usergroup_syncs_total',
    help: 'Updates of a Slack user group to who is on call (usergroups.users.update), by user group and outcome: ok, failed',
    labelNames: ['usergroup', 'outcome'],
    registers,
  });
  const usergroupLast = new Gauge({
    name: 'triage_slack_usergroup_last_sync_timestamp_seconds',
    help: 'When each Slack user group was last set to who is on call, Unix time; absent until the first',
    labelNames: ['usergroup'],
    registers,
  });
  const usergroupFailed = new Gauge({
    name: 'triage_slack_usergroup_last_failure_timestamp_seconds',
    help: 'When the last update of each Slack user group failed, Unix time; absent until one fails',
    labelNames: ['usergroup'],
    registers,
  });

  return {
    registry,
    alertsReceived,
    observePhone(channel, outcome) {
      phoneOutcomes.inc({ channel, outcome });
    },
    observeUsergroupSync(usergroup, ok, now) {
      usergroupSyncs.inc({ usergroup, outcome: ok ? 'ok' : 'failed' });
      (ok ? usergroupLast : usergroupFailed).set({ usergroup }, now / 1000);
    },
    alertsTruncated: new Counter({
      name: 'triage_alerts_truncated_total',
      help: 'Alerts Alertmanager left out of webhooks because of max_alerts',
      registers,
    }),
    webhookRequests,
    notifications,
    notificationLatency,
    webhookDuration: new Histogram({
      name: 'triage_webhook_duration_seconds',
      help: 'Time to answer a webhook, including the store commit',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    observeReload(ok, now) {
      reloadOk.set(ok ? 1 : 0);
      if (ok) reloadAt.set(now / 1000);
    },
    observePage(page, outcome, now) {
      if (outcome.status === 'sent') notificationLatency.observe({ channel: page.channel }, Math.max(0, (now - page.createdAt) / 1000));
      const counted = COUNTED[outcome.status];
      if (counted) notifications.inc({ channel: page.channel, outcome: counted });
    },
    observeChange(change) {
      const { incident } = change;
      for (const p of change.pages ?? []) if (p.notSent) notifications.inc({ channel: p.channel, outcome: 'skipped' });
      if (drillOf(incident.groupLabels)) {
        if (change.timeline.some((t) => t.kind === 'opened')) drills.inc({ severity: incident.severity });
        return;
      }
      for (const t of change.timeline) {
        if (t.kind === 'opened') opened.inc({ severity: incident.severity });
        else if (t.kind === 'resolved') {
          resolved.inc({ severity: incident.severity });
          ttr.observe({ severity: incident.severity }, Math.max(0, (t.at - incident.openedAt) / 1000));
        } else if (t.kind === 'sla_breached') breaches.inc({ severity: incident.severity });
        else if (t.kind === 'unpaged') unpaged.inc({ severity: incident.severity });
        else if (t.kind === 'escalated') escalations.inc({ severity: incident.severity });
        else if (t.kind === 'acknowledged') {
          tta.observe({ severity: incident.severity }, Math.max(0, (t.at - incident.openedAt) / 1000));
        }
      }
    },
  };
}
