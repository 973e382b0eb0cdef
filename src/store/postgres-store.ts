import { statusRecords } from './status-records.js';
import type { NewSubscription, StatusSubscriber, SubscribeOutcome, Urgency } from './store.js';
import { takeBatch, type Waiting } from './urgent-first.js';
import type { StatusUpdateRecord } from '../incidents/status-page.js';
import { apiTokenValues, peopleSql, sessionValues, toApiToken, toSession, type ApiTokenRow, type SessionRow } from './people-rows.js';
import { wellFormedDeep, wellFormedJson, wellFormedText } from '../well-formed.js';
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
import { NO_SETTINGS, type PersonSettings } from '../paging/contact-methods.js';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { parse as parseConnectionString, toClientConfig } from 'pg-connection-string';
import { SEVERITIES, severityRank } from '../classify/severity.js';
import { ConfigError } from '../config/load-config.js';
import type { GroupNotification, Incident, IncidentChange, IncidentState, IncidentWithDetails } from '../incidents/model.js';
import { incidentKey } from '../incidents/model.js';
import { targetKey, type NewNotice, type OutboxEntry, type PageOutcome } from '../outbox/page.js';
import type { TimelineEntry } from '../incidents/timeline.js';
import type { NewOverride, OncallLogEntry, OncallRequest, RuntimeOverride } from '../paging/oncall.js';
import { driveAsync, oncallRecords, type Op } from './oncall-records.js';
import { PG_MIGRATIONS } from './postgres-migrations.js';
import {
  INCIDENT_COLUMNS,
  ALERT_COLUMNS,
  ALERT_INSERT,
  ALERT_UPSERT,
  OUTBOX_INSERT,
  TIMELINE_INSERT,
  byChannel,
  claimOrder,
  incidentList,
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
  timelinePageOf,
  toSteps,
  lazy,
} from './rows.js';
import { maintenanceSql, maintenanceValues, toMaintenanceWindow, type MaintenanceRow } from './maintenance-rows.js';
import type { StepStatus } from '../incidents/checklist.js';
import type { HeartbeatKind } from '../incidents/heartbeat.js';
import {
  StoreUnavailableError,
  type AlertWindow,
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
  type PageTarget,
} from './store.js';

/** Every severity's rank (the outbox's priority column), most severe first: the claim reads each in turn. */
const SEVERITY_RANKS = SEVERITIES.map(severityRank);

/** Pool settings of the PostgreSQL store; each has a default (DATABASE_POOL_SIZE and friends in docs/configuration.md). */
export interface PostgresPoolSettings {
  /** Connections per replica (default 10). */
  poolSize?: number | undefined;
  /** How long opening a connection, or waiting for a free one, may take (default 5 s). */
  connectTimeoutMs?: number | undefined;
  /** How long one statement may run on the server (default 5 s); the client gives up a second later. */
  statementTimeoutMs?: number | undefined;
}

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions extends PostgresPoolSettings {
  /** postgres:// or postgresql:// URL; sslmode and sslrootcert are read as libpq reads them. */
  url: string;
  /** Keep the tables in this schema (created if missing) instead of the search_path's first; tests use one per case. */
  schema?: string | undefined;
  /** How long a copy of the contact settings and overrides in force may be used at most (FACTS_MAX_AGE_MS); tests lengthen it. */
  factsMaxAgeMs?: number | undefined;
}

export const PG_DEFAULTS = { poolSize: 10, connectTimeoutMs: 5_000, statementTimeoutMs: 5_000 } as const;

/** The schema is newer than this code: a newer release migrated it, and running older code on it could corrupt it. */
export class SchemaTooNewError extends ConfigError {
  constructor(found: number, known: number) {
    super(
      `the PostgreSQL schema is at version ${found}, but this alert-triage knows versions up to ${known}: ` +
        'a newer release has migrated this database; run that release (or a newer one), never an older one, against it',
    );
    this.name = 'SchemaTooNewError';
  }
}

// The single-bigint advisory key space: one lock for migrations. Groups use the two-int4 key
// space (which never overlaps it) under GROUP_LOCK_NAMESPACE.
const MIGRATION_LOCK = 4_715_360_192_337_001n;
const GROUP_LOCK_NAMESPACE = 4715;
const INT8_OID = 20;
/** NOTIFY channel of committed pages: every replica's dispatcher LISTENs on it. */
const PAGES_CHANNEL = 'alert_triage_pages';
/** NOTIFY channel of changes to what every decision reads (contact settings, on-call overrides): replicas drop their copies. */
const FACTS_CHANNEL = 'alert_triage_facts';
/**
 * How long a replica uses its copy of the contact settings and of the overrides in force, at most.
 * Every webhook's decision reads both: one statement each per webhook was a third of PostgreSQL's
 * statements in a storm (docs/performance.md). A write on any replica drops every copy at once
 * (NOTIFY); this bounds how stale a copy can be when a notification is missed or a row is written
 * by hand, as OVERRIDES_RECHECK_MS does on SQLite.
 */
const FACTS_MAX_AGE_MS = 1_000;
// A deadlock or serialization failure says nothing about the data: run the transaction again.
const MAX_ATTEMPTS = 8;
const RETRYABLE = new Set(['40001', '40P01']);
// SQLSTATEs about the server or the link, not our data: a retry (Alertmanager's, after a 503) may cure them.
// 08 connection, 53 resources, 57P0x shutdown, 57014 statement timeout, 55P03 lock timeout,
// 25006 read-only (a hot standby after a failover), 58 system I/O.
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-4]|57014|55P03|25006|40001|40P01|58)/;
const TRANSIENT_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Cannot use a pool after calling end/;

/**
 * The pg client config for a URL: TLS from sslmode with libpq's meaning (disable: none; prefer and
 * require: encrypted, certificate not checked; verify-ca; verify-full), unless the URL chose
 * node-postgres' own reading with uselibpqcompat. node-postgres cannot fall back to plaintext, so
 * prefer behaves as require; without sslmode there is no TLS.
 */
export function postgresClientConfig(url: string): pg.ClientConfig {
  const own = /[?&]uselibpqcompat=/i.test(url);
  return toClientConfig(own ? parseConnectionString(url) : parseConnectionString(url, { useLibpqCompat: true }));
}

interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A pooled connection's statements, and a way to send several at once. */
interface Pipelined extends Queryable {
  /**
   * Runs `send`, which starts statements without awaiting them: they go out in one write (the
   * connection is pipelined, poolConfig), so they cost one round trip instead of one each.
   */
  together<T>(send: () => T): T;
}

/**
 * The values of `promises`, once all have settled; the first failure, in their order, if any (a
 * failed statement in a transaction fails the ones after it too: the first says why).
 */
async function inOrder<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

const ALERTS_ORDER = `ORDER BY starts_at, fingerprint COLLATE "C"`;
/** The alerts of the incident `i` of the enclosing query, as a JSON array in ALERTS_ORDER. */
const ALERTS_OF_I = `(SELECT coalesce(json_agg(a ORDER BY a.starts_at, a.fingerprint COLLATE "C"), '[]') FROM alerts a WHERE a.incident_id = i.id)`;

/**
 * The state each group of $1 is decided on, in one read: its active incident, locked for the write,
 * or else its most recently resolved one (for late re-deliveries, and resolved alerts that settle a
 * manually resolved incident), each with its alerts.
 */
const READ_GROUPS = `WITH active AS (
    SELECT * FROM incidents WHERE key = ANY ($1::text[]) AND status <> 'resolved' FOR NO KEY UPDATE
  ), last AS (
    SELECT DISTINCT ON (key) * FROM incidents
    WHERE key = ANY ($1::text[]) AND status = 'resolved' AND key NOT IN (SELECT key FROM active)
    ORDER BY key, id DESC
  )
  SELECT i.*, ${ALERTS_OF_I} AS alert_rows FROM (SELECT * FROM active UNION ALL SELECT * FROM last) i`;

/** At most this many notifications in one group commit. */
const GROUP_COMMIT_MAX = 64;

/** A notification waiting for its group commit. */
interface Arrival extends Waiting {
  n: GroupNotification;
  decide: NotificationDecider;
  resolve: (outcome: NotificationOutcome) => void;
  reject: (err: unknown) => void;
}

/** A page outcome waiting for its statement (completePage). */
interface PendingOutcome {
  id: number;
  outcome: PageOutcome;
  now: number;
  owner: string;
  resolve: (held: boolean) => void;
  reject: (err: unknown) => void;
}
/** At most this many outcomes in one statement. */
const COMPLETE_MAX = 500;

/** An incident row with its alerts (ALERTS_OF_I). */
interface IncidentWithAlertsRow extends IncidentRow {
  alert_rows: AlertRow[];
}

/** What node-postgres hands over: JSON parsed (json_agg and row_to_json too), booleans as booleans, BIGINT as numbers (poolConfig). */
const POSTGRES: Engine = {
  json: (v) => v,
  bool: (v) => v === true,
  boolParam: (b) => b,
  param: (n) => `$${n}`,
  oneOf: (expr, n) => `${expr} = ANY ($${n}::text[])`,
  listParam: (values) => [...values],
};
const CONTACT_SQL = contactSql(POSTGRES);
const { toIncident, toAlert, toEntry, toOutboxEntry, toState, unchanged } = rowMappers(POSTGRES);
const ONCALL = oncallRecords((n) => `$${n}`, { sql: `SELECT pg_notify('${PAGES_CHANNEL}', '')`, params: [] });
const STATUS = statusRecords((n) => `$${n}`, { sql: `SELECT pg_notify('${PAGES_CHANNEL}', '')`, params: [] });
const SQL = sharedSql(POSTGRES);
const PEOPLE = peopleSql(POSTGRES);
const MAINTENANCE = maintenanceSql(POSTGRES);

function stateOf(row: IncidentWithAlertsRow): IncidentState {
  return toState(row, row.alert_rows);
}

/**
 * The store for several replicas: PostgreSQL through a node-postgres pool.
 *
 * Every write is one transaction on one pooled connection (READ COMMITTED): the rows a decider reads
 * are locked first (an advisory lock per group, FOR NO KEY UPDATE on the incident), the decider runs
 * synchronously, and its change is written before COMMIT. Sweeps and claims lock with SKIP LOCKED,
 * so two replicas never take the same incident or page. Deadlocks and serialization failures run
 * the whole transaction again (deciders are pure, so that is safe); failures of the server or the
 * link become StoreUnavailableError. Open it with PostgresStore.open, which runs the migrations.
 */
export class PostgresStore implements IncidentStore {
  private closed = false;
  private readonly pageListeners: ((targets?: PageTarget[]) => void)[] = [];
  /** The notifications of this turn of the event loop, committed together (applyNotification). */
  private arrivals: Arrival[] = [];
  private flushScheduled = false;
  /** The page outcomes of this turn of the event loop, recorded together (completePage). */
  private readonly outcomes: PendingOutcome[] = [];
  private outcomesScheduled = false;
  private batchesInFlight = 0;
  /** The groups of the batches in flight. */
  private readonly keysInFlight = new Set<string>();
  /** Batches at once, at most (full ones: see flushArrivals): half the pool, the rest for the dispatcher, the API and the sweeps. */
  private readonly maxBatches: number;
  private listener: pg.Client | undefined;
  private relisten: NodeJS.Timeout | undefined;
  /**
   * Copies of what decisions read are used only while the listening connection hears FACTS_CHANNEL;
   * every notification, own write, and loss or return of that connection moves the generation on,
   * which drops them (a read that started before the move is not kept).
   */
  private factsListening = false;
  private factsGeneration = 0;
  private settingsCopy: { generation: number; readAt: number; value: Promise<Map<string, PersonSettings>> } | undefined;
  private overridesCopy:
    { generation: number; readAt: number; from: number; value: Promise<{ rows: RuntimeOverride[]; until: number }> } | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.PoolConfig,
    private readonly factsMaxAgeMs = FACTS_MAX_AGE_MS,
  ) {
    this.maxBatches = Math.max(1, Math.floor((config.max ?? PG_DEFAULTS.poolSize) / 2));
  }

  /** Connects, migrates the schema (under an advisory lock, so replicas may start together) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new ConfigError(`PostgreSQL schema "${options.schema}" must be a plain lower-case identifier`);
    }
    const pool = new pg.Pool(poolConfig(options));
    // An idle connection that the server closed (a restart, a failover) is dropped by the pool; the
    // next query opens a new one. Without a listener the 'error' event would end the process.
    pool.on('error', () => {});
    try {
      await migrate(pool, options.schema);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err instanceof ConfigError ? err : translate(err);
    }
    return new PostgresStore(pool, poolConfig(options), options.factsMaxAgeMs);
  }

  /**
   * LISTENs for committed pages on a connection of its own (a pooled one would be handed to other
   * queries). A lost connection is opened again after a second; notifications sent meanwhile are
   * missed, which the dispatcher's polling covers.
   */
  onPagesCommitted(listener: (targets?: PageTarget[]) => void): void {
    this.pageListeners.push(listener);
    this.ensureListening();
  }

  private ensureListening(): void {
    if (!this.closed && !this.listener && !this.relisten) void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const { max: _max, ...config } = this.config;
    const client = new pg.Client({ ...config, query_timeout: undefined });
    this.listener = client;
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      // Changes made meanwhile would go unheard: no copies until listening again.
      this.factsListening = false;
      this.factsGeneration++;
      client.end().catch(() => {});
      if (!this.closed)
        this.relisten = setTimeout(() => {
          this.relisten = undefined;
          void this.listen();
        }, 1_000).unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (msg) => {
      if (msg.channel === FACTS_CHANNEL) this.factsGeneration++;
      else {
        const targets = pageTargets(msg.payload);
        for (const l of this.pageListeners) l(targets);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PAGES_CHANNEL}; LISTEN ${FACTS_CHANNEL}`);
      if (this.listener === client) {
        this.factsListening = true;
        this.factsGeneration++;
      }
      // Pages committed while the connection was down are not announced again: claim now.
      for (const l of this.pageListeners) l();
    } catch {
      retry();
    }
  }

  /**
   * Group commit, as on SQLite (docs/adr/0002-sqlite-group-commit.md): the notifications that
   * arrive together are applied in one transaction, in two round trips whatever their number (BEGIN,
   * the locks and the read; the write of every change and COMMIT) instead of six each. One batch
   * runs at a time unless a full one waits: what arrives meanwhile joins the next, bigger batch (the
   * cost of a batch is mostly its round trips, so the bigger the cheaper per webhook), and a storm
   * still gets up to half the pool. A group with a batch in flight waits for it: its notifications
   * are applied in the order they came.
   */
  applyNotification(n: GroupNotification, decide: NotificationDecider, urgency?: Urgency): Promise<NotificationOutcome> {
    return new Promise((resolve, reject) => {
      // As PostgreSQL stores it (NUL and lone surrogates mended), so that it finds its own rows.
      this.arrivals.push({ n, key: wellFormedText(incidentKey(n.receiver, n.groupKey)), decide, urgency, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushArrivals());
      }
    });
  }

  /**
   * Starts a batch of the waiting notifications when none runs, or another while a full one waits
   * and fewer than maxBatches run; the end of one starts the next.
   */
  private flushArrivals(): void {
    this.flushScheduled = false;
    while (
      this.arrivals.length &&
      this.batchesInFlight < this.maxBatches &&
      (this.batchesInFlight === 0 || this.arrivals.length >= GROUP_COMMIT_MAX)
    ) {
      // One of each group not in flight, the most urgent first when they do not all fit.
      const { batch, left } = takeBatch(this.arrivals, this.keysInFlight, GROUP_COMMIT_MAX);
      if (!batch.length) break;
      this.arrivals = left;
      this.batchesInFlight++;
      for (const a of batch) this.keysInFlight.add(a.key);
      void this.applyBatch(batch).finally(() => {
        this.batchesInFlight--;
        for (const a of batch) this.keysInFlight.delete(a.key);
        if (this.arrivals.length) this.flushArrivals();
      });
    }
  }

  /**
   * One transaction for the batch: every group's lock, in key order (two replicas' batches take
   * them in the same order), then every group's active incident (locked) or last resolved one in one
   * read, each decision, and one statement writing every change. A decider that throws fails its own
   * notification only; a write that fails rolls the batch back, and its notifications run again one
   * by one, so that only the failing one fails.
   */
  private async applyBatch(batch: Arrival[]): Promise<void> {
    const failed = new Map<Arrival, unknown>();
    try {
      const outcomes = await this.onConnection(async (c, client, discard) => {
        failed.clear();
        const keys = batch.map((a) => a.key);
        try {
          // BEGIN, the locks and the read go out together (pipelined: one round trip, not three). The
          // read is its own statement after the lock's, so its snapshot holds what the lock waited for.
          // Notifications of one group queue here, across replicas: the second reads what the first committed.
          // In the order of the locks' own numbers, so that two batches never wait for each other in a cycle.
          const [, , read] = await inOrder(
            c.together(
              () =>
                [
                  client.query('BEGIN'),
                  c.query(
                    `SELECT count(pg_advisory_xact_lock($1, h)) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) l`,
                    [GROUP_LOCK_NAMESPACE, keys],
                  ),
                  c.query<IncidentWithAlertsRow>(READ_GROUPS, [keys]),
                ] as const,
            ),
          );
          const states = new Map<string, IncidentWithAlertsRow>();
          for (const row of read.rows) states.set(row.key, row);
          const out = new Map<Arrival, NotificationOutcome>();
          const changed: Arrival[] = [];
          const changes: IncidentChange[] = [];
          for (const a of batch) {
            const row = states.get(a.key);
            const active = row && row.status !== 'resolved' ? row : undefined;
            const last = active ? undefined : row;
            let change;
            try {
              change = a.decide(active ? stateOf(active) : null, last ? stateOf(last) : null, a.n);
            } catch (err) {
              failed.set(a, err);
              continue;
            }
            if (change) {
              changed.push(a);
              changes.push(change);
            } else {
              // Nothing changed (a re-delivery): still say which incident the notification is about.
              out.set(a, unchanged(active ?? last));
            }
          }
          // Every change of the batch in one statement, and COMMIT behind it (after a failed write
          // PostgreSQL answers that COMMIT with a rollback).
          const [written] = await inOrder(c.together(() => [this.write(c, changes), client.query('COMMIT')] as const));
          written.forEach((committed, n) => out.set(changed[n]!, { change: committed, incident: committed.incident }));
          return out;
        } catch (err) {
          // A connection that cannot even roll back is not given back to the pool.
          await client.query('ROLLBACK').catch(discard);
          throw err;
        }
      });
      for (const a of batch) {
        const outcome = outcomes.get(a);
        if (outcome) a.resolve(outcome);
        else a.reject(failed.get(a));
      }
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else if (err instanceof StoreUnavailableError) for (const a of batch) a.reject(err);
      else await Promise.all(batch.map((a) => this.applyBatch([a])));
    }
  }

  updateIncident(id: number, decide: IncidentDecider) {
    return this.tx(async (c) => {
      const row = (await c.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1 FOR NO KEY UPDATE`, [id])).rows[0];
      if (!row) return undefined;
      const incident = toIncident(row);
      const change = decide(incident);
      return change ? { incident: change.incident, change: (await this.write(c, [change]))[0]! } : { incident, change: null };
    });
  }

  sweepOverdue(now: number, decide: IncidentDecider, limit?: number): Promise<CommittedChange[]> {
    return this.sweep(
      `SELECT * FROM incidents WHERE status = 'open' AND NOT sla_breached AND respond_by <= $1 ORDER BY respond_by`,
      now,
      decide,
      limit,
    );
  }

  sweepEscalations(now: number, decide: IncidentDecider, limit?: number): Promise<CommittedChange[]> {
    return this.sweep(
      `SELECT * FROM incidents WHERE status = 'open' AND next_escalation_at IS NOT NULL AND next_escalation_at <= $1 ORDER BY next_escalation_at`,
      now,
      decide,
      limit,
    );
  }

  /**
   * Applies `decide` to each incident `due` selects, in one transaction. Rows another transaction
   * holds are skipped (the next sweep sees them); a row another replica changed meanwhile is checked
   * again against `due` before it is locked, so a breach is recorded once across replicas.
   */
  private sweep(due: string, now: number, decide: IncidentDecider, limit: number | undefined): Promise<CommittedChange[]> {
    return this.tx(async (c) => {
      const changes: IncidentChange[] = [];
      // LIMIT NULL is no limit.
      for (const row of (await c.query<IncidentRow>(`${due} LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED`, [now, limit ?? null])).rows) {
        const change = decide(toIncident(row));
        if (change) changes.push(change);
      }
      return this.write(c, changes);
    });
  }

  async getIncident(id: number, window?: AlertWindow): Promise<(IncidentWithDetails & { alertCount: number }) | undefined> {
    // One statement, so one snapshot and one round trip, for the incident, its alerts and its
    // timeline. LIMIT NULL is no limit; without a window the count is the alerts read.
    const [r] = await this.query<{ incident: IncidentRow; alerts: AlertRow[]; alert_count: number | null; timeline: TimelineRow[] }>(
      `SELECT row_to_json(i) AS incident,
         (SELECT coalesce(json_agg(a ORDER BY a.starts_at, a.fingerprint COLLATE "C"), '[]')
            FROM (SELECT * FROM alerts WHERE incident_id = $1 ${ALERTS_ORDER} LIMIT $2 OFFSET $3) a) AS alerts,
         CASE WHEN $2::bigint IS NULL THEN NULL ELSE (SELECT count(*) FROM alerts WHERE incident_id = $1) END AS alert_count,
         (SELECT coalesce(json_agg(json_build_object('at', t.at, 'kind', t.kind, 'actor', t.actor, 'data', t.data) ORDER BY t.at, t.id), '[]')
            FROM timeline t WHERE t.incident_id = $1) AS timeline
       FROM incidents i WHERE i.id = $1`,
      [id, window?.limit ?? null, window?.offset ?? 0],
    );
    if (!r) return undefined;
    return {
      ...toIncident(r.incident),
      alertCount: r.alert_count ?? r.alerts.length,
      alerts: r.alerts.map(toAlert),
      timeline: r.timeline.map(toEntry),
    };
  }

  async getIncidents(ids: readonly number[]): Promise<Map<number, IncidentWithDetails>> {
    // One statement for the whole batch. The alerts and the timeline come as JSON text, parsed when
    // first used: a digest of 500 pages reads titles only.
    const rows = await this.query<{ incident: IncidentRow; alerts: string; timeline: string }>(
      `SELECT row_to_json(i) AS incident, ${ALERTS_OF_I}::text AS alerts,
         (SELECT coalesce(json_agg(json_build_object('at', t.at, 'kind', t.kind, 'actor', t.actor, 'data', t.data) ORDER BY t.at, t.id), '[]')
            FROM timeline t WHERE t.incident_id = i.id)::text AS timeline
       FROM incidents i WHERE i.id = ANY ($1::bigint[])`,
      [[...ids]],
    );
    const out = new Map<number, IncidentWithDetails>();
    for (const r of rows) {
      const incident = toIncident(r.incident) as IncidentWithDetails;
      lazy(incident, 'alerts', () => (JSON.parse(r.alerts) as AlertRow[]).map(toAlert));
      lazy(incident, 'timeline', () => (JSON.parse(r.timeline) as TimelineRow[]).map(toEntry));
      out.set(incident.id!, incident);
    }
    return out;
  }

  async incidentHead(id: number, window: AlertWindow): Promise<IncidentHead | undefined> {
    // One statement, so one snapshot: the incident, its count and the window of its alerts.
    const [r] = await this.query<{ incident: IncidentRow & { version: number }; alerts: AlertRow[]; alert_count: number }>(
      `SELECT row_to_json(i) AS incident,
         (SELECT coalesce(json_agg(a ORDER BY a.starts_at, a.fingerprint COLLATE "C"), '[]')
            FROM (SELECT * FROM alerts WHERE incident_id = $1 ${ALERTS_ORDER} LIMIT $2 OFFSET $3) a) AS alerts,
         (SELECT count(*) FROM alerts WHERE incident_id = $1) AS alert_count
       FROM incidents i WHERE i.id = $1`,
      [id, window.limit, window.offset],
    );
    if (!r) return undefined;
    return {
      ...(toIncident(r.incident) as Incident & { id: number }),
      version: r.incident.version,
      alertCount: r.alert_count,
      alerts: r.alerts.map(toAlert),
    };
  }

  async incident(id: number): Promise<(Incident & { id: number; version: number }) | undefined> {
    const [row] = await this.query<IncidentRow & { version: number }>(`SELECT * FROM incidents WHERE id = $1`, [id]);
    return row ? { ...(toIncident(row) as Incident & { id: number }), version: row.version } : undefined;
  }

  async incidentVersion(id: number): Promise<number | undefined> {
    return (await this.query<{ version: number }>(SQL.version, [id]))[0]?.version;
  }

  async timelinePage(id: number, q: TimelineQuery): Promise<TimelinePage> {
    const params: unknown[] = [id, q.before?.at ?? Number.MAX_SAFE_INTEGER, q.before?.id ?? Number.MAX_SAFE_INTEGER, q.limit + 1];
    if (q.kinds) params.push(POSTGRES.listParam(q.kinds));
    return timelinePageOf(await this.query<Required<TimelineRow>>(SQL.timelinePage(q.kinds !== undefined), params), q.limit, toEntry);
  }

  async timelineHead(id: number, limit: number): Promise<TimelineEntry[]> {
    return (await this.query<TimelineRow>(SQL.timelineHead, [id, limit])).map(toEntry);
  }

  async timelineCount(id: number): Promise<number> {
    return (await this.query<{ n: number }>(SQL.timelineCount, [id]))[0]!.n;
  }

  async checklistState(id: number): Promise<Map<string, StepStatus>> {
    return toSteps(await this.query<StepRow>(SQL.steps, [id]));
  }

  async alertSummary(id: number, limit: number): Promise<AlertSummary> {
    const [[totals], byName] = await Promise.all([
      this.query<{ count: number; firing: number; earliest: number | null }>(SQL.alertTotals, [id]),
      this.query<AlertNameRow>(
        `SELECT coalesce(labels->>'alertname', fingerprint) AS alertname, count(*) AS count, count(*) FILTER (WHERE status = 'firing') AS firing
         FROM alerts WHERE incident_id = $1 GROUP BY 1 ORDER BY count(*) DESC, coalesce(labels->>'alertname', fingerprint) COLLATE "C" LIMIT $2`,
        [id, limit],
      ),
    ]);
    return { count: totals!.count, firing: totals!.firing, earliestStart: totals!.earliest, byName };
  }

  listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    const { sql, params } = incidentList(POSTGRES, filter);
    return this.query<IncidentRow>(sql, params).then((rows) => rows.map(toIncident));
  }

  async counts(now: number): Promise<IncidentCounts> {
    return toCounts(await this.query<CountsRow>(SQL.counts, [now]));
  }

  async claimPages(now: number, limit: number, lease: Lease, busy: readonly string[] = []): Promise<OutboxEntry[]> {
    // SKIP LOCKED: a page another replica is claiming right now is left to it, never handed out twice.
    // A page whose sender's lease ran out (that replica died or stalled) is taken over, maybe sent.
    // SET reads the row as it was, so `o.status = 'sending'` tells a take-over. One statement: no BEGIN.
    // A page a replica of a release before leases is sending has no lease: it gets one from the first
    // claim that sees it, so it is taken over one lease later if that replica never records it.
    // Most severe first across the whole queue, then the longest due: each severity's due pages are
    // one range of the index outbox_claim, read in order and cut at the limit (the LATERAL), so a
    // claim reads about as many rows as it takes however deep the queue. The candidates are then
    // locked in that order; one a replica claimed meanwhile is skipped or re-checked by FOR UPDATE.
    const notBusy = `NOT (channel || E'\\n' || target = ANY ($2::text[]))`;
    const rows = await this.statement<OutboxRow>(
      `WITH unleased AS (UPDATE outbox SET lease_until = $5 WHERE status = 'sending' AND lease_until IS NULL RETURNING 1)
       UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, maybe_sent = o.maybe_sent OR o.status = 'sending',
         claimed_by = $4, lease_until = $5
       FROM (SELECT id FROM outbox
             WHERE id IN (SELECT c.id FROM unnest($6::int[]) AS r (rank) CROSS JOIN LATERAL (
                            SELECT id FROM outbox WHERE status = 'pending' AND priority = r.rank AND next_attempt_at <= $1 AND ${notBusy}
                            ORDER BY next_attempt_at, id LIMIT $3) c
                          UNION ALL
                          SELECT id FROM outbox WHERE status = 'sending' AND lease_until <= $1 AND ${notBusy})
               AND ((status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until <= $1))
             ORDER BY priority, next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE o.id = due.id RETURNING o.*`,
      [now, [...busy], limit, lease.owner, lease.until, SEVERITY_RANKS],
    );
    return rows.sort(claimOrder).map(toOutboxEntry);
  }

  async renewLeases(owner: string, until: number, ids?: readonly number[]): Promise<number> {
    const rows = ids
      ? await this.statement(
          `UPDATE outbox SET lease_until = $1 WHERE status = 'sending' AND claimed_by = $2 AND id = ANY ($3::bigint[]) RETURNING 1`,
          [until, owner, [...ids]],
        )
      : await this.statement(`UPDATE outbox SET lease_until = $1 WHERE status = 'sending' AND claimed_by = $2 RETURNING 1`, [until, owner]);
    return rows.length;
  }

  recoverInFlight(now: number): Promise<number> {
    // Other replicas may be sending right now: only pages whose lease ran out are theirs no longer.
    return this.tx(
      async (c) =>
        (
          await c.query(
            `UPDATE outbox SET status = 'pending', maybe_sent = true, claimed_by = NULL, lease_until = NULL WHERE status = 'sending' AND lease_until <= $1`,
            [now],
          )
        ).rowCount ?? 0,
    );
  }

  /**
   * The outcomes recorded in one turn of the event loop go in one statement (COMPLETE_PAGES): a
   * digest's pages were one statement each, most of PostgreSQL's statements in a storm. A page whose
   * lease ran out and that another replica took over matches nothing: that one records the outcome.
   */
  completePage(id: number, outcome: PageOutcome, now: number, owner: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.outcomes.push({ id, outcome, now, owner, resolve, reject });
      if (!this.outcomesScheduled) {
        this.outcomesScheduled = true;
        setImmediate(() => this.flushOutcomes());
      }
    });
  }

  private flushOutcomes(): void {
    this.outcomesScheduled = false;
    while (this.outcomes.length) {
      // A page twice (never in practice: one claim, one outcome) waits for the next statement, which then finds it recorded.
      const ids = new Set<number>();
      const batch: PendingOutcome[] = [];
      const left: PendingOutcome[] = [];
      for (const o of this.outcomes) {
        if (ids.has(o.id) || batch.length >= COMPLETE_MAX) left.push(o);
        else {
          ids.add(o.id);
          batch.push(o);
        }
      }
      this.outcomes.splice(0, this.outcomes.length, ...left);
      void this.completeBatch(batch);
    }
  }

  /** One statement for the batch; if it fails, each outcome alone, so that only a failing one fails. */
  private async completeBatch(batch: PendingOutcome[]): Promise<void> {
    const pages: Record<string, unknown>[] = [];
    const entries: Record<string, unknown>[] = [];
    batch.forEach(({ id, outcome, now, owner }, k) => {
      const o = outcome as PageOutcome & Partial<{ externalRef: string; nextAttemptAt: number; error: string; maybeSent: boolean }>;
      pages.push({
        k,
        id,
        owner,
        kind: o.status,
        at: now,
        external_ref: o.externalRef ?? null,
        next_attempt_at: o.nextAttemptAt ?? null,
        error: o.error ?? null,
        maybe_sent: o.maybeSent === true,
      });
      (outcome.timeline ?? []).forEach(({ at, kind, actor, ...data }, n) => entries.push({ k, n, at, kind, actor, data }));
    });
    try {
      const rows = await this.statement<{ k: number }>(COMPLETE_PAGES, [wellFormedJson(pages), wellFormedJson(entries)]);
      const held = new Set(rows.map((r) => r.k));
      batch.forEach((o, k) => o.resolve(held.has(k)));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else if (err instanceof StoreUnavailableError) for (const o of batch) o.reject(err);
      else for (const o of batch) await this.completeBatch([o]); // in turns: 500 at once would queue for the pool's 10 connections
    }
  }

  async paceChannel<T>(target: string, decide: PaceDecider<T>): Promise<T> {
    // Compare and set, two round trips: read the channel's time, decide, and write only if nobody
    // moved it meanwhile; if somebody did (another replica posted), decide again on the new time.
    for (;;) {
      const [row] = await this.statement<{ next_free: number }>(SQL.paceOf, [target]);
      const { nextFree, result } = decide(row?.next_free ?? 0);
      if (row && nextFree === row.next_free) return result;
      const written = row
        ? await this.statement(`UPDATE slack_pace SET next_free = $2 WHERE target = $1 AND next_free = $3 RETURNING 1`, [
            target,
            nextFree,
            row.next_free,
          ])
        : await this.statement(`INSERT INTO slack_pace (target, next_free) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, [
            target,
            nextFree,
          ]);
      if (written.length > 0) return result;
    }
  }

  async slackMessage(incidentId: number, target: string): Promise<{ channelId: string; ts: string } | undefined> {
    const [r] = await this.query<{ channel_id: string; ts: string }>(SQL.slackMessage, [incidentId, target]);
    return r ? { channelId: r.channel_id, ts: r.ts } : undefined;
  }

  async saveSlackMessage(incidentId: number, target: string, channelId: string, ts: string): Promise<void> {
    // The first announcement stays the thread root, whichever replica saves second.
    await this.query(SQL.saveSlackMessage, [incidentId, target, channelId, ts]);
  }

  async queueDepth(): Promise<Record<OutboxEntry['channel'], number>> {
    return byChannel(await this.query<ChannelCount>(SQL.queueDepth));
  }

  async retryingPages(): Promise<Record<OutboxEntry['channel'], number>> {
    return byChannel(await this.query<ChannelCount>(SQL.retrying));
  }

  /**
   * The overrides in force at `at`. Every decision asks, so a copy is kept until the next start or
   * end of one, a change on any replica (FACTS_CHANNEL), or FACTS_MAX_AGE_MS.
   */
  async overridesAt(at: number): Promise<RuntimeOverride[]> {
    const copy = this.overridesCopy;
    if (copy && this.fresh(copy) && at >= copy.from) {
      const kept = await copy.value.catch(() => undefined);
      if (kept && at < kept.until) return [...kept.rows];
    }
    this.ensureListening();
    const value = this.oncallRead(
      (function* () {
        const rows = yield* ONCALL.overridesAt(at);
        const next = (yield* ONCALL.nextOverrideStart(at)) ?? Infinity;
        return { rows, until: Math.min(next, ...rows.map((o) => o.to)) };
      })(),
    );
    const fresh = { generation: this.factsGeneration, readAt: performance.now(), from: at, value };
    this.overridesCopy = fresh;
    try {
      return [...(await value).rows];
    } catch (err) {
      if (this.overridesCopy === fresh) this.overridesCopy = undefined;
      throw err;
    }
  }
  overridesBetween(from: number, to: number): Promise<RuntimeOverride[]> {
    return this.oncallRead(ONCALL.overridesBetween(from, to));
  }
  listOverrides(page: OverridePage): Promise<RuntimeOverride[]> {
    return this.oncallRead(ONCALL.listOverrides(page));
  }
  getOverride(id: number): Promise<RuntimeOverride | undefined> {
    return this.oncallRead(ONCALL.getOverride(id));
  }
  addOverride(o: NewOverride, maxOpen: number, at: number): Promise<RuntimeOverride | undefined> {
    // The bound is counted and kept under a lock per rotation, so two replicas cannot both add the last one.
    return this.oncallWrite(ONCALL.addOverride(o, maxOpen, at), `oncall:${o.team ?? ''}`);
  }
  endOverride(id: number, at: number, by: string): Promise<RuntimeOverride | undefined> {
    return this.oncallWrite(ONCALL.endOverride(id, at, by), `override:${id}`);
  }
  deleteOverride(id: number, by: string, at: number): Promise<boolean> {
    return this.oncallWrite(ONCALL.deleteOverride(id, by, at), `override:${id}`);
  }
  voidOverrides(keep: readonly string[], at: number, reason: string): Promise<RuntimeOverride[]> {
    return this.oncallWrite(ONCALL.voidOverrides(keep, at, reason), 'oncall:void');
  }
  oncallLog(q: { team?: string | null; limit: number }): Promise<OncallLogEntry[]> {
    return this.oncallRead(ONCALL.oncallLog(q));
  }
  addOncallRequest(r: Omit<OncallRequest, 'id' | 'status' | 'decidedAt' | 'decidedBy'>, notices: NewNotice[] = []): Promise<OncallRequest> {
    return this.oncallWrite(ONCALL.addOncallRequest(r, notices));
  }
  getOncallRequest(id: number): Promise<OncallRequest | undefined> {
    return this.oncallRead(ONCALL.getOncallRequest(id));
  }
  pendingOncallRequests(contact: string): Promise<OncallRequest[]> {
    return this.oncallRead(ONCALL.pendingOncallRequests(contact));
  }
  decideOncallRequest(id: number, d: RequestDecision): Promise<{ request: OncallRequest; overrides: RuntimeOverride[] } | undefined> {
    return this.oncallWrite(ONCALL.decideOncallRequest(id, d), `oncall:${id}`);
  }
  addCalendarFeed(f: NewCalendarFeed): Promise<CalendarFeed> {
    return this.oncallWrite(ONCALL.addCalendarFeed(f));
  }
  calendarFeedByHash(hash: string): Promise<CalendarFeed | undefined> {
    return this.oncallRead(ONCALL.calendarFeedByHash(hash));
  }
  calendarFeeds(createdBy: string): Promise<CalendarFeed[]> {
    return this.oncallRead(ONCALL.calendarFeeds(createdBy));
  }
  claimHandoff(h: HandoffClaim, notices: NewNotice[]): Promise<boolean> {
    return this.oncallWrite(ONCALL.claimHandoff(h, notices));
  }
  revokeCalendarFeed(id: number, createdBy: string, at: number): Promise<boolean> {
    return this.oncallWrite(ONCALL.revokeCalendarFeed(id, createdBy, at));
  }

  async savePhoneMessage(m: PhoneMessage): Promise<void> {
    await this.statement(CONTACT_SQL.savePhoneMessage, phoneMessageValues(m));
  }

  async phoneMessage(sid: string): Promise<PhoneMessage | undefined> {
    const [r] = await this.query<PhoneMessageRow>(CONTACT_SQL.phoneMessage, [sid]);
    return r ? toPhoneMessage(r) : undefined;
  }

  async setPhoneStatus(sid: string, status: string, at: number): Promise<void> {
    await this.statement(CONTACT_SQL.setPhoneStatus, [status, at, sid, at]);
  }

  async phoneMessagesTo(channel: string, to: string, since: number): Promise<PhoneMessage[]> {
    return (await this.query<PhoneMessageRow>(CONTACT_SQL.phoneMessagesTo, [channel, to, since])).map(toPhoneMessage);
  }

  async contactSettings(contact: string): Promise<PersonSettings | undefined> {
    const [r] = await this.query<ContactSettingsRow>(CONTACT_SQL.settingsOf, [contact]);
    return r ? toSettings(r) : undefined;
  }

  /** Every person's settings. Every decision asks, so a copy is kept until a change on any replica (FACTS_CHANNEL) or FACTS_MAX_AGE_MS. */
  async allContactSettings(): Promise<Map<string, PersonSettings>> {
    const copy = this.settingsCopy;
    if (copy && this.fresh(copy)) {
      const kept = await copy.value.catch(() => undefined);
      if (kept) return new Map(kept);
    }
    this.ensureListening();
    const value = this.query<ContactSettingsRow>(CONTACT_SQL.allSettings).then(
      (rows) => new Map(rows.map((r) => [r.contact, toSettings(r)])),
    );
    const fresh = { generation: this.factsGeneration, readAt: performance.now(), value };
    this.settingsCopy = fresh;
    try {
      return new Map(await value);
    } catch (err) {
      if (this.settingsCopy === fresh) this.settingsCopy = undefined;
      throw err;
    }
  }

  /** A copy of a read is good while the listener hears every change and none came since it began, for FACTS_MAX_AGE_MS at most. */
  private fresh(copy: { generation: number; readAt: number }): boolean {
    return this.factsListening && copy.generation === this.factsGeneration && performance.now() - copy.readAt < this.factsMaxAgeMs;
  }

  /** This replica changed what decisions read: its copies go now, every other replica's at the notification (sent at COMMIT). */
  private async factsChanged(c: Queryable): Promise<void> {
    this.factsGeneration++;
    await c.query(`SELECT pg_notify('${FACTS_CHANNEL}', '')`);
  }

  async updateContactSettings<T>(contact: string, change: (s: PersonSettings) => { settings?: PersonSettings; result: T }): Promise<T> {
    // Compare and set on the version, as paceChannel: another replica's write in between runs `change` again.
    for (;;) {
      const [r] = await this.statement<ContactSettingsRow>(CONTACT_SQL.settingsOf, [contact]);
      const { settings, result } = change(r ? toSettings(r) : NO_SETTINGS);
      if (!settings) return result;
      const written = r
        ? await this.statement(CONTACT_SQL.updateSettings, [settingsText(settings), contact, r.version])
        : await this.statement(CONTACT_SQL.insertSettings, [contact, settingsText(settings)]);
      if (written.length > 0) {
        await this.onConnection((c) => this.factsChanged(c));
        return result;
      }
    }
  }

  /** An on-call read, its statements on one pooled connection. */
  private oncallRead<T>(op: Op<T>): Promise<T> {
    return this.onConnection((c) => driveAsync(op, async ({ sql, params }) => (await c.query<Record<string, unknown>>(sql, params)).rows));
  }

  /** An on-call write in one transaction; `locks` name transaction-scoped advisory locks taken first, in that order. */
  private async oncallWrite<T>(op: Op<T>, locks: string | readonly string[] = []): Promise<T> {
    try {
      return await this.tx(async (c) => {
        for (const lock of typeof locks === 'string' ? [locks] : locks)
          await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 23))`, [lock]);
        const result = await driveAsync(op, async ({ sql, params }) => (await c.query<Record<string, unknown>>(sql, params)).rows);
        // Heard by every replica at COMMIT: their copies of the overrides in force go.
        await this.factsChanged(c);
        return result;
      });
    } finally {
      // A read that began before the COMMIT may hold the old rows: not kept.
      this.factsGeneration++;
    }
  }

  statusUpdates(since: number, limit: number): Promise<StatusUpdateRecord[]> {
    return this.oncallRead(STATUS.statusUpdates(since, limit));
  }
  subscribe(s: NewSubscription): Promise<SubscribeOutcome> {
    // One client and one address at a time (always in this order): two requests at once for a new
    // address must not both insert it, and two from one client must not both take its last place.
    return this.oncallWrite(STATUS.subscribe(s), [...(s.client ? [`status-client:${s.client.key}`] : []), `status-subscriber:${s.email}`]);
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
    return this.oncallRead(STATUS.subscriber(id));
  }
  confirmedSubscribers(): Promise<{ id: number; components: string[] | null }[]> {
    return this.oncallRead(STATUS.confirmedSubscribers());
  }
  listSubscribers(): Promise<StatusSubscriber[]> {
    return this.oncallRead(STATUS.listSubscribers());
  }
  deleteSubscriber(email: string): Promise<boolean> {
    return this.oncallWrite(STATUS.deleteSubscriber(email));
  }
  sweepUnconfirmed(before: number): Promise<number> {
    return this.oncallWrite(STATUS.sweepUnconfirmed(before));
  }

  beat(kind: HeartbeatKind, name: string, at: number, timeoutMs: number): Promise<number | undefined> {
    // The row is locked while it is read and moved, so two replicas taking beats at once each see the deadline the other left.
    return this.tx(async (c) => {
      const [before] = (await c.query<HeartbeatRow>(`${SQL.heartbeat} FOR UPDATE`, [kind, name])).rows;
      await c.query(SQL.beat, [kind, name, at, at + timeoutMs]);
      return before ? Number(before.deadline) : undefined;
    });
  }

  async expectHeartbeats(expected: readonly { kind: HeartbeatKind; name: string; deadline: number }[]): Promise<void> {
    for (const e of expected) await this.statement(SQL.expectHeartbeat, [e.kind, e.name, e.deadline]);
  }

  async addSilence(s: Omit<SilenceRecord, 'notifiedAt' | 'expiredAt'>): Promise<void> {
    await this.statement(SQL.addSilence, silenceValues(POSTGRES, s));
  }

  async silencesOf(incidentId: number): Promise<SilenceRecord[]> {
    return (await this.query<SilenceRow>(SQL.silencesOf, [incidentId])).map((r) => toSilence(POSTGRES, r));
  }

  async silencesDue(noticeBy: number): Promise<(SilenceRecord & { incidentResolved: boolean })[]> {
    return (await this.query<SilenceRow & { incident_status: string }>(SQL.silencesDue, [noticeBy])).map((r) => ({
      ...toSilence(POSTGRES, r),
      incidentResolved: r.incident_status === 'resolved',
    }));
  }

  async addMaintenanceWindow(w: NewMaintenanceWindow): Promise<MaintenanceWindow> {
    const [row] = await this.statement<MaintenanceRow & pg.QueryResultRow>(MAINTENANCE.add, maintenanceValues(POSTGRES, w));
    return toMaintenanceWindow(POSTGRES, row!);
  }

  async getMaintenanceWindow(id: number): Promise<MaintenanceWindow | undefined> {
    const [row] = await this.query<MaintenanceRow & pg.QueryResultRow>(MAINTENANCE.byId, [id]);
    return row && toMaintenanceWindow(POSTGRES, row);
  }

  async maintenanceWindows(q: { endingAfter: number; limit: number; publicOnly?: boolean }): Promise<MaintenanceWindow[]> {
    const rows = await this.query<MaintenanceRow & pg.QueryResultRow>(q.publicOnly ? MAINTENANCE.listPublic : MAINTENANCE.list, [
      q.endingAfter,
      q.limit,
    ]);
    return rows.map((r) => toMaintenanceWindow(POSTGRES, r));
  }

  async cancelMaintenanceWindow(id: number, by: string, at: number): Promise<MaintenanceWindow | undefined> {
    const [row] = await this.statement<MaintenanceRow & pg.QueryResultRow>(MAINTENANCE.cancel, [at, by, id]);
    return row && toMaintenanceWindow(POSTGRES, row);
  }

  async claimSilenceNotice(id: string, at: number): Promise<boolean> {
    return (await this.statement(SQL.claimSilenceNotice, [at, id])).length > 0;
  }

  async markSilenceExpired(id: string, at: number): Promise<boolean> {
    return (await this.statement(SQL.markSilenceExpired, [at, id])).length > 0;
  }

  async listHeartbeats(): Promise<HeartbeatRecord[]> {
    return (await this.query<HeartbeatRow>(SQL.heartbeats)).map(toHeartbeat);
  }

  /** Answers only when the store can also write: a hot standby (after a failover) is as good as no database. */
  async createSession(session: SessionRecord): Promise<void> {
    await this.statement(PEOPLE.createSession, sessionValues(session));
  }

  async getSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    const [r] = await this.query<SessionRow>(PEOPLE.session, [idHash, now]);
    return r ? toSession(r) : undefined;
  }

  async endSession(idHash: string, personKey?: string): Promise<boolean> {
    const rows =
      personKey === undefined
        ? await this.statement(PEOPLE.endSession, [idHash])
        : await this.statement(PEOPLE.endSessionOf, [idHash, personKey]);
    return rows.length > 0;
  }

  async listSessions(personKey: string, now: number): Promise<SessionRecord[]> {
    return (await this.query<SessionRow>(PEOPLE.sessionsOf, [personKey, now])).map(toSession);
  }

  async endSessionsOf(personKey: string): Promise<number> {
    return (await this.statement(PEOPLE.endSessionsOf, [personKey])).length;
  }

  async sweepSessions(now: number): Promise<number> {
    return (await this.statement(PEOPLE.sweepSessions, [now])).length;
  }

  async createApiToken(token: Omit<ApiTokenRecord, 'id' | 'lastUsedAt'>): Promise<ApiTokenRecord> {
    const [r] = await this.statement<{ id: number }>(PEOPLE.createApiToken, apiTokenValues(token));
    return { ...token, id: Number(r!.id), lastUsedAt: null };
  }

  async apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const [r] = await this.query<ApiTokenRow>(PEOPLE.apiTokenByHash, [hash]);
    return r ? toApiToken(r) : undefined;
  }

  async listApiTokens(personKey: string): Promise<ApiTokenRecord[]> {
    return (await this.query<ApiTokenRow>(PEOPLE.apiTokensOf, [personKey])).map(toApiToken);
  }

  async revokeApiToken(id: number, personKey?: string): Promise<boolean> {
    const rows =
      personKey === undefined
        ? await this.statement(PEOPLE.revokeApiToken, [id])
        : await this.statement(PEOPLE.revokeApiTokenOf, [id, personKey]);
    return rows.length > 0;
  }

  async touchApiToken(id: number, at: number): Promise<void> {
    await this.statement(PEOPLE.touchApiToken, [at, id]);
  }

  async ping(): Promise<void> {
    const [r] = await this.query<{ ro: string }>(`SELECT current_setting('transaction_read_only') AS ro`);
    if (r?.ro === 'on') throw new StoreUnavailableError('PostgreSQL store is read-only (a hot standby?): writes would fail');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.relisten);
    this.factsListening = false;
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([this.pool.end(), listener?.end().catch(() => {})]);
  }

  /**
   * Writes changes, each incident with its alerts, timeline entries, checklist marks and pages, in
   * one statement for them all (one round trip however many): each kind of row is one multi-row
   * write from a JSON parameter, and each child row names its incident by the change it belongs to.
   * The ids of opened incidents are drawn from their sequence first, so the children know them.
   * Changes of one incident twice (a row cannot be upserted twice in one statement) go in turns.
   */
  private async write(c: Queryable, changes: readonly IncidentChange[]): Promise<CommittedChange[]> {
    // Every statement is sent before any answer is awaited (one round trip when pipelined).
    const runs: Promise<CommittedChange[]>[] = [];
    for (let from = 0; from < changes.length;) {
      const ids = new Set<number>();
      let to = from;
      for (; to < changes.length; to++) {
        const id = changes[to]!.incident.id;
        if (id !== null && ids.has(id)) break;
        if (id !== null) ids.add(id);
      }
      runs.push(this.writeDistinct(c, changes.slice(from, to)));
      from = to;
    }
    return (await inOrder(runs)).flat();
  }

  /** write() for changes of distinct incidents: one statement (WRITE_CHANGES). */
  private async writeDistinct(c: Queryable, changes: readonly IncidentChange[]): Promise<CommittedChange[]> {
    const opened: Record<string, unknown>[] = [];
    const updated: Record<string, unknown>[] = [];
    const alerts: Record<string, unknown>[] = [];
    const timeline: Record<string, unknown>[] = [];
    const pages: Record<string, unknown>[] = [];
    // The targets of the pages to send, for the NOTIFY's payload.
    const waiting = new Map<string, [string, string]>();
    changes.forEach((change, n) => {
      const i = change.incident;
      // A child's incident: an existing one by its id, an opened one by its place in `opened` (from 1).
      // Each row is one object literal of fixed fields: spreading `of` into each cost more than the rest of the write.
      const id = i.id;
      const o = id === null ? opened.push(incidentRecord(i, null)) : null;
      if (id !== null) updated.push(incidentRecord(i, id));
      // A fingerprint twice in one change: the last one wins, as in SQLite.
      const distinct = new Set(change.alerts.map((a) => a.fingerprint)).size === change.alerts.length;
      for (const a of distinct ? change.alerts : new Map(change.alerts.map((a) => [a.fingerprint, a])).values())
        alerts.push({
          c: n,
          id,
          o,
          fingerprint: a.fingerprint,
          status: a.status,
          labels: a.labels,
          annotations: a.annotations,
          starts_at: a.startsAt,
          ends_at: a.endsAt,
          generator_url: a.generatorUrl,
          severity: a.severity,
          rule: a.rule,
          links: a.links ?? {},
        });
      change.timeline.forEach(({ at, kind, actor, ...data }, k) => timeline.push({ c: n, id, o, n: k, at, kind, actor, data }));
      (change.pages ?? []).forEach((p, k) => {
        if (!p.notSent) waiting.set(targetKey(p), [p.channel, p.target]);
        pages.push({
          c: n,
          id,
          o,
          n: k,
          channel: p.channel,
          target: p.target,
          event: p.event,
          severity: p.severity,
          priority: severityRank(p.severity),
          payload: pagePayload(p),
          status: pageStatus(p),
          at: p.at,
          last_error: p.notSent ?? null,
        });
      });
    });
    const [row] = (
      await c.query<{ ids: number[] }>(WRITE_CHANGES, [
        wellFormedJson(opened),
        wellFormedJson(updated),
        wellFormedJson(alerts),
        wellFormedJson(timeline),
        wellFormedJson(pages),
        notifyPayload(waiting),
      ])
    ).rows;
    let o = 0;
    return changes.map((change) => ({
      ...change,
      incident: { ...change.incident, id: change.incident.id ?? row!.ids[o++]! },
    }));
  }

  /** One statement on any pooled connection. */
  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.statement<R>(sql, params);
  }

  /**
   * One statement on its own (autocommit: no BEGIN or COMMIT round trips), run again on a deadlock
   * or serialization failure like a transaction.
   */
  private async statement<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return this.onConnection(async (c) => (await c.query<R>(sql, params)).rows);
  }

  /**
   * Runs `work` in one transaction on one pooled connection and resolves after COMMIT. A deadlock or
   * serialization failure runs it again from the start; anything else rolls back and is thrown.
   */
  private tx<T>(work: (c: Queryable) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    return this.onConnection(async (c, client, discard) => {
      try {
        await client.query(begin);
        const value = await work(c);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        // A connection that cannot even roll back is not given back to the pool.
        await client.query('ROLLBACK').catch(discard);
        throw err;
      }
    });
  }

  /**
   * Runs `work` on one pooled connection, its parameterised statements prepared (see prepared()),
   * and runs it again on a fresh start after a deadlock, a serialization failure, or a prepared plan
   * that a newer release's migration made stale; anything else is thrown, translated.
   */
  private async onConnection<T>(work: (c: Pipelined, client: pg.PoolClient, discard: (reason: Error) => void) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw translate(err);
      }
      // node-postgres has no public handle on the socket: `connection.stream` is what it writes to.
      const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
      const c: Pipelined = {
        query: (text, values) => (values ? client.query(prepared(text, wellFormedDeep(values))) : client.query(text)),
        together: (send) => {
          stream.cork();
          try {
            return send();
          } finally {
            stream.uncork();
          }
        },
      };
      // Every parameter passes here: text PostgreSQL refuses for good (a NUL, a lone surrogate: 22021,
      // 22P05) is mended (src/well-formed.ts). JSON parameters are written with wellFormedJson.
      let broken: Error | undefined;
      // A link that drops between two statements is reported as an 'error' event, which would end the
      // process with nobody listening: note it, drop the connection; the next statement fails with it.
      const lost = (err: Error) => (broken = err);
      client.on('error', lost);
      try {
        return await work(c, client, (reason) => (broken = reason));
      } catch (err) {
        // An error from the link or the client (no SQLSTATE) may leave a query running: drop the connection.
        if (!sqlState(err)) broken ??= err instanceof Error ? err : new Error(String(err));
        // Its prepared statements are stale: a fresh connection prepares them again.
        if (stalePlan(err)) broken ??= err as Error;
        if ((retryable(err) || stalePlan(err)) && attempt < MAX_ATTEMPTS) {
          await sleep(attempt * (5 + Math.random() * 20));
          continue;
        }
        throw translate(err);
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    }
  }
}

/**
 * completePage()'s one statement for a batch of outcomes ($1: the page, its owner and what to set;
 * $2: the timeline entries of each, by its place `k`), each written only while its owner holds the
 * page. Returns the places of the pages written. A release takes the attempt back; a retry keeps a
 * page maybeSent once it was; every outcome ends the lease.
 */
const COMPLETE_PAGES = `WITH x AS (
    SELECT * FROM json_to_recordset($1::json) AS x(k int, id bigint, owner text, kind text, at bigint, external_ref text,
      next_attempt_at bigint, error text, maybe_sent boolean)
  ), page AS (
    UPDATE outbox o SET
      status = CASE x.kind WHEN 'sent' THEN 'sent' WHEN 'folded' THEN 'folded' WHEN 'retry' THEN 'pending' WHEN 'release' THEN 'pending'
        ELSE 'failed' END,
      sent_at = CASE WHEN x.kind IN ('sent', 'folded') THEN x.at ELSE o.sent_at END,
      external_ref = CASE WHEN x.kind IN ('sent', 'folded') THEN x.external_ref ELSE o.external_ref END,
      last_error = CASE WHEN x.kind IN ('sent', 'folded') THEN NULL WHEN x.kind = 'release' THEN o.last_error ELSE x.error END,
      next_attempt_at = CASE WHEN x.kind IN ('retry', 'release') THEN x.next_attempt_at ELSE o.next_attempt_at END,
      maybe_sent = o.maybe_sent OR (x.kind = 'retry' AND x.maybe_sent),
      attempts = CASE WHEN x.kind = 'release' THEN o.attempts - 1 ELSE o.attempts END,
      claimed_by = NULL, lease_until = NULL
    FROM x WHERE o.id = x.id AND o.status = 'sending' AND o.claimed_by = x.owner
    RETURNING x.k, o.incident_id
  ), entries AS (
    -- A notice (no incident) has no timeline.
    SELECT page.incident_id, e.k, e.n, e.at, e.kind, e.actor, e.data
    FROM page JOIN json_to_recordset($2::json) AS e(k int, n int, at bigint, kind text, actor text, data jsonb) ON e.k = page.k
    WHERE page.incident_id IS NOT NULL
  ), entries_written AS (
    -- Ids follow the order of the entries, which is how entries at the same time are ordered.
    ${TIMELINE_INSERT} SELECT incident_id, at, kind, actor, data FROM entries ORDER BY k, n
    RETURNING 1
  ), steps_written AS (
    -- A delivery may complete a checklist step (the status page's "Users notified"): each step's latest mark.
    INSERT INTO checklist_steps (incident_id, step, state, actor, at, note)
    SELECT DISTINCT ON (incident_id, data->>'step') incident_id, data->>'step', data->>'state', actor, at, data->>'note'
    FROM entries WHERE kind = 'checklist' ORDER BY incident_id, data->>'step', k DESC, n DESC
    ON CONFLICT (incident_id, step) DO UPDATE SET state = excluded.state, actor = excluded.actor, at = excluded.at, note = excluded.note
      WHERE excluded.at >= checklist_steps.at
    RETURNING 1
  ), versioned AS (
    UPDATE incidents SET version = version + 1 WHERE id IN (SELECT incident_id FROM page) RETURNING 1
  )
  SELECT k FROM page`;

/**
 * The NOTIFY payload of committed pages: their targets as JSON, so that a dispatcher busy with all
 * of them need not claim (Dispatcher.wake); empty (anything may be due) when too long for a payload
 * (8000 bytes); null when there is nothing to send.
 */
function notifyPayload(waiting: Map<string, [string, string]>): string | null {
  if (!waiting.size) return null;
  const json = wellFormedJson([...waiting.values()]);
  return json.length <= 2_000 ? json : '';
}

/** The targets a NOTIFY of committed pages names; undefined (wake for any) when it names none. */
function pageTargets(payload: string | undefined): PageTarget[] | undefined {
  if (!payload) return undefined;
  try {
    const pairs = JSON.parse(payload) as unknown;
    if (!Array.isArray(pairs) || !pairs.length) return undefined;
    const out: PageTarget[] = [];
    for (const p of pairs) {
      if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
      out.push({ channel: p[0], target: p[1] });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The incident's columns as json_populate_record reads them (into the incidents row type), with its id when it has one. */
function incidentRecord(i: Incident, id: number | null): Record<string, unknown> {
  const r: Record<string, unknown> = { id };
  for (const [column, field] of INCIDENT_COLUMNS) r[column] = i[field];
  return r;
}
const ALL_COLUMNS = INCIDENT_COLUMNS.map(([column]) => column);
const UPDATED_COLUMNS = INCIDENT_COLUMNS.filter(([, , traits]) => !(traits && 'once' in traits)).map(([column]) => column);

/** A child row's incident in WRITE_CHANGES: its own id, or the id drawn for the opened incident it names. */
const CHILD_INCIDENT = 'coalesce(x.id, opened.new_id)';
const CHILD_OF = 'x(c int, id bigint, o int';

/**
 * write()'s one statement for a batch of changes of distinct incidents: the opened incidents ($1,
 * the incidents' columns), the updated ones ($2, with their ids), and the alerts ($3), timeline
 * entries ($4) and pages ($5) of all of them, each row naming its incident by id or by its place
 * among the opened ones (`o`); $6 says whether to NOTIFY. Data-modifying CTEs all run, referenced
 * or not; the foreign keys are checked at the end of the statement, once the incidents are in.
 * Returns the ids of the opened incidents, in their order.
 */
const WRITE_CHANGES = `WITH opened AS (
    -- nextval is volatile: the CTE is computed once, so each opened incident has one id.
    SELECT x.ordinality AS o, nextval(pg_get_serial_sequence('incidents', 'id')) AS new_id, x.*
    FROM json_populate_recordset(NULL::incidents, $1::json) WITH ORDINALITY AS x
  ), inserted AS (
    INSERT INTO incidents (id, ${ALL_COLUMNS.join(', ')})
    SELECT new_id, ${ALL_COLUMNS.map((c) => `x.${c}`).join(', ')} FROM opened x ORDER BY o
    RETURNING 1
  ), updated AS (
    -- Every update moves the version on (docs/api.md): the live pages poll it instead of the timeline.
    UPDATE incidents i SET ${UPDATED_COLUMNS.map((c) => `${c} = x.${c}`).join(', ')}, version = i.version + 1
    FROM json_populate_recordset(NULL::incidents, $2::json) x WHERE i.id = x.id
    RETURNING 1
  ), alerts_written AS (
    ${ALERT_INSERT}
    SELECT ${CHILD_INCIDENT}, ${ALERT_COLUMNS.map((c) => `x.${c}`).join(', ')}
    FROM json_to_recordset($3::json) AS ${CHILD_OF}, fingerprint text, status text, labels json, annotations json, starts_at bigint,
      ends_at bigint, generator_url text, severity text, rule text, links json)
    LEFT JOIN opened ON opened.o = x.o
    ${ALERT_UPSERT}
    RETURNING 1
  ), entries AS (
    SELECT ${CHILD_INCIDENT} AS incident_id, x.c, x.n, x.at, x.kind, x.actor, x.data
    FROM json_to_recordset($4::json) AS ${CHILD_OF}, n int, at bigint, kind text, actor text, data jsonb)
    LEFT JOIN opened ON opened.o = x.o
  ), timeline_written AS (
    -- Ids follow the order of the entries, which is how entries at the same time are ordered.
    ${TIMELINE_INSERT} SELECT incident_id, at, kind, actor, data FROM entries ORDER BY c, n
    RETURNING 1
  ), steps_written AS (
    -- Each step's latest mark (one per step and incident: the last one of the change wins).
    INSERT INTO checklist_steps (incident_id, step, state, actor, at, note)
    SELECT DISTINCT ON (incident_id, data->>'step') incident_id, data->>'step', data->>'state', actor, at, data->>'note'
    FROM entries WHERE kind = 'checklist' ORDER BY incident_id, data->>'step', c DESC, n DESC
    ON CONFLICT (incident_id, step) DO UPDATE SET state = excluded.state, actor = excluded.actor, at = excluded.at, note = excluded.note
      WHERE excluded.at >= checklist_steps.at
    RETURNING 1
  ), pages_written AS (
    ${OUTBOX_INSERT}
    SELECT ${CHILD_INCIDENT}, x.channel, x.target, x.event, x.severity, x.priority, x.payload, x.status, x.at, x.at, x.last_error
    FROM json_to_recordset($5::json) AS ${CHILD_OF}, n int, channel text, target text, event text, severity text, priority int,
      payload json, status text, at bigint, last_error text)
    LEFT JOIN opened ON opened.o = x.o
    ORDER BY x.c, x.n
    RETURNING 1
  )
  -- NOTIFY is delivered at COMMIT, and not at all on a rollback: listeners hear only committed pages.
  SELECT coalesce((SELECT json_agg(new_id ORDER BY o) FROM opened), '[]') AS ids,
    CASE WHEN $6::text IS NOT NULL THEN pg_notify('${PAGES_CHANNEL}', $6) END AS notified`;

function poolConfig(options: PostgresStoreOptions): pg.PoolConfig {
  const base = postgresClientConfig(options.url);
  const statementTimeoutMs = options.statementTimeoutMs ?? PG_DEFAULTS.statementTimeoutMs;
  const searchPath = options.schema ? `-c search_path=${options.schema}` : undefined;
  return {
    ...base,
    options: [base.options, searchPath].filter(Boolean).join(' ') || undefined,
    max: options.poolSize ?? PG_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? PG_DEFAULTS.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // The server's timeout cannot fire when the link is cut: the client stops waiting a second later.
    query_timeout: statementTimeoutMs + 1_000,
    // A replica that stalls mid-transaction must not hold its row locks for long.
    idle_in_transaction_session_timeout: Math.max(10_000, 2 * statementTimeoutMs),
    keepAlive: true,
    // A statement is sent without waiting for the one before it to be answered: several sent at once
    // (Pipelined.together) cost one round trip. Statements awaited one by one run as before.
    pipeline: true,
    application_name: base.application_name ?? 'alert-triage',
    // BIGINT (epoch milliseconds, ids, counts) as numbers: all of them stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  };
}

/** Applies the migrations not yet applied, holding the migration lock so that replicas starting together take turns. */
async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Waiting for another replica's migrations, or running a long one, is not a statement to time out.
    await client.query(`SET statement_timeout = 0`);
    await client.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK.toString()]);
    try {
      // Only what is missing is created: on a hot standby an up-to-date schema must open without a write.
      const hasSchema = schema && (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).rowCount;
      if (schema && !hasSchema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const exists = (await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations') AS t`)).rows[0]!.t !== null;
      if (!exists)
        await client.query(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const current = (await client.query<{ v: number }>(`SELECT coalesce(max(version), 0) AS v FROM schema_migrations`)).rows[0]!.v;
      if (current > PG_MIGRATIONS.length) throw new SchemaTooNewError(current, PG_MIGRATIONS.length);
      for (let v = current; v < PG_MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(PG_MIGRATIONS[v]!);
          await client.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [v + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK.toString()]).catch((e: Error) => (broken = e));
    }
  } catch (err) {
    if (!sqlState(err)) broken ??= err as Error;
    throw err;
  } finally {
    // The session carries statement_timeout = 0: it is not given back to the pool.
    client.release(broken ?? true);
  }
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A parameterised statement as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of at every execution (docs/performance.md). The name is a hash
 * of the text, so one name never stands for two texts.
 */
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = STATEMENT_NAMES.get(text);
  if (name === undefined) {
    name = `at_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    // The texts are a fixed set (filters add placeholders, never values); the bound is a safety net.
    if (STATEMENT_NAMES.size < 1_000) STATEMENT_NAMES.set(text, name);
  }
  return { name, text, values };
}
const STATEMENT_NAMES = new Map<string, string>();

/**
 * A prepared `SELECT *` whose table a newer release's migration changed (a rolling upgrade): the
 * connection's plans are stale, and the statement runs again on a fresh connection.
 */
function stalePlan(err: unknown): boolean {
  return sqlState(err) === '0A000' && /cached plan must not change result type/.test((err as Error).message);
}

function retryable(err: unknown): boolean {
  const code = sqlState(err);
  // 23505 on the active-key index: another replica opened the group first; a rerun joins its incident.
  return (
    code !== undefined &&
    (RETRYABLE.has(code) || (code === '23505' && (err as { constraint?: string }).constraint === 'incidents_active_key'))
  );
}

/** A failure that a retry may cure becomes StoreUnavailableError (503); anything else is thrown as it is. */
function translate(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || err instanceof ConfigError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (/Cannot use a pool after calling end/.test(message)) return new StoreUnavailableError('PostgreSQL store is closed', { cause: err });
  const state = sqlState(err);
  if (
    (state && TRANSIENT_SQLSTATE.test(state)) ||
    (typeof code === 'string' && TRANSIENT_NODE.has(code)) ||
    (!state && TRANSIENT_MESSAGE.test(message))
  ) {
    return new StoreUnavailableError(`PostgreSQL store unavailable (${typeof code === 'string' ? code : 'connection'}): ${message}`, {
      cause: err,
    });
  }
  return err;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
