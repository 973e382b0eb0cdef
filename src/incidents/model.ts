import type { Labels } from '../classify/matcher.js';
import type { PageRequest } from './page.js';
import type { TimelineEntry } from './timeline.js';
import type { Severity } from '../classify/severity.js';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';
/** Who sent an incident's first notification: Alertmanager, Grafana Alerting, or anything else posting the same shape. */
export type AlertSource = 'alertmanager' | 'grafana' | 'other';
export const ALERT_SOURCES: readonly AlertSource[] = ['alertmanager', 'grafana', 'other'];
export type AlertStatus = 'firing' | 'resolved';

export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

/** One alert of an incident, tracked by its Alertmanager fingerprint, with what classified it. */
export interface Alert extends IncomingAlert {
  severity: Severity;
  rule: string;
}

/** An incident: one Alertmanager group (groupKey + receiver) from first firing to resolution. */
export interface Incident {
  /** Null until the store has assigned one. */
  id: number | null;
  key: string;
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  externalUrl: string;
  /** The sender of the notification that opened it. */
  source: AlertSource;
  title: string;
  severity: Severity;
  rule: string;
  /** The team whose matchers selected the group when it opened; null for the top level's policy. */
  team: string | null;
  status: IncidentStatus;
  openedAt: number;
  respondBy: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  slaBreached: boolean;
  breachedAt: number | null;
  /** Escalation steps already taken, reminders already sent, and when the next one is due. */
  escalationStep: number;
  reminders: number;
  nextEscalationAt: number | null;
}

/** An incident with everything the store keeps about it. */
export interface IncidentWithDetails extends Incident {
  alerts: Alert[];
  timeline: TimelineEntry[];
}

/** The current state the domain decides from: the incident and its alerts by fingerprint. */
export interface IncidentState {
  incident: Incident;
  alerts: ReadonlyMap<string, Alert>;
}

/**
 * What one decision changes: the incident's new state, the alerts added or changed, and
 * the timeline entries to append. The store writes it in one transaction.
 */
export interface IncidentChange {
  incident: Incident;
  alerts: Alert[];
  timeline: TimelineEntry[];
  /** Pages to put in the outbox in the same transaction. */
  pages?: PageRequest[];
}

/** One alert as received in a webhook, already sanitized. Times are epoch milliseconds; endsAt is null while firing. */
export interface IncomingAlert {
  fingerprint: string;
  status: AlertStatus;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number | null;
  generatorUrl: string;
  /** Links and values the sender gave (Grafana's); absent when there are none. */
  links?: AlertLinks;
  /** The sender gave no startsAt: startsAt is when it was received, and a re-delivery must not read as a re-fire. */
  startsAtReceived?: true;
}

/** What Grafana Alerting sends with each alert besides Alertmanager's fields: http(s) links only, finite values. */
export interface AlertLinks {
  silenceUrl?: string;
  dashboardUrl?: string;
  panelUrl?: string;
  /** The value of each query or expression (by its ref ID) when the alert was evaluated. */
  values?: Record<string, number | null>;
}

/** One Alertmanager notification for one group, as the domain sees it. */
export interface GroupNotification {
  receiver: string;
  groupKey: string;
  status: AlertStatus;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalUrl: string;
  /** Who sent it; Alertmanager when not said. */
  source?: AlertSource;
  truncatedAlerts: number;
  alerts: IncomingAlert[];
}

/** The incident key: Alertmanager's groupKey is only unique per receiver. */
export function incidentKey(receiver: string, groupKey: string): string {
  return `${receiver}/${groupKey}`;
}
