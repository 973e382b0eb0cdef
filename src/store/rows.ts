import { toLabels } from '../classify/labels.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { Alert, Incident, IncidentState } from '../incidents/model.js';
import type { OutboxEntry } from '../incidents/page.js';
import type { TimelineEntry } from '../incidents/timeline.js';
import type { RuntimeOverride } from '../paging/oncall.js';
import type { NotificationOutcome } from './store.js';

/**
 * The row layer both stores share: the rows as the tables hold them, and their mapping to the
 * domain's objects, written once. What the two drivers hand over differently is read through the
 * engine's Engine value.
 */

/** How one engine's driver hands over what SQLite and PostgreSQL store differently. */
export interface Engine {
  /** A JSON column as read: text in SQLite, already parsed by pg. */
  json(value: unknown): unknown;
  /** A boolean column as read: 0 or 1 in SQLite, a boolean in PostgreSQL. */
  bool(value: unknown): boolean;
}

/** A JSON column as the driver hands it over; Engine.json reads it. */
type JsonColumn = unknown;
/** A boolean column as the driver hands it over; Engine.bool reads it. */
type BoolColumn = unknown;

export interface IncidentRow {
  id: number;
  key: string;
  receiver: string;
  group_key: string;
  group_labels: JsonColumn;
  external_url: string;
  title: string;
  severity: Severity;
  rule: string;
  status: Incident['status'];
  opened_at: number;
  respond_by: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  sla_breached: BoolColumn;
  breached_at: number | null;
  escalation_step: number;
  reminders: number;
  next_escalation_at: number | null;
  team: string | null;
}

export interface AlertRow {
  fingerprint: string;
  status: Alert['status'];
  labels: JsonColumn;
  annotations: JsonColumn;
  starts_at: number;
  ends_at: number | null;
  generator_url: string;
  severity: Severity;
  rule: string;
}

export interface TimelineRow {
  at: number;
  kind: TimelineEntry['kind'];
  actor: string;
  /** The kind's own fields. */
  data: JsonColumn;
}

export interface OutboxRow {
  id: number;
  incident_id: number;
  channel: OutboxEntry['channel'];
  target: string;
  event: OutboxEntry['event'];
  severity: Severity;
  priority: number;
  /** PagePayload. */
  payload: JsonColumn;
  status: OutboxEntry['status'];
  attempts: number;
  maybe_sent: BoolColumn;
  next_attempt_at: number;
  created_at: number;
  claimed_by: string | null;
}

export interface OverrideRow {
  id: number;
  team: string | null;
  contact: string;
  from_ms: number;
  until_ms: number;
  created_by: string;
  created_at: number;
}

/** What a page's payload column holds. */
interface PagePayload {
  mentions: string[];
  recipients: string[];
  cause: TimelineEntry | null;
}

/** The mappers from rows to the domain's objects, for one engine. */
export interface RowMappers {
  toIncident(r: IncidentRow): Incident;
  toAlert(r: AlertRow): Alert;
  toEntry(r: TimelineRow): TimelineEntry;
  toOutboxEntry(r: OutboxRow): OutboxEntry;
  toOverride(r: OverrideRow): RuntimeOverride;
  /** The state a decider reads: the incident and its alerts by fingerprint. */
  toState(r: IncidentRow, alerts: readonly AlertRow[]): IncidentState;
  /**
   * The outcome of a notification that changed nothing (a re-delivery): it still names the incident
   * it concerns, the group's active one, else its most recently resolved one (null when neither).
   */
  unchanged(concerned: IncidentRow | undefined): NotificationOutcome;
}

export function rowMappers(e: Engine): RowMappers {
  const toIncident = (r: IncidentRow): Incident => ({
    id: r.id,
    key: r.key,
    receiver: r.receiver,
    groupKey: r.group_key,
    groupLabels: toLabels(e.json(r.group_labels)),
    externalUrl: r.external_url,
    title: r.title,
    severity: r.severity,
    rule: r.rule,
    status: r.status,
    openedAt: r.opened_at,
    respondBy: r.respond_by,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    slaBreached: e.bool(r.sla_breached),
    breachedAt: r.breached_at,
    escalationStep: r.escalation_step,
    reminders: r.reminders,
    nextEscalationAt: r.next_escalation_at,
    team: r.team,
  });
  const toAlert = (r: AlertRow): Alert => ({
    fingerprint: r.fingerprint,
    status: r.status,
    labels: toLabels(e.json(r.labels)),
    annotations: toLabels(e.json(r.annotations)),
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    generatorUrl: r.generator_url,
    severity: r.severity,
    rule: r.rule,
  });
  return {
    toIncident,
    toAlert,
    toEntry: (r) => ({ ...(e.json(r.data) as object), at: r.at, kind: r.kind, actor: r.actor }) as TimelineEntry,
    toOutboxEntry: (r) => {
      const payload = e.json(r.payload) as PagePayload;
      return {
        id: r.id,
        incidentId: r.incident_id,
        channel: r.channel,
        target: r.target,
        event: r.event,
        severity: r.severity,
        mentions: payload.mentions,
        recipients: payload.recipients,
        // Pages settled before SQLite's migration 3 kept their words in `note`; only waiting ones were converted.
        cause: payload.cause ?? null,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        createdAt: r.created_at,
        maybeSent: e.bool(r.maybe_sent),
      };
    },
    toOverride: (r) => ({ id: r.id, team: r.team, contact: r.contact, from: r.from_ms, to: r.until_ms, by: r.created_by, createdAt: r.created_at }),
    toState: (r, alerts) => ({ incident: toIncident(r), alerts: new Map(alerts.map((a) => [a.fingerprint, toAlert(a)])) }),
    unchanged: (concerned) => ({ change: null, incident: concerned ? (toIncident(concerned) as Incident & { id: number }) : null }),
  };
}

/** A row of a count by severity. */
export interface SeverityCount {
  severity: Severity;
  n: number;
}

/** A row of a count by channel. */
export interface ChannelCount {
  channel: OutboxEntry['channel'];
  n: number;
}

/** Counts by severity, every severity present (0 when no row names it). */
export function bySeverity(rows: readonly SeverityCount[]): Record<Severity, number> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const r of rows) out[r.severity] = r.n;
  return out;
}

/** Counts by channel, every channel present (0 when no row names it). */
export function byChannel(rows: readonly ChannelCount[]): Record<OutboxEntry['channel'], number> {
  const out: Record<OutboxEntry['channel'], number> = { slack: 0, email: 0 };
  for (const r of rows) out[r.channel] = r.n;
  return out;
}
