import { wellFormedDeep, wellFormedJson } from '../well-formed.js';
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { GroupNotification, Incident, IncidentChange, IncidentState, IncidentWithDetails } from '../incidents/model.js';
import type { TimelineEntry } from '../incidents/timeline.js';
import type { NewOverride, OncallLogEntry, OncallRequest, RuntimeOverride } from '../paging/oncall.js';
import { driveSync, oncallRecords, type Op } from './oncall-records.js';
import { incidentKey } from '../incidents/model.js';
import { SEVERITIES, severityRank } from '../classify/severity.js';
import type { NewNotice, OutboxEntry, PageOutcome } from '../outbox/page.js';
import {
  ALERT_COLUMNS,
  ALERT_INSERT,
  ALERT_UPSERT,
  OUTBOX_INSERT,
  TIMELINE_INSERT,
  byChannel,
  claimOrder,
  incidentList,
  incidentWrites,
  linksJson,
  pagePayload,
  pageStatus,
  rowMappers,
  sharedSql,
  toCounts,
  type AlertRow,
  type ChannelCount,
  type CountsRow,
  type Engine,
  type IncidentRow,
  type OutboxRow,
  type TimelineRow,
  type HeartbeatRow,
  toHeartbeat,
  type SilenceRow,
  toSilence,
  silenceValues,
  type StepRow,
  type AlertNameRow,
  stepValues,
  timelinePageOf,
  toSteps,
  lazy,
} from './rows.js';
import type { StepStatus } from '../incidents/checklist.js';
import type { HeartbeatKind } from '../incidents/heartbeat.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { statusRecords } from './status-records.js';
import type { NewSubscription, StatusSubscriber, SubscribeOutcome, Urgency } from './store.js';
import type { StatusUpdateRecord } from '../incidents/status-page.js';
import { apiTokenValues, peopleSql, sessionValues, toApiToken, toSession, type ApiTokenRow, type SessionRow } from './people-rows.js';
import {
  contactSql,
  phoneMessageValues,
  settingsText,
  toPhoneMessage,
  toSettings,
  type ContactSettingsRow,
  type PhoneMessageRow,
} from './contact-rows.js';
import type { PhoneMessage } from '../notify/channel-definition.js';
import { maintenanceSql, maintenanceValues, toMaintenanceWindow, type MaintenanceRow } from './maintenance-rows.js';
import { NO_SETTINGS, type PersonSettings } from '../paging/contact-methods.js';
import {
  StoreUnavailableError,
  type CommittedChange,
  type IncidentCounts,
  type IncidentDecider,
  type IncidentFilter,
  type IncidentStore,
  type CalendarFeed,
  type NewCalendarFeed,
  type OverridePage,
  type RequestDecision,
  type HandoffClaim,
  type Lease,
  type NotificationDecider,
  type PaceDecider,
  type NotificationOutcome,
  type AlertWindow,
  type HeartbeatRecord,
  type SilenceRecord,
  type MaintenanceWindow,
  type NewMaintenanceWindow,
  type ApiTokenRecord,
  type SessionRecord,
  type AlertSummary,
  type IncidentHead,
  type TimelinePage,
  type TimelineQuery,
} from './store.js';

/**
 * The claim: most severe first across the whole queue, then the longest due, then the oldest; at
 * most @limit pages, in one statement. Each severity's due pages are a range of the index
 * outbox_claim (priority, next_attempt_at, id), read in order and cut at @limit, so a claim reads
 * about as many rows as it takes however deep the queue (a Critical behind 5,000 waiting Lows is
 * found at once, and Lows retrying later are never read). Pages whose sender's lease ran out are
 * taken over, as maybe sent (their lookup comes first). busy: a JSON array of "channel\ntarget"
 * keys whose pages are not claimed (a send to them is in flight).
 */
function claimSql(): string {
  const notBusy = `channel || char(10) || target NOT IN (SELECT value FROM json_each(@busy))`;
  const due = SEVERITIES.map(
    (s) => `SELECT * FROM (SELECT id, priority, next_attempt_at FROM outbox
        WHERE status = 'pending' AND priority = ${severityRank(s)} AND next_attempt_at <= @now AND ${notBusy}
        ORDER BY next_attempt_at, id LIMIT @limit)`,
  );
  const expired = `SELECT id, priority, next_attempt_at FROM outbox WHERE status = 'sending' AND lease_until <= @now AND ${notBusy}`;
  return `UPDATE outbox SET maybe_sent = maybe_sent OR status = 'sending', status = 'sending', attempts = attempts + 1,
       claimed_by = @owner, lease_until = @until
     WHERE id IN (SELECT id FROM (${[...due, expired].join('\n UNION ALL ')}) ORDER BY priority, next_attempt_at, id LIMIT @limit)
     RETURNING *`;
}

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** File path, or ':memory:' for tests that need no file. */
  path: string;
  /**
   * How a commit is made durable before it is reported. `offloaded` (the default): SQLite writes
   * the WAL without syncing (synchronous=NORMAL), and the store fdatasyncs the WAL file in libuv's
   * thread pool, one sync for every commit made since the last one began, before any of them is
   * answered: the same guarantee as synchronous=FULL (which syncs the WAL after each commit), off
   * the event loop. `inline`: synchronous=FULL, the sync inside COMMIT on the event loop. `none`:
   * no sync at all, for throwaway databases.
   */
  durability?: 'offloaded' | 'inline' | 'none';
  /** How long one attempt waits for a lock inside SQLite, blocking the event loop: keep it short. */
  busyTimeoutMs?: number;
  /**
   * How long writes wait in all for a lock another process holds, retrying without blocking the
   * event loop, before failing with StoreUnavailableError (503).
   */
  lockWaitMs?: number;
  /** WAL frames (pages) between checkpoints (CHECKPOINT_FRAMES); tests make it small. */
  checkpointFrames?: number;
  /** How long the group commit waits for a checkpoint, at most (CHECKPOINT_PAUSE_MS). */
  checkpointPauseMs?: number;
}

// SQLite result codes that describe the environment (locks, disk, I/O), not our data: worth a retry.
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL|INTERRUPT)/;

interface PendingWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What better-sqlite3 hands over: JSON as text, booleans as 0 and 1. */
const SQLITE: Engine = {
  json: (v) => JSON.parse(v as string),
  bool: (v) => v === 1,
  boolParam: (b) => (b ? 1 : 0),
  param: () => '?',
  oneOf: (expr) => `${expr} IN (SELECT value FROM json_each(?))`,
  listParam: (values) => JSON.stringify(values),
};
const { toIncident, toAlert, toEntry, toOutboxEntry, toState, unchanged } = rowMappers(SQLITE);
/** The on-call records' operations, with named parameters ($p1…): a statement may use one twice. */
const ONCALL = oncallRecords((n) => `$p${n}`);
const STATUS = statusRecords((n) => `$p${n}`);
/** The incident's INSERT and UPDATE, positional, made from INCIDENT_COLUMNS. */
const INCIDENT = incidentWrites(SQLITE);
const SQL = sharedSql(SQLITE);
const PEOPLE = peopleSql(SQLITE);
const MAINTENANCE = maintenanceSql(SQLITE);

/**
 * The embedded default store: SQLite in WAL mode through better-sqlite3.
 *
 * Writes are group-committed: the writes requested during one turn of the event loop run in one
 * transaction, and every caller's promise settles only after that transaction is committed and on
 * disk (the WAL synced: see `durability`). One write that fails on its own fails alone: the batch
 * is rolled back and run again with each write inside its own savepoint, so the others still commit
 * (savepoints only then: each one copies every page it touches first; docs/adr/0002-sqlite-group-commit.md).
 * A failed BEGIN, COMMIT or sync, or an error of the disk, fails them all. A burst of webhooks shares
 * one fsync instead of paying one each.
 */
export class SqliteStore implements IncidentStore {
  private readonly db: Database.Database;
  private readonly stmt;
  /** The sessions' and tokens' statements (people-rows.ts). */
  private readonly people;
  private readonly queue: PendingWrite[] = [];
  private readonly lockWaitMs: number;
  /** A batch is waiting for another process's lock; new writes join its next attempt. */
  private retrying = false;
  /** close() was called: no new writes. */
  private closing = false;
  /** Runs a batch in one transaction; throws (rolled back) if any write throws. */
  private readonly commitAll: (fns: (() => unknown)[]) => unknown[];
  /** Runs a batch in one transaction, each write in a savepoint: a throw undoes that write only. */
  private readonly commitEach: (fns: (() => unknown)[]) => Outcome[];
  /**
   * The run-time overrides in force from `from` until `until` (the next start or end), as read at
   * `version` of the database (see overridesAt).
   */
  private overrides: { version: number; from: number; until: number; rows: RuntimeOverride[]; checkedAt: number } | undefined;
  /** Every person's settings as read at `version` of the database (see allContactSettings). */
  private settings: { version: number; map: Map<string, PersonSettings>; checkedAt: number } | undefined;
  /** The on-call records' statements, by text. */
  private readonly oncallStatements = new Map<string, Database.Statement<unknown[], Record<string, unknown>>>();
  /** Syncs the WAL when durability is offloaded; undefined otherwise. */
  private readonly wal: WalSync | undefined;
  /** Checkpoints the WAL off the event loop (a file database); undefined in memory. */
  private readonly checkpointer: Checkpointer | undefined;
  /** Commits since the last checkpoint, and how many make the next one due. */
  private commitsSinceCheckpoint = 0;
  private checkpointEvery: number;
  private readonly checkpointFrames: number;
  private readonly checkpointPauseMs: number;
  /** The group commit waits for a checkpoint (writes queue, the event loop goes on). */
  private checkpointing = false;
  /** The worker runs a checkpoint (the commits may have stopped waiting for it). */
  private inCheckpoint = false;
  /** The WAL did not start over for a while: the next checkpoint is waited for to its end. */
  private walTooLong = false;
  /** listIncidents' statements, by text. */
  private readonly listStatements = new Map<string, Database.Statement<unknown[], IncidentRow>>();
  private readonly contactStatements = new Map<string, Database.Statement<unknown[]>>();
  /** insertRows' statements, by shape and row count. */
  private readonly rowsStatements = new Map<RowsInsert, Map<number, Database.Statement<unknown[]>>>();

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    const durability = options.path === ':memory:' ? 'none' : (options.durability ?? 'offloaded');
    this.db.pragma(`synchronous = ${durability === 'inline' ? 'FULL' : 'NORMAL'}`);
    this.wal = durability === 'offloaded' ? new WalSync(`${options.path}-wal`) : undefined;
    this.db.pragma('foreign_keys = ON');
    // SQLite's busy wait blocks the whole process; a short one here, and the rest is waited for
    // asynchronously in flush(), so /healthz and reads keep answering while another process holds a lock.
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10}`);
    this.lockWaitMs = options.lockWaitMs ?? 3000;
    this.checkpointFrames = options.checkpointFrames ?? CHECKPOINT_FRAMES;
    this.checkpointPauseMs = options.checkpointPauseMs ?? CHECKPOINT_PAUSE_MS;
    // Frames per commit unknown yet: a commit of a few webhooks writes about eight.
    this.checkpointEvery = Math.min(CHECKPOINT_FIRST_AFTER, Math.ceil(this.checkpointFrames / 8));
    if (options.path !== ':memory:') {
      // No automatic checkpoints inside COMMIT, on the event loop: checkpoint() runs them in a worker.
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Checkpointer(options.path);
    }
    this.migrate();
    const db = this.db;
    // A nested better-sqlite3 transaction is a savepoint: a throw undoes that one write only.
    const savepoint = db.transaction((fn: () => unknown) => fn());
    const each = db.transaction((fns: (() => unknown)[]) =>
      fns.map((fn): Outcome => {
        try {
          return { ok: true, value: savepoint(fn) };
        } catch (error) {
          // An error of the environment fails the batch, never this write alone. SQLite may have
          // rolled the whole transaction back itself (an I/O error): the writes after this one would
          // each commit on their own. Or it undid only this statement (a full disk in a multi-row
          // INSERT, which keeps a statement journal): the transaction goes on, but the disk is as
          // full for the writes after it.
          if (!db.inTransaction || isTransient(error)) throw error;
          return { ok: false, error };
        }
      }),
    );
    // better-sqlite3's transaction variants are plain functions, bound to their database already.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    this.commitEach = each.immediate;
    // A write's own error is wrapped, to be told apart from a failed BEGIN or COMMIT.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- see commitEach
    this.commitAll = db.transaction((fns: (() => unknown)[]) =>
      fns.map((fn) => {
        try {
          return fn();
        } catch (error) {
          throw new WriteFailed(error);
        }
      }),
    ).immediate;
    this.stmt = {
      active: db.prepare<[string], IncidentRow>(`SELECT * FROM incidents WHERE key = ? AND status <> 'resolved'`),
      lastResolved: db.prepare<[string], IncidentRow>(
        `SELECT * FROM incidents WHERE key = ? AND status = 'resolved' ORDER BY id DESC LIMIT 1`,
      ),
      byId: db.prepare<[number], IncidentRow>(`SELECT * FROM incidents WHERE id = ?`),
      byIds: db.prepare<[string], IncidentRow>(`SELECT * FROM incidents WHERE id IN (SELECT value FROM json_each(?))`),
      alerts: db.prepare<[number], AlertRow>(`SELECT * FROM alerts WHERE incident_id = ? ORDER BY starts_at, fingerprint`),
      alertsWindow: db.prepare<[number, number, number], AlertRow>(
        `SELECT * FROM alerts WHERE incident_id = ? ORDER BY starts_at, fingerprint LIMIT ? OFFSET ?`,
      ),
      alertCount: db.prepare<[number], { n: number }>(`SELECT count(*) AS n FROM alerts WHERE incident_id = ?`),
      timeline: db.prepare<[number], TimelineRow>(`SELECT at, kind, actor, data FROM timeline WHERE incident_id = ? ORDER BY at, id`),
      insertIncident: db.prepare<unknown[]>(INCIDENT.insert),
      updateIncident: db.prepare<unknown[]>(INCIDENT.update),
      claimPages: db.prepare<[{ now: number; busy: string; limit: number; owner: string; until: number }], OutboxRow>(claimSql()),
      renewLeases: db.prepare(`UPDATE outbox SET lease_until = ? WHERE status = 'sending' AND claimed_by = ?`),
      renewLeasesOf: db.prepare(
        `UPDATE outbox SET lease_until = ? WHERE status = 'sending' AND claimed_by = ? AND id IN (SELECT value FROM json_each(?))`,
      ),
      // One process uses the file, so every page left sending belongs to a process that is gone.
      recoverPages: db.prepare(
        `UPDATE outbox SET status = 'pending', maybe_sent = 1, claimed_by = NULL, lease_until = NULL WHERE status = 'sending'`,
      ),
      // An outcome is recorded only by the page's holder (its lease may have run out and another taken
      // it over): each UPDATE checks that itself and says which incident it was for, or nothing.
      pageSent: db.prepare<[string, number, string | null, number, string], { incident_id: number | null }>(
        `UPDATE outbox SET status = ?, sent_at = ?, external_ref = ?, last_error = NULL, claimed_by = NULL, lease_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_by = ? RETURNING incident_id`,
      ),
      // Once an outcome was unknown the page stays maybeSent: every later attempt looks it up first.
      pageRetry: db.prepare<[number, string, number, number, string], { incident_id: number | null }>(
        `UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, maybe_sent = max(maybe_sent, ?), claimed_by = NULL, lease_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_by = ? RETURNING incident_id`,
      ),
      pageRelease: db.prepare<[number, number, string], { incident_id: number | null }>(
        `UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = attempts - 1, claimed_by = NULL, lease_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_by = ? RETURNING incident_id`,
      ),
      pageFailed: db.prepare<[string, number, string], { incident_id: number | null }>(
        `UPDATE outbox SET status = 'failed', last_error = ?, claimed_by = NULL, lease_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_by = ? RETURNING incident_id`,
      ),
      paceOf: db.prepare<[string], { next_free: number }>(SQL.paceOf),
      setPace: db.prepare(
        `INSERT INTO slack_pace (target, next_free) VALUES (?, ?) ON CONFLICT (target) DO UPDATE SET next_free = excluded.next_free`,
      ),
      queueDepth: db.prepare<[], ChannelCount>(SQL.queueDepth),
      retrying: db.prepare<[], ChannelCount>(SQL.retrying),
      slackMessage: db.prepare<[number, string], { channel_id: string; ts: string }>(SQL.slackMessage),
      saveSlackMessage: db.prepare<[number, string, string, string]>(SQL.saveSlackMessage),
      escalationDue: db.prepare<[number, number], IncidentRow>(
        `SELECT * FROM incidents WHERE status = 'open' AND next_escalation_at IS NOT NULL AND next_escalation_at <= ? ORDER BY next_escalation_at LIMIT ?`,
      ),
      // sla_breached = 0, as the partial index incidents_overdue says it.
      overdue: db.prepare<[number, number], IncidentRow>(
        `SELECT * FROM incidents WHERE status = 'open' AND sla_breached = 0 AND respond_by <= ? ORDER BY respond_by LIMIT ?`,
      ),
      counts: db.prepare<[number], CountsRow>(SQL.counts),
      probe: db.prepare(`INSERT INTO probe (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1`),
      heartbeat: db.prepare<[string, string], HeartbeatRow>(SQL.heartbeat),
      beat: db.prepare<[string, string, number, number]>(SQL.beat),
      expectHeartbeat: db.prepare<[string, string, number]>(SQL.expectHeartbeat),
      heartbeats: db.prepare<[], HeartbeatRow>(SQL.heartbeats),
      addSilence: db.prepare<unknown[]>(SQL.addSilence),
      silencesOf: db.prepare<[number], SilenceRow>(SQL.silencesOf),
      silencesDue: db.prepare<[number], SilenceRow & { incident_status: string }>(SQL.silencesDue),
      claimSilenceNotice: db.prepare<[number, string], { silence_id: string }>(SQL.claimSilenceNotice),
      markSilenceExpired: db.prepare<[number, string], { silence_id: string }>(SQL.markSilenceExpired),
      // Changes when another connection (another process on this file) commits; not for this one's own commits.
      dataVersion: db.prepare<[], number>(`PRAGMA data_version`).pluck(),
      version: db.prepare<[number], number>(SQL.version).pluck(),
      bumpVersion: db.prepare<[number]>(SQL.bumpVersion),
      steps: db.prepare<[number], StepRow>(SQL.steps),
      stepUpsert: db.prepare<unknown[]>(SQL.stepUpsert),
      timelinePage: db.prepare<[number, number, number, number], Required<TimelineRow>>(SQL.timelinePage(false)),
      // SQLite numbers `?` as they appear: the kinds come before the limit.
      timelinePageOf: db.prepare<[number, number, number, string, number], Required<TimelineRow>>(SQL.timelinePage(true)),
      timelineHead: db.prepare<[number, number], TimelineRow>(SQL.timelineHead),
      timelineCount: db.prepare<[number], number>(SQL.timelineCount).pluck(),
      alertTotals: db.prepare<[number], { count: number; firing: number; earliest: number | null }>(SQL.alertTotals),
      alertNames: db.prepare<[number, number], AlertNameRow>(
        `SELECT coalesce(json_extract(labels, '$.alertname'), fingerprint) AS alertname, count(*) AS count, sum(status = 'firing') AS firing
         FROM alerts WHERE incident_id = ? GROUP BY 1 ORDER BY count DESC, alertname LIMIT ?`,
      ),
    };
    for (const statement of Object.values(this.stmt)) mendingArguments(statement);
    this.people = {
      createSession: db.prepare<unknown[]>(PEOPLE.createSession),
      session: db.prepare<[string, number], SessionRow>(PEOPLE.session),
      endSession: db.prepare<[string], { id_hash: string }>(PEOPLE.endSession),
      endSessionOf: db.prepare<[string, string], { id_hash: string }>(PEOPLE.endSessionOf),
      sessionsOf: db.prepare<[string, number], SessionRow>(PEOPLE.sessionsOf),
      endSessionsOf: db.prepare<[string], { id_hash: string }>(PEOPLE.endSessionsOf),
      sweepSessions: db.prepare<[number], { id_hash: string }>(PEOPLE.sweepSessions),
      createApiToken: db.prepare<unknown[], { id: number }>(PEOPLE.createApiToken),
      apiTokenByHash: db.prepare<[string], ApiTokenRow>(PEOPLE.apiTokenByHash),
      apiTokensOf: db.prepare<[string], ApiTokenRow>(PEOPLE.apiTokensOf),
      revokeApiTokenOf: db.prepare<[number, string], { id: number }>(PEOPLE.revokeApiTokenOf),
      revokeApiToken: db.prepare<[number], { id: number }>(PEOPLE.revokeApiToken),
      touchApiToken: db.prepare<[number, number]>(PEOPLE.touchApiToken),
    };
    for (const statement of Object.values(this.people)) mendingArguments(statement as Database.Statement<unknown[]>);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
      this.db
        .transaction(() => {
          const m = SQLITE_MIGRATIONS[v]!;
          if (typeof m === 'string') this.db.exec(m);
          else m(this.db);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  // No urgency here: what waits for the store goes in its next transaction, all of it together.
  applyNotification(n: GroupNotification, decide: NotificationDecider, _urgency?: Urgency): Promise<NotificationOutcome> {
    return this.run(() => {
      const key = incidentKey(n.receiver, n.groupKey);
      const active = this.stmt.active.get(key);
      const activeState = active ? this.state(active) : null;
      // Without an active incident the last resolved one is consulted: a firing alert it saw is a late
      // re-delivery, and a resolved one may settle an alert that was still firing when a person resolved it.
      const last = !active ? this.stmt.lastResolved.get(key) : undefined;
      const change = decide(activeState, last ? this.state(last) : null, n);
      if (change) {
        const committed = this.write(change);
        return { change: committed, incident: committed.incident };
      }
      // Nothing changed (a re-delivery): still say which incident the notification is about.
      return unchanged(active ?? last);
    });
  }

  updateIncident(id: number, decide: IncidentDecider) {
    return this.run(() => {
      const row = this.stmt.byId.get(id);
      if (!row) return undefined;
      const incident = toIncident(row);
      const change = decide(incident);
      return change ? { incident: change.incident, change: this.write(change) } : { incident, change: null };
    });
  }

  sweepOverdue(now: number, decide: IncidentDecider, limit = -1): Promise<CommittedChange[]> {
    return this.sweep(this.stmt.overdue, now, decide, limit);
  }

  getIncident(id: number, window?: AlertWindow): Promise<(IncidentWithDetails & { alertCount: number }) | undefined> {
    return this.read(() => {
      const row = this.stmt.byId.get(id);
      if (!row) return undefined;
      if (!window) return this.withLazyDetails(row);
      // Only the window's rows are decoded (labels and annotations are JSON text).
      const alerts = this.stmt.alertsWindow.all(id, window.limit, window.offset);
      return {
        ...toIncident(row),
        alertCount: this.stmt.alertCount.get(id)!.n,
        alerts: alerts.map(toAlert),
        timeline: this.stmt.timeline.all(id).map(toEntry),
      };
    });
  }

  getIncidents(ids: readonly number[]): Promise<Map<number, IncidentWithDetails>> {
    // One statement for a digest's 500 incidents (a statement each was 2.5% of the service's CPU in
    // a storm); alerts decoded when first used, as getIncident's.
    return this.read(() => {
      const out = new Map<number, IncidentWithDetails>();
      if (ids.length === 0) return out;
      for (const row of this.stmt.byIds.all(JSON.stringify(ids))) out.set(row.id, this.withLazyDetails(row));
      return out;
    });
  }

  /**
   * The incident of `row` with every alert and its timeline (the dispatcher, the report), read and
   * decoded when first used, not before. A digest of 500 pages names each incident by its title and
   * never looks at its alerts, which are costly to read and decode (docs/performance.md).
   */
  private withLazyDetails(row: IncidentRow): IncidentWithDetails & { alertCount: number } {
    const id = row.id;
    const incident = toIncident(row) as IncidentWithDetails & { alertCount: number };
    const alerts = lazy(incident, 'alerts', () => this.stmt.alerts.all(id).map(toAlert));
    lazy(incident, 'alertCount', () => alerts().length);
    lazy(incident, 'timeline', () => this.stmt.timeline.all(id).map(toEntry));
    return incident;
  }

  incidentHead(id: number, window: AlertWindow): Promise<IncidentHead | undefined> {
    return this.read(() => {
      const row = this.stmt.byId.get(id) as (IncidentRow & { version: number }) | undefined;
      if (!row) return undefined;
      return {
        ...(toIncident(row) as Incident & { id: number }),
        version: row.version,
        alertCount: this.stmt.alertCount.get(id)!.n,
        alerts: this.stmt.alertsWindow.all(id, window.limit, window.offset).map(toAlert),
      };
    });
  }

  incident(id: number): Promise<(Incident & { id: number; version: number }) | undefined> {
    return this.read(() => {
      const row = this.stmt.byId.get(id) as (IncidentRow & { version: number }) | undefined;
      return row ? { ...(toIncident(row) as Incident & { id: number }), version: row.version } : undefined;
    });
  }

  incidentVersion(id: number): Promise<number | undefined> {
    return this.read(() => this.stmt.version.get(id));
  }

  timelinePage(id: number, q: TimelineQuery): Promise<TimelinePage> {
    return this.read(() => {
      const at = q.before?.at ?? Number.MAX_SAFE_INTEGER;
      const before = q.before?.id ?? Number.MAX_SAFE_INTEGER;
      // One more than a page says whether an older one exists.
      const rows = q.kinds
        ? this.stmt.timelinePageOf.all(id, at, before, SQLITE.listParam(q.kinds) as string, q.limit + 1)
        : this.stmt.timelinePage.all(id, at, before, q.limit + 1);
      return timelinePageOf(rows, q.limit, toEntry);
    });
  }

  timelineHead(id: number, limit: number): Promise<TimelineEntry[]> {
    return this.read(() => this.stmt.timelineHead.all(id, limit).map(toEntry));
  }

  timelineCount(id: number): Promise<number> {
    return this.read(() => this.stmt.timelineCount.get(id)!);
  }

  checklistState(id: number): Promise<Map<string, StepStatus>> {
    return this.read(() => toSteps(this.stmt.steps.all(id)));
  }

  alertSummary(id: number, limit: number): Promise<AlertSummary> {
    return this.read(() => {
      const totals = this.stmt.alertTotals.get(id)!;
      return { count: totals.count, firing: totals.firing, earliestStart: totals.earliest, byName: this.stmt.alertNames.all(id, limit) };
    });
  }

  listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    return this.read(() => {
      const { sql, params } = incidentList(SQLITE, filter);
      // One statement for each combination of filters, prepared once.
      let statement = this.listStatements.get(sql);
      if (!statement) this.listStatements.set(sql, (statement = mendingArguments(this.db.prepare<unknown[], IncidentRow>(sql))));
      return statement.all(params).map(toIncident);
    });
  }

  counts(now: number): Promise<IncidentCounts> {
    return this.read(() => toCounts(this.stmt.counts.all(now)));
  }

  sweepEscalations(now: number, decide: IncidentDecider, limit = -1): Promise<CommittedChange[]> {
    return this.sweep(this.stmt.escalationDue, now, decide, limit);
  }

  /** Applies `decide` to each incident `due` selects (at most `limit`; -1 for all), in one transaction. */
  private sweep(
    due: Database.Statement<[number, number], IncidentRow>,
    now: number,
    decide: IncidentDecider,
    limit: number,
  ): Promise<CommittedChange[]> {
    return this.run(() => {
      const out: CommittedChange[] = [];
      for (const row of due.all(now, limit)) {
        const change = decide(toIncident(row));
        if (change) out.push(this.write(change));
      }
      return out;
    });
  }

  claimPages(now: number, limit: number, lease: Lease, busy: readonly string[] = []): Promise<OutboxEntry[]> {
    return this.run(() =>
      this.stmt.claimPages
        .all({ now, busy: wellFormedJson(busy), limit, owner: lease.owner, until: lease.until })
        .sort(claimOrder)
        .map(toOutboxEntry),
    );
  }

  renewLeases(owner: string, until: number, ids?: readonly number[]): Promise<number> {
    return this.run(
      () => (ids ? this.stmt.renewLeasesOf.run(until, owner, JSON.stringify(ids)) : this.stmt.renewLeases.run(until, owner)).changes,
    );
  }

  recoverInFlight(_now: number): Promise<number> {
    return this.run(() => this.stmt.recoverPages.run().changes);
  }

  completePage(id: number, outcome: PageOutcome, now: number, owner: string): Promise<boolean> {
    return this.run(() => {
      const page = this.recordOutcome(id, outcome, now, owner);
      // Its lease ran out and another dispatcher took it over: that one records the outcome.
      if (!page) return false;
      // A notice belongs to no incident: no timeline, no version to move.
      if (page.incident_id === null) return true;
      this.insertTimeline(page.incident_id, outcome.timeline ?? []);
      // A delivery may complete a checklist step (the status page's "Users notified").
      const steps = stepValues(page.incident_id, outcome.timeline ?? []);
      for (let n = 0; n < steps.length; n += 6) this.stmt.stepUpsert.run(...steps.slice(n, n + 6));
      this.stmt.bumpVersion.run(page.incident_id);
      return true;
    });
  }

  /** Writes the outcome if `owner` still holds the page; says which incident the page is for, or undefined. */
  private recordOutcome(id: number, outcome: PageOutcome, now: number, owner: string): { incident_id: number | null } | undefined {
    switch (outcome.status) {
      case 'sent':
      case 'folded':
        return this.stmt.pageSent.get(outcome.status, now, outcome.externalRef, id, owner);
      case 'retry':
        return this.stmt.pageRetry.get(outcome.nextAttemptAt, outcome.error, outcome.maybeSent ? 1 : 0, id, owner);
      case 'release':
        return this.stmt.pageRelease.get(outcome.nextAttemptAt, id, owner);
      default:
        return this.stmt.pageFailed.get(outcome.error, id, owner);
    }
  }

  paceChannel<T>(target: string, decide: PaceDecider<T>): Promise<T> {
    return this.run(() => {
      const { nextFree, result } = decide(this.stmt.paceOf.get(target)?.next_free ?? 0);
      this.stmt.setPace.run(target, nextFree);
      return result;
    });
  }

  slackMessage(incidentId: number, target: string): Promise<{ channelId: string; ts: string } | undefined> {
    return this.read(() => {
      const r = this.stmt.slackMessage.get(incidentId, target);
      return r ? { channelId: r.channel_id, ts: r.ts } : undefined;
    });
  }

  saveSlackMessage(incidentId: number, target: string, channelId: string, ts: string): Promise<void> {
    return this.run(() => {
      this.stmt.saveSlackMessage.run(incidentId, target, channelId, ts);
    });
  }

  queueDepth(): Promise<Record<OutboxEntry['channel'], number>> {
    return this.read(() => byChannel(this.stmt.queueDepth.all()));
  }

  overridesAt(at: number): Promise<RuntimeOverride[]> {
    return this.read(() => {
      // Every paging decision asks; the answer changes only at an override's start or end, with this
      // store's own writes (which drop the copy) or another connection's commit (which changes
      // data_version). Any statement outside a transaction, even that pragma, takes WAL read locks
      // (system calls), so another connection's commit is looked for at most once per OVERRIDES_RECHECK_MS.
      const cached = this.overrides;
      const now = performance.now();
      if (cached && at >= cached.from && at < cached.until) {
        if (now - cached.checkedAt < OVERRIDES_RECHECK_MS) return [...cached.rows];
        if (this.stmt.dataVersion.get() === cached.version) {
          cached.checkedAt = now;
          return [...cached.rows];
        }
      }
      const version = this.stmt.dataVersion.get() as number;
      const rows = this.oncall(ONCALL.overridesAt(at));
      const next = this.oncall(ONCALL.nextOverrideStart(at)) ?? Infinity;
      const until = Math.min(next, ...rows.map((o) => o.to));
      this.overrides = { version, from: at, until, rows, checkedAt: now };
      return [...rows];
    });
  }

  overridesBetween(from: number, to: number): Promise<RuntimeOverride[]> {
    return this.read(() => this.oncall(ONCALL.overridesBetween(from, to)));
  }
  listOverrides(page: OverridePage): Promise<RuntimeOverride[]> {
    return this.read(() => this.oncall(ONCALL.listOverrides(page)));
  }
  getOverride(id: number): Promise<RuntimeOverride | undefined> {
    return this.read(() => this.oncall(ONCALL.getOverride(id)));
  }
  addOverride(o: NewOverride, maxOpen: number, at: number): Promise<RuntimeOverride | undefined> {
    return this.oncallWrite(ONCALL.addOverride(o, maxOpen, at));
  }
  endOverride(id: number, at: number, by: string): Promise<RuntimeOverride | undefined> {
    return this.oncallWrite(ONCALL.endOverride(id, at, by));
  }
  deleteOverride(id: number, by: string, at: number): Promise<boolean> {
    return this.oncallWrite(ONCALL.deleteOverride(id, by, at));
  }
  voidOverrides(keep: readonly string[], at: number, reason: string): Promise<RuntimeOverride[]> {
    return this.oncallWrite(ONCALL.voidOverrides(keep, at, reason));
  }
  oncallLog(q: { team?: string | null; limit: number }): Promise<OncallLogEntry[]> {
    return this.read(() => this.oncall(ONCALL.oncallLog(q)));
  }
  addOncallRequest(r: Omit<OncallRequest, 'id' | 'status' | 'decidedAt' | 'decidedBy'>, notices: NewNotice[] = []): Promise<OncallRequest> {
    return this.oncallWrite(ONCALL.addOncallRequest(r, notices));
  }
  getOncallRequest(id: number): Promise<OncallRequest | undefined> {
    return this.read(() => this.oncall(ONCALL.getOncallRequest(id)));
  }
  pendingOncallRequests(contact: string): Promise<OncallRequest[]> {
    return this.read(() => this.oncall(ONCALL.pendingOncallRequests(contact)));
  }
  decideOncallRequest(id: number, d: RequestDecision): Promise<{ request: OncallRequest; overrides: RuntimeOverride[] } | undefined> {
    return this.oncallWrite(ONCALL.decideOncallRequest(id, d));
  }
  addCalendarFeed(f: NewCalendarFeed): Promise<CalendarFeed> {
    return this.oncallWrite(ONCALL.addCalendarFeed(f));
  }
  calendarFeedByHash(hash: string): Promise<CalendarFeed | undefined> {
    return this.read(() => this.oncall(ONCALL.calendarFeedByHash(hash)));
  }
  calendarFeeds(createdBy: string): Promise<CalendarFeed[]> {
    return this.read(() => this.oncall(ONCALL.calendarFeeds(createdBy)));
  }
  claimHandoff(h: HandoffClaim, notices: NewNotice[]): Promise<boolean> {
    return this.oncallWrite(ONCALL.claimHandoff(h, notices));
  }
  revokeCalendarFeed(id: number, createdBy: string, at: number): Promise<boolean> {
    return this.oncallWrite(ONCALL.revokeCalendarFeed(id, createdBy, at));
  }

  /** Runs an on-call operation's statements here and now (inside a write of the group commit, or as a read). */
  private oncall<T>(op: Op<T>): T {
    return driveSync(op, ({ sql, params }) => {
      let statement = this.oncallStatements.get(sql);
      if (!statement) {
        statement = mendingArguments(this.db.prepare<unknown[], Record<string, unknown>>(sql));
        this.oncallStatements.set(sql, statement);
      }
      const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
      if (statement.reader) return statement.all(named);
      statement.run(named);
      return [];
    });
  }

  /** An on-call operation that writes: one write of the group commit; the overrides' copy is dropped. */
  private oncallWrite<T>(op: Op<T>): Promise<T> {
    return this.run(() => {
      this.overrides = undefined;
      return this.oncall(op);
    });
  }

  statusUpdates(since: number, limit: number): Promise<StatusUpdateRecord[]> {
    return this.read(() => this.oncall(STATUS.statusUpdates(since, limit)));
  }
  subscribe(s: NewSubscription): Promise<SubscribeOutcome> {
    return this.oncallWrite(STATUS.subscribe(s));
  }
  sweepSubscribeAttempts(before: number): Promise<number> {
    return this.oncallWrite(STATUS.sweepSubscribeAttempts(before));
  }
  confirmSubscription(token: string, now: number): Promise<boolean> {
    return this.oncallWrite(STATUS.confirmSubscription(token, now));
  }
  unsubscribe(token: string): Promise<boolean> {
    return this.oncallWrite(STATUS.unsubscribe(token));
  }
  subscriber(id: number): Promise<StatusSubscriber | undefined> {
    return this.read(() => this.oncall(STATUS.subscriber(id)));
  }
  confirmedSubscribers(): Promise<{ id: number; components: string[] | null }[]> {
    return this.read(() => this.oncall(STATUS.confirmedSubscribers()));
  }
  listSubscribers(): Promise<StatusSubscriber[]> {
    return this.read(() => this.oncall(STATUS.listSubscribers()));
  }
  deleteSubscriber(email: string): Promise<boolean> {
    return this.oncallWrite(STATUS.deleteSubscriber(email));
  }
  sweepUnconfirmed(before: number): Promise<number> {
    return this.oncallWrite(STATUS.sweepUnconfirmed(before));
  }

  beat(kind: HeartbeatKind, name: string, at: number, timeoutMs: number): Promise<number | undefined> {
    return this.run(() => {
      const before = this.stmt.heartbeat.get(kind, name);
      this.stmt.beat.run(kind, name, at, at + timeoutMs);
      return before?.deadline;
    });
  }

  expectHeartbeats(expected: readonly { kind: HeartbeatKind; name: string; deadline: number }[]): Promise<void> {
    return this.run(() => {
      for (const e of expected) this.stmt.expectHeartbeat.run(e.kind, e.name, e.deadline);
    });
  }

  addSilence(s: Omit<SilenceRecord, 'notifiedAt' | 'expiredAt'>): Promise<void> {
    return this.run(() => {
      this.stmt.addSilence.run(silenceValues(SQLITE, s));
    });
  }

  silencesOf(incidentId: number): Promise<SilenceRecord[]> {
    return this.read(() => this.stmt.silencesOf.all(incidentId).map((r) => toSilence(SQLITE, r)));
  }

  silencesDue(noticeBy: number): Promise<(SilenceRecord & { incidentResolved: boolean })[]> {
    return this.read(() =>
      this.stmt.silencesDue.all(noticeBy).map((r) => ({ ...toSilence(SQLITE, r), incidentResolved: r.incident_status === 'resolved' })),
    );
  }

  claimSilenceNotice(id: string, at: number): Promise<boolean> {
    return this.run(() => this.stmt.claimSilenceNotice.get(at, id) !== undefined);
  }

  markSilenceExpired(id: string, at: number): Promise<boolean> {
    return this.run(() => this.stmt.markSilenceExpired.get(at, id) !== undefined);
  }

  addMaintenanceWindow(w: NewMaintenanceWindow): Promise<MaintenanceWindow> {
    return this.run(() =>
      toMaintenanceWindow(SQLITE, this.db.prepare<unknown[], MaintenanceRow>(MAINTENANCE.add).get(maintenanceValues(SQLITE, w))!),
    );
  }

  getMaintenanceWindow(id: number): Promise<MaintenanceWindow | undefined> {
    return this.read(() => {
      const row = this.db.prepare<[number], MaintenanceRow>(MAINTENANCE.byId).get(id);
      return row && toMaintenanceWindow(SQLITE, row);
    });
  }

  maintenanceWindows(q: { endingAfter: number; limit: number; publicOnly?: boolean }): Promise<MaintenanceWindow[]> {
    return this.read(() =>
      this.db
        .prepare<[number, number], MaintenanceRow>(q.publicOnly ? MAINTENANCE.listPublic : MAINTENANCE.list)
        .all(q.endingAfter, q.limit)
        .map((r) => toMaintenanceWindow(SQLITE, r)),
    );
  }

  cancelMaintenanceWindow(id: number, by: string, at: number): Promise<MaintenanceWindow | undefined> {
    return this.run(() => {
      const row = this.db.prepare<[number, string, number], MaintenanceRow>(MAINTENANCE.cancel).get(at, by, id);
      return row && toMaintenanceWindow(SQLITE, row);
    });
  }

  listHeartbeats(): Promise<HeartbeatRecord[]> {
    return this.read(() => this.stmt.heartbeats.all().map(toHeartbeat));
  }

  createSession(session: SessionRecord): Promise<void> {
    return this.run(() => {
      this.people.createSession.run(sessionValues(session));
    });
  }

  getSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    return this.read(() => {
      const r = this.people.session.get(idHash, now);
      return r ? toSession(r) : undefined;
    });
  }

  endSession(idHash: string, personKey?: string): Promise<boolean> {
    return this.run(() =>
      personKey === undefined ? this.people.endSession.all(idHash).length > 0 : this.people.endSessionOf.all(idHash, personKey).length > 0,
    );
  }

  listSessions(personKey: string, now: number): Promise<SessionRecord[]> {
    return this.read(() => this.people.sessionsOf.all(personKey, now).map(toSession));
  }

  endSessionsOf(personKey: string): Promise<number> {
    return this.run(() => this.people.endSessionsOf.all(personKey).length);
  }

  sweepSessions(now: number): Promise<number> {
    return this.run(() => this.people.sweepSessions.all(now).length);
  }

  createApiToken(token: Omit<ApiTokenRecord, 'id' | 'lastUsedAt'>): Promise<ApiTokenRecord> {
    return this.run(() => ({ ...token, id: this.people.createApiToken.get(apiTokenValues(token))!.id, lastUsedAt: null }));
  }

  apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.read(() => {
      const r = this.people.apiTokenByHash.get(hash);
      return r ? toApiToken(r) : undefined;
    });
  }

  listApiTokens(personKey: string): Promise<ApiTokenRecord[]> {
    return this.read(() => this.people.apiTokensOf.all(personKey).map(toApiToken));
  }

  revokeApiToken(id: number, personKey?: string): Promise<boolean> {
    return this.run(() =>
      personKey === undefined ? this.people.revokeApiToken.all(id).length > 0 : this.people.revokeApiTokenOf.all(id, personKey).length > 0,
    );
  }

  touchApiToken(id: number, at: number): Promise<void> {
    return this.run(() => {
      this.people.touchApiToken.run(at, id);
    });
  }

  retryingPages(): Promise<Record<OutboxEntry['channel'], number>> {
    return this.read(() => byChannel(this.stmt.retrying.all()));
  }

  savePhoneMessage(m: PhoneMessage): Promise<void> {
    return this.run(() => {
      this.contactStmt('savePhoneMessage').run(phoneMessageValues(m));
    });
  }

  phoneMessage(sid: string): Promise<PhoneMessage | undefined> {
    return this.read(() => {
      const r = this.contactStmt('phoneMessage').get(sid) as PhoneMessageRow | undefined;
      return r ? toPhoneMessage(r) : undefined;
    });
  }

  setPhoneStatus(sid: string, status: string, at: number): Promise<void> {
    return this.run(() => {
      this.contactStmt('setPhoneStatus').run(status, at, sid, at);
    });
  }

  phoneMessagesTo(channel: string, to: string, since: number): Promise<PhoneMessage[]> {
    return this.read(() => (this.contactStmt('phoneMessagesTo').all(channel, to, since) as PhoneMessageRow[]).map(toPhoneMessage));
  }

  contactSettings(contact: string): Promise<PersonSettings | undefined> {
    return this.read(() => {
      const r = this.contactStmt('settingsOf').get(contact) as ContactSettingsRow | undefined;
      return r ? toSettings(r) : undefined;
    });
  }

  allContactSettings(): Promise<Map<string, PersonSettings>> {
    return this.read(() => {
      // Every paging decision asks (every webhook): a copy, kept as the overrides' is (overridesAt).
      // A read of even an empty table took WAL read locks: 2-3% of a webhook's CPU.
      const cached = this.settings;
      const now = performance.now();
      if (cached) {
        if (now - cached.checkedAt < OVERRIDES_RECHECK_MS) return new Map(cached.map);
        if (this.stmt.dataVersion.get() === cached.version) {
          cached.checkedAt = now;
          return new Map(cached.map);
        }
      }
      const version = this.stmt.dataVersion.get() as number;
      const map = new Map((this.contactStmt('allSettings').all() as ContactSettingsRow[]).map((r) => [r.contact, toSettings(r)]));
      this.settings = { version, map, checkedAt: now };
      return new Map(map);
    });
  }

  updateContactSettings<T>(contact: string, change: (s: PersonSettings) => { settings?: PersonSettings; result: T }): Promise<T> {
    // Writes here are serialised in one transaction each: the read and the write cannot be split.
    return this.run(() => {
      this.settings = undefined;
      const r = this.contactStmt('settingsOf').get(contact) as ContactSettingsRow | undefined;
      const { settings, result } = change(r ? toSettings(r) : NO_SETTINGS);
      if (settings) {
        if (r) this.contactStmt('updateSettings').run(settingsText(settings), contact, r.version);
        else this.contactStmt('insertSettings').run(contact, settingsText(settings));
      }
      return result;
    });
  }

  /** The contact statements, prepared at first use. */
  private contactStmt(name: keyof ReturnType<typeof contactSql>): Database.Statement<unknown[]> {
    let stmt = this.contactStatements.get(name);
    if (!stmt) this.contactStatements.set(name, (stmt = this.db.prepare(CONTACT_SQL[name])));
    return stmt;
  }

  /** A real write through the group commit, so readiness says whether a write would succeed now. */
  ping(): Promise<void> {
    return this.run(() => {
      this.stmt.probe.run();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.checkpointer?.close();
    this.checkpointing = false;
    if (this.queue.length > 0 && !this.retrying) this.flush();
    await this.wal?.close();
    if (this.db.open) this.db.close();
  }

  private insertTimeline(incidentId: number, entries: readonly TimelineEntry[]): void {
    const values: unknown[] = [];
    for (const { at, kind, actor, ...fields } of entries) values.push(incidentId, at, kind, actor, wellFormedJson(fields));
    this.insertRows(TIMELINE_ROWS, values);
  }

  private state(row: IncidentRow): IncidentState {
    return toState(row, this.stmt.alerts.all(row.id));
  }

  private write(change: IncidentChange): CommittedChange {
    let id = change.incident.id;
    if (id === null) id = Number(this.stmt.insertIncident.run(INCIDENT.insertValues(change.incident)).lastInsertRowid);
    else this.stmt.updateIncident.run(INCIDENT.updateValues(change.incident, id));
    const alerts: unknown[] = [];
    for (const a of change.alerts) {
      alerts.push(
        id,
        a.fingerprint,
        a.status,
        wellFormedJson(a.labels),
        wellFormedJson(a.annotations),
        a.startsAt,
        a.endsAt,
        a.generatorUrl,
        a.severity,
        a.rule,
        linksJson(a),
      );
    }
    this.insertRows(ALERT_ROWS, alerts);
    this.insertTimeline(id, change.timeline);
    const steps = stepValues(id, change.timeline);
    for (let n = 0; n < steps.length; n += 6) this.stmt.stepUpsert.run(...steps.slice(n, n + 6));
    const pages: unknown[] = [];
    for (const p of change.pages ?? []) {
      pages.push(
        id,
        p.channel,
        p.target,
        p.event,
        p.severity,
        severityRank(p.severity),
        wellFormedJson(pagePayload(p)),
        pageStatus(p),
        p.at,
        p.at,
        p.notSent ?? null,
      );
    }
    this.insertRows(PAGE_ROWS, pages);
    return { ...change, incident: { ...change.incident, id } };
  }

  /**
   * Inserts the rows in `values` (`shape.width` values each, positional: binding by name costs more
   * per row), up to ROWS_PER_STATEMENT rows a statement: one statement per row costs about twice
   * as much a row (measured in docs/adr/0002-sqlite-group-commit.md).
   */
  private insertRows(shape: RowsInsert, values: unknown[]): void {
    const rows = values.length / shape.width;
    for (let from = 0; from < rows; from += ROWS_PER_STATEMENT) {
      const count = Math.min(ROWS_PER_STATEMENT, rows - from);
      this.rowsStatement(shape, count).run(count === rows ? values : values.slice(from * shape.width, (from + count) * shape.width));
    }
  }

  /** The statement for `count` rows of `shape`, prepared once. */
  private rowsStatement(shape: RowsInsert, count: number): Database.Statement<unknown[]> {
    let byCount = this.rowsStatements.get(shape);
    if (!byCount) this.rowsStatements.set(shape, (byCount = new Map()));
    let statement = byCount.get(count);
    if (!statement) {
      const row = `(${Array.from({ length: shape.width }, () => '?').join(', ')})`;
      statement = mendingArguments(
        this.db.prepare<unknown[]>(`${shape.head} VALUES ${Array.from({ length: count }, () => row).join(', ')} ${shape.tail}`),
      );
      byCount.set(count, statement);
    }
    return statement;
  }

  /** Queues `fn` for the next group commit; settles once that commit is durable (or failed). */
  private run<T>(fn: () => T): Promise<T> {
    if (this.closing) return Promise.reject(new StoreUnavailableError('SQLite store is closed'));
    if (this.wal?.failure) {
      return Promise.reject(
        new StoreUnavailableError(
          `SQLite store unavailable until restarted: a WAL sync failed (${(this.wal.failure as NodeJS.ErrnoException).code ?? this.wal.failure.message})`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0 && !this.retrying && !this.checkpointing) setImmediate(() => this.flush());
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private flush(): void {
    this.commit(this.queue.splice(0), performance.now());
  }

  private commit(batch: PendingWrite[], since: number): void {
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    const settle = (outcomes: Outcome[]) =>
      outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(translate(o.error))));
    try {
      outcomes = this.commitBatchOf(batch.map((w) => w.fn));
    } catch (err) {
      // Nothing of this batch is durable. Another process holding the lock may let go soon: try
      // again shortly (the writes re-run their decisions on the state they then find), together
      // with whatever was queued meanwhile, until lockWaitMs has passed.
      if (isLocked(err) && this.db.open && performance.now() - since < this.lockWaitMs) {
        this.retrying = true;
        setTimeout(() => {
          this.retrying = false;
          this.commit([...batch, ...this.queue.splice(0)], since);
        }, LOCK_RETRY_MS);
        return;
      }
      const failure = translate(err);
      for (const w of batch) w.reject(failure);
      return;
    }
    this.afterCommit();
    if (!this.wal) {
      settle(outcomes);
      return;
    }
    // Committed, but reported only once the WAL holding the commit is on disk.
    this.wal.durable().then(
      () => settle(outcomes),
      (err: unknown) => {
        const failure = new StoreUnavailableError(
          `SQLite store unavailable: the WAL could not be synced (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          { cause: err },
        );
        for (const w of batch) w.reject(failure);
      },
    );
  }

  /**
   * Every CHECKPOINT_FRAMES frames or so of WAL, a checkpoint in the worker, with the group commit
   * paused while it runs (writes queue, the event loop goes on): SQLite starts the WAL over only
   * when a writer finds it wholly checkpointed, which never happens while commits go on during the
   * checkpoint (the WAL grew to 176 MB in 15 s). The pause lasts CHECKPOINT_PAUSE_MS at most, so a
   * slow disk's sync never holds webhooks back long; the WAL then starts over at a later one, and
   * once it holds four times CHECKPOINT_FRAMES the pause lasts until the checkpoint ends.
   * Automatic checkpoints ran inside COMMIT on the event loop, with their syncs: docs/performance.md.
   */
  private afterCommit(): void {
    const checkpointer = this.checkpointer;
    if (!checkpointer || ++this.commitsSinceCheckpoint < this.checkpointEvery || this.closing || this.inCheckpoint) return;
    this.checkpointing = true;
    this.inCheckpoint = true;
    const commits = this.commitsSinceCheckpoint;
    const resume = () => {
      clearTimeout(timer);
      if (!this.checkpointing) return;
      this.checkpointing = false;
      if (this.queue.length > 0 && !this.retrying && !this.closing) this.flush();
    };
    const timer = this.walTooLong ? undefined : setTimeout(resume, this.checkpointPauseMs);
    void checkpointer.checkpoint().then((result) => {
      this.inCheckpoint = false;
      if (result === 'unavailable') {
        // No worker (it failed to start, or died): SQLite's own checkpoints again.
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.checkpointFrames}`);
        this.checkpointEvery = Infinity;
      } else if (result) {
        this.commitsSinceCheckpoint = 0;
        // The WAL's frames per commit vary with what is written: the next checkpoint is due after
        // about CHECKPOINT_FRAMES more (counted from a WAL that started over: the log's frames were
        // all written since the last one when it did).
        const perCommit = Math.max(1, Math.min(result.log, this.checkpointFrames * 4) / commits);
        this.checkpointEvery = Math.max(1, Math.round(this.checkpointFrames / perCommit));
        this.walTooLong = result.log > this.checkpointFrames * 4;
      }
      // A failed checkpoint (another process's lock) is tried again after the next commit.
      resume();
    });
  }

  /**
   * All writes in one transaction without savepoints. If one of them throws an error of its own (a
   * constraint, a conflict, a bug), the batch was rolled back and runs again with savepoints, its
   * writes re-deciding on the state they find (as after a lock wait), so only the failing one fails.
   * A failed BEGIN or COMMIT, a lock, or an error of the environment (disk, I/O) fails the batch as
   * a whole: the caller waits out a lock or answers 503.
   */
  private commitBatchOf(fns: (() => unknown)[]): Outcome[] {
    try {
      return this.commitAll(fns).map((value) => ({ ok: true, value }));
    } catch (err) {
      if (!(err instanceof WriteFailed)) throw err;
      if (isLocked(err.error) || isTransient(err.error) || !this.db.open) throw err.error;
      return this.commitEach(fns);
    }
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- translate passes on what was thrown
      return Promise.reject(translate(err));
    }
  }
}

const LOCK_RETRY_MS = 25;
/**
 * `statement`, its arguments mended before they are bound (src/well-formed.ts): SQLite would keep a
 * NUL or a lone surrogate that PostgreSQL refuses, and the two stores must hold the same text.
 */
function mendingArguments<S extends Database.Statement<never[], unknown>>(statement: S): S {
  const s = statement as unknown as Record<'run' | 'get' | 'all' | 'iterate', (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = s[method].bind(statement);
    s[method] = (...args: unknown[]) => original(...wellFormedDeep(args));
  }
  return statement;
}

/** 50 rows of at most 11 values: well under SQLite's 32,766 parameters, and at most 50 statements prepared a shape. */
const ROWS_PER_STATEMENT = 50;

/** A multi-row INSERT: `head VALUES (?, …), … tail`, `width` values a row. */
interface RowsInsert {
  head: string;
  width: number;
  tail: string;
}

// write() pushes the values of each row in the order of these heads' columns.
const ALERT_ROWS: RowsInsert = { head: ALERT_INSERT, width: 1 + ALERT_COLUMNS.length, tail: ALERT_UPSERT };
const TIMELINE_ROWS: RowsInsert = { head: TIMELINE_INSERT, width: 5, tail: '' };
const PAGE_ROWS: RowsInsert = { head: OUTBOX_INSERT, width: 11, tail: '' };
const CONTACT_SQL = contactSql(SQLITE);
/** How stale the overrides may be after another process (not this store) changed them. */
const OVERRIDES_RECHECK_MS = 1000;

/** WAL frames (pages) between checkpoints: 16 MiB of 4 KiB pages, so a page written many times is copied once. */
const CHECKPOINT_FRAMES = 4000;
/** How long the group commit waits for a checkpoint, at most (unless the WAL has grown long). */
const CHECKPOINT_PAUSE_MS = 50;
/** The first checkpoint, before the WAL's frames per commit are known. */
const CHECKPOINT_FIRST_AFTER = 200;

// The worker's own code: a connection of its own to the file, running PASSIVE checkpoints when told.
// Plain JavaScript (eval), so it runs the same from src under tsx and from dist.
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 100');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ ok: db.pragma('wal_checkpoint(PASSIVE)')[0] });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
});
`;

/**
 * WAL checkpoints in a worker thread with its own connection, so that copying the WAL into the
 * database file and syncing both happen off the event loop. Started at the first checkpoint.
 */
class Checkpointer {
  private worker: Worker | undefined;
  private failed = false;
  private pending: ((result: { log: number } | undefined | 'unavailable') => void) | undefined;

  constructor(private readonly path: string) {}

  /** The WAL's frames when a checkpoint ended; undefined when it failed; 'unavailable' with no worker. */
  checkpoint(): Promise<{ log: number } | undefined | 'unavailable'> {
    if (this.failed) return Promise.resolve('unavailable');
    const worker = this.start();
    return new Promise((resolve) => {
      this.pending = resolve;
      worker.postMessage('checkpoint');
    });
  }

  /** Waits for a checkpoint under way, then closes the worker's connection. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.failed = true;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Unreferenced, it would not keep the process alive until it has closed.
    worker.ref();
    worker.postMessage('close');
    await exited;
    this.settle('unavailable');
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(CHECKPOINT_WORKER, {
      eval: true,
      // Plain JavaScript: no loader (tsx) in the worker.
      execArgv: [],
      workerData: { path: this.path, module: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    worker.unref();
    worker.on('message', (m: { ok?: { busy: number; log: number; checkpointed: number }; error?: string }) =>
      this.settle(m.ok && m.ok.busy === 0 ? { log: m.ok.log } : undefined),
    );
    const fail = () => {
      this.failed = true;
      this.worker = undefined;
      this.settle('unavailable');
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  private settle(result: { log: number } | undefined | 'unavailable'): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(result);
  }
}

/**
 * fdatasync of the WAL file in libuv's thread pool, shared: a caller's promise resolves after a
 * sync that began after the call, so every commit before the call is on disk. Commits arriving
 * while a sync runs share the next one.
 */
class WalSync {
  private handle: FileHandle | undefined;
  private inflight: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** A sync that failed: nothing can be reported durable any more (see sync()). */
  failure: Error | undefined;

  constructor(private readonly path: string) {}

  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.inflight) {
      this.inflight = this.sync().finally(() => (this.inflight = undefined));
      return this.inflight;
    }
    this.next ??= this.inflight.then(
      () => {
        this.next = undefined;
        return this.durable();
      },
      () => {
        this.next = undefined;
        return this.durable();
      },
    );
    return this.next;
  }

  /** Waits for every sync asked for (their commits are answered after them), then lets go of the file. */
  async close(): Promise<void> {
    while (this.inflight || this.next) await (this.next ?? this.inflight)!.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }

  private async sync(): Promise<void> {
    if (!this.handle) {
      this.handle = await open(this.path, 'r+');
      // The file's directory entry must be on disk too, the first time.
      const dir = await open(dirname(this.path), 'r');
      await dir.sync().finally(() => dir.close());
    }
    try {
      await this.handle.datasync();
    } catch (err) {
      // After a failed fsync the kernel may have dropped the pages it could not write, and a later
      // sync would not report it: from now on no commit can be called durable. The store stays
      // unavailable (webhooks 503, readiness fails) until the process is restarted and SQLite
      // recovers from what is really on disk.
      this.failure = err as Error;
      throw err;
    }
  }
}

/** An error thrown by one write of a batch (not by BEGIN or COMMIT). */
class WriteFailed {
  constructor(readonly error: unknown) {}
}

/** The error's code, if it has one: a write may throw anything, even undefined. */
function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null | undefined)?.code;
}

function isTransient(err: unknown): boolean {
  const code = codeOf(err);
  return typeof code === 'string' && TRANSIENT.test(code);
}

function isLocked(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}

function translate(err: unknown): unknown {
  const code = codeOf(err);
  if (isTransient(err)) {
    return new StoreUnavailableError(`SQLite store unavailable (${code}): ${(err as Error).message}`, { cause: err });
  }
  if (err instanceof TypeError && /database connection is not open/.test(err.message)) {
    return new StoreUnavailableError('SQLite store is closed', { cause: err });
  }
  return err;
}
