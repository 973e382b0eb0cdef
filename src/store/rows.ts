/**
 * The row layer both stores share: the rows as the tables hold them, their mapping to and from the
 * domain's objects, and the statements the two engines run alike, written once. What the two
 * drivers hand over differently is read through each engine's Engine value; what the engines do
 * differently (transactions, locking, claims, how a change is written) stays in their own files.
 * JSON is written with wellFormedJson, as every JSON column is (src/well-formed.ts).
 */
import { toLabels } from '../classify/labels.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { Alert, AlertLinks, Incident, IncidentState } from '../incidents/model.js';
import type { PageRequest } from '../incidents/page.js';
import type { Notice, OutboxEntry } from '../outbox/page.js';
import type { ChecklistState, TimelineEntry } from '../incidents/timeline.js';
import type { StepStatus } from '../incidents/checklist.js';
import { wellFormedJson } from '../well-formed.js';
import type { HeartbeatRecord, IncidentCounts, IncidentFilter, NotificationOutcome, SilenceRecord, TimelinePage } from './store.js';

/** How one engine's driver hands over what SQLite and PostgreSQL store differently. */
export interface Engine {
  /** A JSON column as read: text in SQLite, already parsed by pg. */
  json: (value: unknown) => unknown;
  /** A boolean column as read: 0 or 1 in SQLite, a boolean in PostgreSQL. */
  bool: (value: unknown) => boolean;
  /** A boolean as bound: 1 or 0 in SQLite (better-sqlite3 binds no booleans), itself in PostgreSQL. */
  boolParam: (value: boolean) => unknown;
  /** The placeholder of the `n`th parameter of a statement, from 1: `?` in SQLite, `$n` in PostgreSQL. */
  param: (n: number) => string;
  /** `expr` is one of the texts of the `n`th parameter, bound with listParam. */
  oneOf: (expr: string, n: number) => string;
  /** A list of texts as oneOf binds it: JSON text in SQLite (json_each), an array in PostgreSQL. */
  listParam: (values: readonly string[]) => unknown;
}

/** A JSON column as the driver hands it over; Engine.json reads it. */
type JsonColumn = unknown;
/** A boolean column as the driver hands it over; Engine.bool reads it. */
type BoolColumn = unknown;

/** A column's traits: `once`, written when the incident opens and never updated; `as`, stored other than as it is. */
interface ColumnTraits {
  readonly once?: true;
  /** `labels`: a label map as JSON text (wellFormedJson); `boolean`: a boolean as the engine binds it (Engine.boolParam). */
  readonly as?: 'labels' | 'boolean';
}
type IncidentField = Exclude<keyof Incident, 'id'>;
type IncidentColumn = readonly [column: string, field: IncidentField, traits?: ColumnTraits];
const ONCE = { once: true } as const;

/**
 * The columns of the incidents table besides its id, each with the Incident field it holds, in
 * toIncident's order. Both engines' INSERT and UPDATE of an incident, with their values, and
 * IncidentRow are made from this list: a new column is one line here and one in toIncident (the
 * compiler asks for both once Incident has the field), plus a migration for each engine.
 */
export const INCIDENT_COLUMNS = [
  ['key', 'key', ONCE],
  ['receiver', 'receiver', ONCE],
  ['group_key', 'groupKey', ONCE],
  ['group_labels', 'groupLabels', { once: true, as: 'labels' }],
  ['external_url', 'externalUrl', ONCE],
  ['title', 'title'],
  ['severity', 'severity'],
  ['rule', 'rule'],
  ['status', 'status'],
  ['opened_at', 'openedAt', ONCE],
  ['respond_by', 'respondBy'],
  ['acknowledged_at', 'acknowledgedAt'],
  ['acknowledged_by', 'acknowledgedBy'],
  ['resolved_at', 'resolvedAt'],
  ['resolved_by', 'resolvedBy'],
  ['sla_breached', 'slaBreached', { as: 'boolean' }],
  ['breached_at', 'breachedAt'],
  ['escalation_step', 'escalationStep'],
  ['reminders', 'reminders'],
  ['next_escalation_at', 'nextEscalationAt'],
  ['team', 'team', ONCE],
  ['source', 'source', ONCE],
] as const satisfies readonly IncidentColumn[];

type ListedColumn = (typeof INCIDENT_COLUMNS)[number];
// A field of Incident that has no column in INCIDENT_COLUMNS fails to compile here, by name.
void ({} satisfies Record<Exclude<IncidentField, ListedColumn[1]>, never>);

/** An incidents row: a column stored other than as it is (ColumnTraits.as) comes as the driver hands it over. */
export type IncidentRow = { id: number } & {
  -readonly [C in ListedColumn as C[0]]: C extends readonly [string, string, { as: string }] ? unknown : Incident[C[1]];
};

/**
 * An incident's INSERT and UPDATE for one engine, made once from INCIDENT_COLUMNS, and their values
 * in the order of their placeholders (positional: no object per write). `first` is the number of
 * the first placeholder, for a statement with other parameters before these.
 */
export interface IncidentWrites {
  /** INSERT INTO incidents (every column) VALUES (…); insertValues binds it. */
  insert: string;
  /** UPDATE incidents SET (every column but the `once` ones) WHERE id = …; updateValues binds it. */
  update: string;
  insertValues(i: Incident): unknown[];
  updateValues(i: Incident, id: number): unknown[];
}

export function incidentWrites(e: Engine, first = 1): IncidentWrites {
  const inserted: readonly IncidentColumn[] = INCIDENT_COLUMNS;
  const updated = inserted.filter(([, , traits]) => !traits?.once);
  const insertValues = valuesOf(e, inserted);
  const updateValues = valuesOf(e, updated);
  return {
    insert: `INSERT INTO incidents (${inserted.map(([column]) => column).join(', ')}) VALUES (${inserted.map((_, n) => e.param(first + n)).join(', ')})`,
    // Every update moves the version on (docs/api.md): the live pages poll it instead of the timeline.
    update: `UPDATE incidents SET ${updated.map(([column], n) => `${column} = ${e.param(first + n)}`).join(', ')}, version = version + 1 WHERE id = ${e.param(first + updated.length)}`,
    insertValues: (i) => insertValues(i, []),
    updateValues: (i, id) => {
      const out = updateValues(i, []);
      out.push(id);
      return out;
    },
  };
}

/** Pushes the values of `columns` of an incident to `out`, in their order, as the engine binds them. */
function valuesOf(e: Engine, columns: readonly IncidentColumn[]): (i: Incident, out: unknown[]) => unknown[] {
  const fields = columns.map(([, field]) => field);
  const stored = columns.map(([, , traits]) => traits?.as);
  return (i, out) => {
    for (let n = 0; n < fields.length; n++) {
      const value = i[fields[n]!];
      const as = stored[n];
      out.push(as === undefined ? value : as === 'labels' ? wellFormedJson(value) : e.boolParam(value as boolean));
    }
    return out;
  };
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
  /** AlertLinks, {} when there are none. */
  links: JsonColumn;
}

export interface TimelineRow {
  /** Read by the timeline's pages only: their cursor. */
  id?: number;
  at: number;
  kind: TimelineEntry['kind'];
  actor: string;
  /** The kind's own fields. */
  data: JsonColumn;
}

export interface OutboxRow {
  id: number;
  /** Null for a notice. */
  incident_id: number | null;
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

/** A row of checklist_steps: a step's latest mark. */
export interface StepRow {
  step: string;
  state: ChecklistState;
  actor: string;
  at: number;
  note: string | null;
}

/** The checklist state from its rows. */
export function toSteps(rows: readonly StepRow[]): Map<string, StepStatus> {
  return new Map(rows.map((r) => [r.step, { state: r.state, actor: r.actor, at: r.at, ...(r.note ? { note: r.note } : {}) }]));
}

/** The values of checklist_steps' upsert (STEP_UPSERT) for the checklist entries of a change, in order, 6 a row. */
export function stepValues(incidentId: number, entries: readonly TimelineEntry[]): unknown[] {
  const out: unknown[] = [];
  for (const e of entries) if (e.kind === 'checklist') out.push(incidentId, e.step, e.state, e.actor, e.at, e.note ?? null);
  return out;
}

/** A page of the timeline from its rows, newest first, read `limit` + 1 (the one more says an older page exists). */
export function timelinePageOf(
  rows: readonly Required<TimelineRow>[],
  limit: number,
  toEntry: (r: TimelineRow) => TimelineEntry,
): TimelinePage {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const entries: TimelineEntry[] = [];
  for (let n = shown.length - 1; n >= 0; n--) entries.push(toEntry(shown[n]!));
  return { entries, older: rows.length > limit && last ? { at: last.at, id: last.id } : null };
}

/** A row of the alert summary's names. */
export interface AlertNameRow {
  alertname: string;
  count: number;
  firing: number;
}
/** The order pages are claimed in (RETURNING promises none): most severe first, then the longest due, then the oldest. */
export const claimOrder = (a: OutboxRow, b: OutboxRow): number =>
  a.priority - b.priority || a.next_attempt_at - b.next_attempt_at || a.id - b.id;

/** What a page's payload column holds. */
export interface PagePayload {
  mentions: string[];
  recipients: string[];
  cause: TimelineEntry | null;
  /** A step of a person's notification rules (PageRequest.personal). */
  personal?: { contact: string; lastOfMethod: boolean };
  /** A notice's words (a page of no incident). */
  notice?: Notice;
  /** A status page subscriber's id (PageRequest.subscriber). */
  subscriber?: number;
}

/** The mappers from rows to the domain's objects, for one engine. */
export interface RowMappers {
  toIncident: (r: IncidentRow) => Incident;
  toAlert: (r: AlertRow) => Alert;
  toEntry: (r: TimelineRow) => TimelineEntry;
  toOutboxEntry: (r: OutboxRow) => OutboxEntry;
  /** The state a decider reads: the incident and its alerts by fingerprint. */
  toState: (r: IncidentRow, alerts: readonly AlertRow[]) => IncidentState;
  /**
   * The outcome of a notification that changed nothing (a re-delivery): it still names the incident
   * it concerns, the group's active one, else its most recently resolved one (null when neither).
   */
  unchanged: (concerned: IncidentRow | undefined) => NotificationOutcome;
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
    source: r.source,
  });
  const toAlert = (r: AlertRow): Alert => {
    const links = alertLinks(e.json(r.links));
    return {
      fingerprint: r.fingerprint,
      status: r.status,
      labels: toLabels(e.json(r.labels)),
      annotations: toLabels(e.json(r.annotations)),
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      generatorUrl: r.generator_url,
      ...(links ? { links } : {}),
      severity: r.severity,
      rule: r.rule,
    };
  };
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
        ...(payload.personal ? { personal: payload.personal } : {}),
        ...(payload.notice ? { notice: payload.notice } : {}),
        ...(payload.subscriber !== undefined ? { subscriber: payload.subscriber } : {}),
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        createdAt: r.created_at,
        maybeSent: e.bool(r.maybe_sent),
      };
    },
    toState: (r, alerts) => ({ incident: toIncident(r), alerts: new Map(alerts.map((a) => [a.fingerprint, toAlert(a)])) }),
    unchanged: (concerned) => ({ change: null, incident: concerned ? (toIncident(concerned) as Incident & { id: number }) : null }),
  };
}

/** An alert's links column as read; undefined for none ({}, or a row from before the column). */
function alertLinks(value: unknown): AlertLinks | undefined {
  return value && typeof value === 'object' && Object.keys(value).length > 0 ? value : undefined;
}

/** An alert's links as written: {} for none. */
export function linksJson(a: Alert): string {
  return wellFormedJson(a.links ?? {});
}

/** A count by channel, a row of SharedSql's queueDepth and retrying. */
export interface ChannelCount {
  channel: OutboxEntry['channel'];
  n: number;
}

/** Counts by channel, every channel present (0 when no row names it). */
export function byChannel(rows: readonly ChannelCount[]): Record<OutboxEntry['channel'], number> {
  const out: Record<OutboxEntry['channel'], number> = {};
  for (const r of rows) out[r.channel] = r.n;
  return out;
}

/** A row of SharedSql's counts. */
export interface CountsRow {
  severity: Severity;
  open: number;
  breached: number;
}

/** The counts by severity, every severity present (0 when no row names it). */
export function toCounts(rows: readonly CountsRow[]): IncidentCounts {
  const zeros = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const counts = { open: zeros(), breachedOpen: zeros() };
  for (const r of rows) {
    counts.open[r.severity] = r.open;
    counts.breachedOpen[r.severity] = r.breached;
  }
  return counts;
}

/** The alerts table's columns after incident_id, in the order of both engines' inserts. */
export const ALERT_COLUMNS = [
  'fingerprint',
  'status',
  'labels',
  'annotations',
  'starts_at',
  'ends_at',
  'generator_url',
  'severity',
  'rule',
  'links',
] as const;
/** The head of both engines' insert of alerts (VALUES in SQLite, a SELECT in PostgreSQL follows), ALERT_UPSERT its tail. */
export const ALERT_INSERT = `INSERT INTO alerts (incident_id, ${ALERT_COLUMNS.join(', ')})`;
/** A later notification updates an alert the incident already holds. */
export const ALERT_UPSERT = `ON CONFLICT (incident_id, fingerprint) DO UPDATE SET ${ALERT_COLUMNS.filter((c) => c !== 'fingerprint')
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;
/** The head of both engines' insert of timeline entries: the kind's own fields go to `data`. */
export const TIMELINE_INSERT = 'INSERT INTO timeline (incident_id, at, kind, actor, data)';
/** The head of both engines' insert of pages. */
export const OUTBOX_INSERT =
  'INSERT INTO outbox (incident_id, channel, target, event, severity, priority, payload, status, next_attempt_at, created_at, last_error)';

/** What a page's payload column holds (as JSON: wellFormedJson). */
export function pagePayload(p: PageRequest): PagePayload {
  return {
    mentions: p.mentions,
    recipients: p.recipients,
    cause: p.cause,
    ...(p.personal ? { personal: p.personal } : {}),
    ...(p.subscriber !== undefined ? { subscriber: p.subscriber } : {}),
  };
}

/** A page for a channel that is not configured is recorded as failed at once, never queued. */
export function pageStatus(p: PageRequest): OutboxEntry['status'] {
  return p.notSent ? 'failed' : 'pending';
}

/** Statements that both engines run as they are, with the engine's placeholders. */
export interface SharedSql {
  /** CountsRow by severity of the unresolved incidents, and of the open ones past their deadline at $1. */
  counts: string;
  /** ChannelCount of the pages waiting or being sent. */
  queueDepth: string;
  /** ChannelCount of the pages still to deliver whose last attempt failed. */
  retrying: string;
  /** channel_id, ts of the Slack message of incident $1 in target $2. */
  slackMessage: string;
  /** Saves it (incident_id, target, channel_id, ts); the first one saved stays, the thread root. */
  saveSlackMessage: string;
  /** next_free of Slack target $1. */
  paceOf: string;
  /** HeartbeatRow of heartbeat kind $1, name $2. */
  heartbeat: string;
  /** Records a beat of kind $1, name $2 at $3 with the deadline $4. */
  beat: string;
  /** Adds heartbeat kind $1, name $2 with the deadline $3 unless it is known. */
  expectHeartbeat: string;
  /** Every HeartbeatRow. */
  heartbeats: string;
  addSilence: string;
  /** SilenceRow of incident $1. */
  silencesOf: string;
  /** SilenceRow plus incident_status of the silences not expired whose incident resolved, or ending by $1 untold. */
  silencesDue: string;
  /** Sets notified_at = $1 of silence $2 if unset, RETURNING silence_id (the time first: SQLite's ? are in order). */
  claimSilenceNotice: string;
  /** Sets expired_at = $1 of silence $2 if unset, RETURNING silence_id. */
  markSilenceExpired: string;
  /** The version of incident $1. */
  version: string;
  /** Moves the version of incident $1 on (a change written without an update of the incident: a page's outcome). */
  bumpVersion: string;
  /** StepRow of incident $1. */
  steps: string;
  /** Upserts a step's mark: incident, step, state, actor, at, note; a mark older than the one kept is ignored. */
  stepUpsert: string;
  /** TimelineRow with id of incident $1 older than ($2 at, $3 id), newest first, at most $4; `kinds`: of the kinds in $5. */
  timelinePage: (kinds: boolean) => string;
  /** TimelineRow of incident $1, the oldest $2. */
  timelineHead: string;
  /** n: the entries of incident $1. */
  timelineCount: string;
  /** count, firing and earliest (positive) start of the alerts of incident $1. */
  alertTotals: string;
}

/** A row of the silences table. */
export interface SilenceRow {
  silence_id: string;
  incident_id: number;
  created_by: string;
  ends_at: number;
  until_resolved: BoolColumn;
  keep_after_resolve: BoolColumn;
  notified_at: number | null;
  expired_at: number | null;
}

export function toSilence(e: Engine, r: SilenceRow): SilenceRecord {
  return {
    silenceId: r.silence_id,
    incidentId: Number(r.incident_id),
    createdBy: r.created_by,
    endsAt: Number(r.ends_at),
    untilResolved: e.bool(r.until_resolved),
    keepAfterResolve: e.bool(r.keep_after_resolve),
    notifiedAt: r.notified_at === null ? null : Number(r.notified_at),
    expiredAt: r.expired_at === null ? null : Number(r.expired_at),
  };
}

/** addSilence's values. */
export function silenceValues(e: Engine, s: Omit<SilenceRecord, 'notifiedAt' | 'expiredAt'>): unknown[] {
  return [s.silenceId, s.incidentId, s.createdBy, s.endsAt, e.boolParam(s.untilResolved), e.boolParam(s.keepAfterResolve)];
}

/** A row of the heartbeats table. */
export interface HeartbeatRow {
  kind: HeartbeatRecord['kind'];
  name: string;
  last_beat_at: number | null;
  deadline: number;
}

export const toHeartbeat = (r: HeartbeatRow): HeartbeatRecord => ({
  kind: r.kind,
  name: r.name,
  lastBeatAt: r.last_beat_at === null ? null : Number(r.last_beat_at),
  deadline: Number(r.deadline),
});

export function sharedSql(e: Engine): SharedSql {
  const p = e.param;
  return {
    counts: `SELECT severity, count(*) AS open, count(*) FILTER (WHERE status = 'open' AND respond_by <= ${p(1)}) AS breached
       FROM incidents WHERE status <> 'resolved' GROUP BY severity`,
    queueDepth: `SELECT channel, count(*) AS n FROM outbox WHERE status IN ('pending', 'sending') GROUP BY channel`,
    retrying: `SELECT channel, count(*) AS n FROM outbox WHERE status IN ('pending', 'sending') AND last_error IS NOT NULL GROUP BY channel`,
    slackMessage: `SELECT channel_id, ts FROM slack_messages WHERE incident_id = ${p(1)} AND target = ${p(2)}`,
    saveSlackMessage: `INSERT INTO slack_messages (incident_id, target, channel_id, ts) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}) ON CONFLICT DO NOTHING`,
    paceOf: `SELECT next_free FROM slack_pace WHERE target = ${p(1)}`,
    heartbeat: `SELECT * FROM heartbeats WHERE kind = ${p(1)} AND name = ${p(2)}`,
    beat: `INSERT INTO heartbeats (kind, name, last_beat_at, deadline) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT (kind, name) DO UPDATE SET last_beat_at = excluded.last_beat_at, deadline = excluded.deadline`,
    expectHeartbeat: `INSERT INTO heartbeats (kind, name, last_beat_at, deadline) VALUES (${p(1)}, ${p(2)}, NULL, ${p(3)}) ON CONFLICT DO NOTHING`,
    heartbeats: `SELECT * FROM heartbeats ORDER BY kind, name`,
    addSilence: `INSERT INTO silences (silence_id, incident_id, created_by, ends_at, until_resolved, keep_after_resolve)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}) ON CONFLICT DO NOTHING`,
    silencesOf: `SELECT * FROM silences WHERE incident_id = ${p(1)} ORDER BY ends_at, silence_id`,
    silencesDue: `SELECT s.*, i.status AS incident_status FROM silences s JOIN incidents i ON i.id = s.incident_id
       WHERE s.expired_at IS NULL
         AND ((i.status = 'resolved' AND (s.until_resolved OR NOT s.keep_after_resolve))
           OR (i.status <> 'resolved' AND s.notified_at IS NULL AND NOT s.until_resolved AND s.ends_at <= ${p(1)}))
       ORDER BY s.ends_at, s.silence_id`,
    claimSilenceNotice: `UPDATE silences SET notified_at = ${p(1)} WHERE silence_id = ${p(2)} AND notified_at IS NULL RETURNING silence_id`,
    markSilenceExpired: `UPDATE silences SET expired_at = ${p(1)} WHERE silence_id = ${p(2)} AND expired_at IS NULL RETURNING silence_id`,
    version: `SELECT version FROM incidents WHERE id = ${p(1)}`,
    bumpVersion: `UPDATE incidents SET version = version + 1 WHERE id = ${p(1)}`,
    steps: `SELECT step, state, actor, at, note FROM checklist_steps WHERE incident_id = ${p(1)}`,
    stepUpsert: `INSERT INTO checklist_steps (incident_id, step, state, actor, at, note) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})
       ON CONFLICT (incident_id, step) DO UPDATE SET state = excluded.state, actor = excluded.actor, at = excluded.at, note = excluded.note
       WHERE excluded.at >= checklist_steps.at`,
    // (at, id) as a row value: the index timeline_incident (or timeline_kind) is walked backwards from the cursor.
    timelinePage: (kinds) =>
      `SELECT id, at, kind, actor, data FROM timeline WHERE incident_id = ${p(1)} AND (at, id) < (${p(2)}, ${p(3)})${
        kinds ? ` AND ${e.oneOf('kind', 5)}` : ''
      } ORDER BY at DESC, id DESC LIMIT ${p(4)}`,
    timelineHead: `SELECT at, kind, actor, data FROM timeline WHERE incident_id = ${p(1)} ORDER BY at, id LIMIT ${p(2)}`,
    timelineCount: `SELECT count(*) AS n FROM timeline WHERE incident_id = ${p(1)}`,
    alertTotals: `SELECT count(*) AS count, count(*) FILTER (WHERE status = 'firing') AS firing, min(starts_at) FILTER (WHERE starts_at > 0) AS earliest
       FROM alerts WHERE incident_id = ${p(1)}`,
  };
}

/** The statement of listIncidents, newest first: the filter's conditions, then LIMIT and OFFSET. */
export function incidentList(e: Engine, filter: IncidentFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => e.param(params.push(value));
  if (filter.status) where.push(`status = ${p(filter.status)}`);
  if (filter.severity) where.push(`severity = ${p(filter.severity)}`);
  const sql = `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${p(filter.limit)} OFFSET ${p(filter.offset ?? 0)}`;
  return { sql, params };
}
