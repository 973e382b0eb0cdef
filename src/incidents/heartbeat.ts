import { toLabels } from '../classify/labels.js';
import { formatDuration } from './duration.js';
import type { GroupNotification, IncomingAlert } from './model.js';

/** An Alertmanager's Watchdog (the always-firing alert of the dead man's switch) or a monitor's POST /api/heartbeats/:name. */
export type HeartbeatKind = 'watchdog' | 'monitor';

/** The alertname of the incident a missed heartbeat opens; its title reads "Alerting pipeline silent: <source>". */
export const PIPELINE_SILENT = 'Alerting pipeline silent';
/** The receiver the pipeline-silent incidents are filed under: the service itself, not an Alertmanager route. */
export const HEARTBEAT_RECEIVER = 'alert-triage';

/** One expected heartbeat and what the incident says about it. */
export interface ExpectedHeartbeat {
  kind: HeartbeatKind;
  name: string;
  timeoutMs: number;
  /** The Alertmanager it watches, linked from the incident (watchdog only). */
  externalUrl?: string | undefined;
}

const KIND_WORDS: Record<HeartbeatKind, string> = { watchdog: 'Watchdog alert', monitor: 'heartbeat' };

/**
 * The notification that a heartbeat was missed: one critical alert whose labels name the source, so
 * that its fingerprint, and the group, are the same from every replica and every pass. It starts at
 * the missed deadline, so the pass after the first (or another replica's) is a re-delivery, and a
 * later silence, after the source came back, is a new incident.
 */
export function silentNotification(h: ExpectedHeartbeat, deadline: number, lastBeatAt: number | null): GroupNotification {
  const since =
    lastBeatAt === null ? 'none has come since it was first expected' : `the last came at ${new Date(lastBeatAt).toISOString()}`;
  return notification(h, {
    fingerprint: '',
    status: 'firing',
    labels: labelsOf(h),
    annotations: toLabels({
      summary: h.name,
      description: `No ${KIND_WORDS[h.kind]} from ${h.name} for ${formatDuration(h.timeoutMs)}: ${since}. ${
        h.kind === 'watchdog'
          ? 'Alerts from this Alertmanager are not reaching alert-triage: check Prometheus, Alertmanager and the route to the webhook.'
          : 'The job that should report it has not run, or failed.'
      }`,
    }),
    startsAt: deadline,
    endsAt: null,
    generatorUrl: h.externalUrl ?? '',
  });
}

/** The notification that the heartbeat came back: the same alert, resolved at `at`. */
export function backNotification(h: ExpectedHeartbeat, missedDeadline: number, at: number): GroupNotification {
  return notification(h, {
    fingerprint: '',
    status: 'resolved',
    labels: labelsOf(h),
    annotations: toLabels({ summary: h.name }),
    startsAt: missedDeadline,
    endsAt: at,
    generatorUrl: h.externalUrl ?? '',
  });
}

function labelsOf(h: ExpectedHeartbeat) {
  // triage_severity decides outright (the shipped severityLabel): a dead pipeline is always critical.
  return toLabels({
    alertname: PIPELINE_SILENT,
    heartbeat: h.name,
    heartbeat_kind: h.kind,
    severity: 'critical',
    triage_severity: 'critical',
  });
}

function notification(h: ExpectedHeartbeat, alert: IncomingAlert): GroupNotification {
  const fingerprint = `heartbeat-${h.kind}-${h.name}`;
  const groupLabels = toLabels({ alertname: PIPELINE_SILENT, heartbeat: h.name });
  return {
    receiver: HEARTBEAT_RECEIVER,
    groupKey: `{}:{heartbeat_kind=${JSON.stringify(h.kind)}, heartbeat=${JSON.stringify(h.name)}}`,
    status: alert.status,
    groupLabels,
    commonLabels: alert.labels,
    commonAnnotations: toLabels({ summary: h.name }),
    externalUrl: h.externalUrl ?? '',
    source: 'other',
    truncatedAlerts: 0,
    alerts: [{ ...alert, fingerprint }],
  };
}
