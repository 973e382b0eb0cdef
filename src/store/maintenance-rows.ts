import { wellFormedJson } from '../well-formed.js';
import type { Engine } from './rows.js';
import type { MaintenanceWindow, NewMaintenanceWindow, WindowMatcher } from './store.js';

// The maintenance_windows table, for both engines: the statements with the engine's placeholders,
// the values in their order, and a row read back.

/** A row of the maintenance_windows table. Matchers and silence ids are JSON text in both engines. */
export interface MaintenanceRow {
  id: number;
  title: string;
  description: string;
  starts_at: number;
  ends_at: number;
  matchers: string;
  silence_ids: string;
  created_by: string;
  created_at: number;
  public: unknown;
  public_text: string;
  cancelled_at: number | null;
  cancelled_by: string | null;
}

export interface MaintenanceSql {
  /** Inserts a window (the values of maintenanceValues), RETURNING the row. */
  add: string;
  /** The row of window $1. */
  byId: string;
  /** Rows not cancelled ending after $1, soonest start first, at most $2. */
  list: string;
  /** The same, public ones only. */
  listPublic: string;
  /** Sets cancelled_at = $1, cancelled_by = $2 of window $3 if not cancelled, RETURNING the row. */
  cancel: string;
}

export function maintenanceSql(e: Engine): MaintenanceSql {
  const p = e.param;
  const list = (publicOnly: boolean) =>
    `SELECT * FROM maintenance_windows WHERE cancelled_at IS NULL AND ends_at > ${p(1)}${publicOnly ? ' AND public' : ''}
       ORDER BY starts_at, id LIMIT ${p(2)}`;
  return {
    add: `INSERT INTO maintenance_windows
       (title, description, starts_at, ends_at, matchers, silence_ids, created_by, created_at, public, public_text)
       VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(p).join(', ')}) RETURNING *`,
    byId: `SELECT * FROM maintenance_windows WHERE id = ${p(1)}`,
    list: list(false),
    listPublic: list(true),
    cancel: `UPDATE maintenance_windows SET cancelled_at = ${p(1)}, cancelled_by = ${p(2)}
       WHERE id = ${p(3)} AND cancelled_at IS NULL RETURNING *`,
  };
}

/** The add statement's values, in order. */
export function maintenanceValues(e: Engine, w: NewMaintenanceWindow): unknown[] {
  return [
    w.title,
    w.description,
    w.startsAt,
    w.endsAt,
    wellFormedJson(w.matchers),
    wellFormedJson(w.silenceIds),
    w.createdBy,
    w.createdAt,
    e.boolParam(w.public),
    w.publicText,
  ];
}

export function toMaintenanceWindow(e: Engine, r: MaintenanceRow): MaintenanceWindow {
  return {
    id: Number(r.id),
    title: r.title,
    description: r.description,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    matchers: JSON.parse(r.matchers) as WindowMatcher[][],
    silenceIds: JSON.parse(r.silence_ids) as string[],
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    public: e.bool(r.public),
    publicText: r.public_text,
    cancelledAt: r.cancelled_at === null ? null : Number(r.cancelled_at),
    cancelledBy: r.cancelled_by,
  };
}
