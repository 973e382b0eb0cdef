import type { NewOverride, OncallLogEntry, OncallLogKind, OncallRequest, RuntimeOverride } from '../paging/oncall.js';
import { wellFormedJson } from '../well-formed.js';
import type { NewNotice } from '../outbox/page.js';
import { severityRank } from '../classify/severity.js';
import type { CalendarFeed, HandoffClaim, NewCalendarFeed, OverridePage, RequestDecision } from './store.js';

/**
 * The on-call records (overrides, their log, requests, calendar feeds), written once for both
 * engines. Each operation is a generator that yields its statements one at a time and gets their
 * rows back: SQLite runs it synchronously inside one write of its group commit, PostgreSQL inside
 * one transaction (see `drive` in each store). The SQL is the same text with the engine's
 * placeholders; times are epoch ms (BIGINT read as numbers), `data` is JSON held as text.
 */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** An operation: yields statements, gets each one's rows, returns its result. */
export type Op<T> = Generator<Statement, T, Row[]>;
type Row = Record<string, unknown>;

interface OverrideRow {
  id: number;
  team: string | null;
  contact: string;
  from_ms: number;
  until_ms: number;
  created_by: string;
  created_at: number;
  covers: string | null;
}

interface LogRow {
  id: number;
  at: number;
  team: string | null;
  actor: string;
  kind: OncallLogKind;
  override_id: number | null;
  data: string;
}

interface RequestRow {
  id: number;
  team: string | null;
  kind: 'cover' | 'swap';
  contact: string;
  asked: string;
  from_ms: number;
  until_ms: number;
  swap_from_ms: number | null;
  swap_until_ms: number | null;
  requested_by: string;
  status: OncallRequest['status'];
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

interface FeedRow {
  id: number;
  token_hash: string;
  scope: 'contact' | 'team';
  subject: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
}

const toOverride = (r: OverrideRow): RuntimeOverride => ({
  id: Number(r.id),
  team: r.team,
  contact: r.contact,
  from: Number(r.from_ms),
  to: Number(r.until_ms),
  by: r.created_by,
  createdAt: Number(r.created_at),
  covers: r.covers,
});

const toLog = (r: LogRow): OncallLogEntry => ({
  id: Number(r.id),
  at: Number(r.at),
  team: r.team,
  actor: r.actor,
  kind: r.kind,
  overrideId: r.override_id === null ? null : Number(r.override_id),
  data: JSON.parse(r.data) as OncallLogEntry['data'],
});

const num = (v: number | null) => (v === null ? null : Number(v));
const toRequest = (r: RequestRow): OncallRequest => ({
  id: Number(r.id),
  team: r.team,
  kind: r.kind,
  contact: r.contact,
  asked: r.asked,
  from: Number(r.from_ms),
  to: Number(r.until_ms),
  swapFrom: num(r.swap_from_ms),
  swapTo: num(r.swap_until_ms),
  requestedBy: r.requested_by,
  status: r.status,
  createdAt: Number(r.created_at),
  decidedAt: num(r.decided_at),
  decidedBy: r.decided_by,
});

const toFeed = (r: FeedRow): CalendarFeed => ({
  id: Number(r.id),
  tokenHash: r.token_hash,
  scope: r.scope,
  subject: r.subject,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  revokedAt: num(r.revoked_at),
});

/** A rotation's key in the statements: the team, or '' for the top level's (NULL never equals NULL). */
const ownerKey = (team: string | null) => team ?? '';

/**
 * The operations, with the engine's placeholder (`?` or `$n`); `wake`, a statement that tells the
 * other replicas' dispatchers that pages were committed (PostgreSQL's NOTIFY), run after notices are queued.
 */
export function oncallRecords(param: (n: number) => string, wake?: Statement) {
  const p = param;
  const S = (sql: string, params: unknown[]): Statement => ({ sql, params });
  const LIVE = `void_reason IS NULL`;

  /** Queues notices in the outbox, in the transaction of the change they tell about: a notice belongs to no incident. */
  function* enqueue(notices: readonly NewNotice[]): Op<void> {
    for (const n of notices)
      yield S(
        `INSERT INTO outbox (incident_id, channel, target, event, severity, priority, payload, status, next_attempt_at, created_at)
         VALUES (NULL, ${p(1)}, ${p(2)}, 'notice', 'low', ${p(3)}, ${p(4)}, 'pending', ${p(5)}, ${p(5)})`,
        [
          n.channel,
          n.target,
          severityRank('low'),
          wellFormedJson({ mentions: [], recipients: n.recipients, cause: null, notice: n.notice }),
          n.at,
        ],
      );
    if (notices.length && wake) yield wake;
  }

  function* log(e: Omit<OncallLogEntry, 'id'>): Op<void> {
    yield S(
      `INSERT INTO oncall_log (at, team, actor, kind, override_id, data) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
      [e.at, e.team, e.actor, e.kind, e.overrideId, wellFormedJson(e.data)],
    );
  }

  const overrideData = (o: NewOverride | RuntimeOverride) => ({ contact: o.contact, from: o.from, to: o.to, covers: o.covers });

  function* insertOverride(o: NewOverride, maxOpen: number, at: number): Op<RuntimeOverride | undefined> {
    // The bound and the insert in one statement: a rotation never holds more than maxOpen open.
    const [row] = yield S(
      `INSERT INTO oncall_overrides (team, contact, from_ms, until_ms, created_by, created_at, covers)
       SELECT ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}
       WHERE (SELECT count(*) FROM oncall_overrides WHERE COALESCE(team, '') = ${p(8)} AND until_ms > ${p(9)} AND ${LIVE}) < ${p(10)}
       RETURNING id`,
      [o.team, o.contact, o.from, o.to, o.by, o.createdAt, o.covers, ownerKey(o.team), at, maxOpen],
    );
    if (!row) return undefined;
    const stored = { ...o, id: Number(row['id']) };
    yield* log({ at: o.createdAt, team: o.team, actor: o.by, kind: 'override_added', overrideId: stored.id, data: overrideData(o) });
    return stored;
  }

  function* getOverride(id: number): Op<RuntimeOverride | undefined> {
    const [row] = yield S(`SELECT * FROM oncall_overrides WHERE id = ${p(1)} AND ${LIVE}`, [id]);
    return row ? toOverride(row as unknown as OverrideRow) : undefined;
  }

  function* insertRequest(
    r: Omit<OncallRequest, 'id' | 'status' | 'decidedAt' | 'decidedBy'>,
    notices: readonly NewNotice[] = [],
  ): Op<OncallRequest> {
    const [row] = yield S(
      `INSERT INTO oncall_requests (team, kind, contact, asked, from_ms, until_ms, swap_from_ms, swap_until_ms, requested_by, status, created_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, 'pending', ${p(10)}) RETURNING id`,
      [r.team, r.kind, r.contact, r.asked, r.from, r.to, r.swapFrom, r.swapTo, r.requestedBy, r.createdAt],
    );
    const stored: OncallRequest = { ...r, id: Number(row!['id']), status: 'pending', decidedAt: null, decidedBy: null };
    yield* log({
      at: r.createdAt,
      team: r.team,
      actor: r.requestedBy,
      kind: 'request_made',
      overrideId: null,
      data: { request: stored.id, kind: r.kind, contact: r.contact, asked: r.asked, from: r.from, to: r.to },
    });
    yield* enqueue(notices);
    return stored;
  }

  return {
    /** The overrides in force at `at` (the decision's read): by index, never the whole table. */
    *overridesAt(at: number): Op<RuntimeOverride[]> {
      // Sorted here: ORDER BY id would have SQLite walk the whole table in id order instead of using an index.
      const rows = yield S(`SELECT * FROM oncall_overrides WHERE until_ms > ${p(1)} AND from_ms <= ${p(1)} AND ${LIVE}`, [at]);
      return rows.map((r) => toOverride(r as unknown as OverrideRow)).sort((a, b) => a.id - b.id);
    },
    /** When the next override starts after `at`, or null: until then the overrides in force stay the same. */
    *nextOverrideStart(at: number): Op<number | null> {
      const [row] = yield S(`SELECT min(from_ms) AS next FROM oncall_overrides WHERE from_ms > ${p(1)} AND ${LIVE}`, [at]);
      return row?.['next'] === null || row?.['next'] === undefined ? null : Number(row['next']);
    },
    *overridesBetween(from: number, to: number): Op<RuntimeOverride[]> {
      const rows = yield S(`SELECT * FROM oncall_overrides WHERE until_ms > ${p(1)} AND from_ms < ${p(2)} AND ${LIVE} ORDER BY id`, [
        from,
        to,
      ]);
      return rows.map((r) => toOverride(r as unknown as OverrideRow));
    },
    *listOverrides(q: OverridePage): Op<RuntimeOverride[]> {
      const team = q.team === undefined ? '' : `AND COALESCE(team, '') = ${p(4)}`;
      const params: unknown[] = [q.endingAfter, q.afterId ?? 0, q.limit];
      if (q.team !== undefined) params.push(ownerKey(q.team));
      const rows = yield S(
        `SELECT * FROM oncall_overrides WHERE until_ms > ${p(1)} AND id > ${p(2)} AND ${LIVE} ${team} ORDER BY id LIMIT ${p(3)}`,
        params,
      );
      return rows.map((r) => toOverride(r as unknown as OverrideRow));
    },
    getOverride,
    addOverride: insertOverride,
    /** Ends it at `at` (one not yet started is cancelled: void); undefined when there is no such live override. */
    *endOverride(id: number, at: number, by: string): Op<RuntimeOverride | undefined> {
      const o = yield* getOverride(id);
      if (!o || o.to <= at) return undefined;
      if (o.from >= at) yield S(`UPDATE oncall_overrides SET void_reason = ${p(2)} WHERE id = ${p(1)}`, [id, 'cancelled']);
      else yield S(`UPDATE oncall_overrides SET until_ms = ${p(2)} WHERE id = ${p(1)}`, [id, at]);
      yield* log({ at, team: o.team, actor: by, kind: 'override_ended', overrideId: id, data: { ...overrideData(o), endedAt: at } });
      return { ...o, to: Math.max(o.from, at) };
    },
    *deleteOverride(id: number, by: string, at: number): Op<boolean> {
      const o = yield* getOverride(id);
      if (!o) return false;
      yield S(`UPDATE oncall_overrides SET void_reason = ${p(2)} WHERE id = ${p(1)}`, [id, 'removed']);
      yield* log({ at, team: o.team, actor: by, kind: 'override_removed', overrideId: id, data: overrideData(o) });
      return true;
    },
    /** Marks void every override not yet ended whose contact is not in `keep`, with `reason`, and logs each. */
    *voidOverrides(keep: readonly string[], at: number, reason: string): Op<RuntimeOverride[]> {
      const rows = yield S(`SELECT * FROM oncall_overrides WHERE until_ms > ${p(1)} AND ${LIVE} ORDER BY id`, [at]);
      const gone = rows.map((r) => toOverride(r as unknown as OverrideRow)).filter((o) => !keep.includes(o.contact));
      for (const o of gone) {
        yield S(`UPDATE oncall_overrides SET void_reason = ${p(2)} WHERE id = ${p(1)}`, [o.id, reason]);
        yield* log({ at, team: o.team, actor: 'config', kind: 'override_voided', overrideId: o.id, data: { ...overrideData(o), reason } });
      }
      return gone;
    },
    *oncallLog(q: { team?: string | null; limit: number }): Op<OncallLogEntry[]> {
      const rows =
        q.team === undefined
          ? yield S(`SELECT * FROM oncall_log ORDER BY id DESC LIMIT ${p(1)}`, [q.limit])
          : yield S(`SELECT * FROM oncall_log WHERE COALESCE(team, '') = ${p(2)} ORDER BY id DESC LIMIT ${p(1)}`, [
              q.limit,
              ownerKey(q.team),
            ]);
      return rows.map((r) => toLog(r as unknown as LogRow));
    },
    addOncallRequest: insertRequest,
    *getOncallRequest(id: number): Op<OncallRequest | undefined> {
      const [row] = yield S(`SELECT * FROM oncall_requests WHERE id = ${p(1)}`, [id]);
      return row ? toRequest(row as unknown as RequestRow) : undefined;
    },
    /** The pending requests `contact` made or is asked to answer, oldest first. */
    *pendingOncallRequests(contact: string): Op<OncallRequest[]> {
      const rows = yield S(
        `SELECT * FROM oncall_requests WHERE status = 'pending' AND (asked = ${p(1)} OR contact = ${p(1)}) ORDER BY id LIMIT 100`,
        [contact],
      );
      return rows.map((r) => toRequest(r as unknown as RequestRow));
    },
    /**
     * Answers a pending request: its status, and for an acceptance the overrides it makes, with their
     * log entries, in one transaction; undefined when it is not pending any more (answered twice).
     */
    *decideOncallRequest(id: number, d: RequestDecision): Op<{ request: OncallRequest; overrides: RuntimeOverride[] } | undefined> {
      const [row] = yield S(
        `UPDATE oncall_requests SET status = ${p(2)}, decided_at = ${p(3)}, decided_by = ${p(4)} WHERE id = ${p(1)} AND status = 'pending' RETURNING *`,
        [id, d.status, d.at, d.by],
      );
      if (!row) return undefined;
      const request = toRequest(row as unknown as RequestRow);
      const overrides: RuntimeOverride[] = [];
      for (const o of d.status === 'accepted' ? d.overrides : []) {
        const stored = yield* insertOverride(o, d.maxOpen, d.at);
        if (stored) overrides.push(stored);
      }
      yield* log({
        at: d.at,
        team: request.team,
        actor: d.by,
        kind: d.status === 'accepted' ? 'request_accepted' : d.status === 'declined' ? 'request_declined' : 'request_cancelled',
        overrideId: overrides[0]?.id ?? null,
        data: { request: id, kind: request.kind, contact: request.contact, asked: request.asked },
      });
      yield* enqueue(d.notices ?? []);
      return { request, overrides };
    },
    /**
     * Claims the announcement of a handoff (a rotation's shift that starts at `shiftStart`) and queues
     * its notices with it, in one transaction: true for the one caller that claims it, on any replica.
     */
    *claimHandoff(h: HandoffClaim, notices: readonly NewNotice[]): Op<boolean> {
      const rows = yield S(
        `INSERT INTO oncall_handoffs (rotation, shift_start, contact, claimed_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
         ON CONFLICT (rotation, shift_start) DO NOTHING RETURNING shift_start`,
        [h.rotation, h.shiftStart, h.contact, h.at],
      );
      if (!rows.length) return false;
      // The first shift this store sees of a rotation is a baseline, not announced: a service set up
      // (or a database made) in the hour after a handoff does not tell people what they knew already.
      const earlier = yield S(`SELECT 1 FROM oncall_handoffs WHERE rotation = ${p(1)} AND shift_start < ${p(2)} LIMIT 1`, [
        h.rotation,
        h.shiftStart,
      ]);
      if (!earlier.length) return false;
      yield* enqueue(notices);
      return true;
    },
    *addCalendarFeed(f: NewCalendarFeed): Op<CalendarFeed> {
      const [row] = yield S(
        `INSERT INTO calendar_feeds (token_hash, scope, subject, created_by, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}) RETURNING id`,
        [f.tokenHash, f.scope, f.subject, f.createdBy, f.createdAt],
      );
      return { ...f, id: Number(row!['id']), revokedAt: null };
    },
    /** The feed whose token hashes to `hash`, unless revoked. */
    *calendarFeedByHash(hash: string): Op<CalendarFeed | undefined> {
      const [row] = yield S(`SELECT * FROM calendar_feeds WHERE token_hash = ${p(1)} AND revoked_at IS NULL`, [hash]);
      return row ? toFeed(row as unknown as FeedRow) : undefined;
    },
    /** The feeds `createdBy` made and has not revoked, oldest first (for /me). */
    *calendarFeeds(createdBy: string): Op<CalendarFeed[]> {
      const rows = yield S(`SELECT * FROM calendar_feeds WHERE created_by = ${p(1)} AND revoked_at IS NULL ORDER BY id`, [createdBy]);
      return rows.map((r) => toFeed(r as unknown as FeedRow));
    },
    *revokeCalendarFeed(id: number, createdBy: string, at: number): Op<boolean> {
      const rows = yield S(
        `UPDATE calendar_feeds SET revoked_at = ${p(3)} WHERE id = ${p(1)} AND created_by = ${p(2)} AND revoked_at IS NULL RETURNING id`,
        [id, createdBy, at],
      );
      return rows.length > 0;
    },
  };
}

/** The operations' type; each engine's store runs them. */
export type OncallRecords = ReturnType<typeof oncallRecords>;

/** Runs an operation synchronously (SQLite, inside one write): `exec` runs one statement and returns its rows. */
export function driveSync<T>(op: Op<T>, exec: (s: Statement) => Row[]): T {
  let step = op.next();
  while (!step.done) step = op.next(exec(step.value));
  return step.value;
}

/** Runs an operation statement by statement on one connection (PostgreSQL, inside one transaction). */
export async function driveAsync<T>(op: Op<T>, exec: (s: Statement) => Promise<Row[]>): Promise<T> {
  let step = op.next();
  while (!step.done) step = op.next(await exec(step.value));
  return step.value;
}
