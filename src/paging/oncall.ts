import { addDays, daysBetween, instantOf, wallTime, type WallTime } from './zoned-time.js';

/** A dated override: `contact` is on call from `from` to `to` instead of the rotation. */
export interface OncallOverride {
  from: number;
  to: number;
  contact: string;
}

/**
 * An override made at run time (the API), stored in the database: for a team's rotation, or for
 * the top level's when `team` is null.
 */
export interface RuntimeOverride extends OncallOverride {
  id: number;
  team: string | null;
  /** Who made it. */
  by: string;
  createdAt: number;
}

/** The run-time overrides of one rotation, oldest first, so the newest wins where two overlap. */
export function overridesOf(all: readonly RuntimeOverride[], team: string | null): RuntimeOverride[] {
  return all.filter((o) => o.team === team).sort((a, b) => a.id - b.id);
}

/** The on-call rotation from the config, with times already resolved to instants. */
export interface Rotation {
  /** Contact ids in order. */
  members: string[];
  /** Whole days per shift. */
  lengthDays: number;
  /** Local time of day of each handoff, in `timeZone`. */
  handoff: { hour: number; minute: number };
  timeZone: string;
  /** The local date of the first handoff; members[0] starts then. */
  start: { year: number; month: number; day: number };
  overrides: OncallOverride[];
}

/** One stretch of on-call duty. */
export interface Shift {
  contact: string;
  from: number;
  until: number;
  /** True when an override, not the rotation, put this person on call. */
  override: boolean;
}

/**
 * The rotation's shift at `ms`: shifts change at the handoff's local time in the rotation's zone,
 * so a 09:00 handoff stays at 09:00 across DST changes (the shift that spans the change is an
 * hour shorter or longer).
 */
export function rotationShiftAt(r: Rotation, ms: number): Shift {
  // Every page asks who is on call; the answer only changes at a handoff.
  const cached = lastShift.get(r);
  if (cached && cached.from <= ms && ms < cached.until) return cached;
  const shift = computeShift(r, ms);
  lastShift.set(r, shift);
  return shift;
}

const lastShift = new WeakMap<Rotation, Shift>();

function computeShift(r: Rotation, ms: number): Shift {
  const local = wallTime(ms, r.timeZone);
  let days = daysBetween(r.start, local);
  if (local.hour * 60 + local.minute < r.handoff.hour * 60 + r.handoff.minute) days -= 1;
  const index = Math.floor(days / r.lengthDays);
  const fromDate = addDays(r.start, index * r.lengthDays);
  const untilDate = addDays(fromDate, r.lengthDays);
  const at = (d: { year: number; month: number; day: number }): WallTime => ({ ...d, ...r.handoff });
  return {
    contact: r.members[((index % r.members.length) + r.members.length) % r.members.length]!,
    from: instantOf(at(fromDate), r.timeZone),
    until: instantOf(at(untilDate), r.timeZone),
    override: false,
  };
}

/**
 * Who is on call at `ms`, overrides first: the rotation's own (from the config), then `later` ones
 * (made at run time), which win over the rotation and the config's overrides. Where two overlap
 * the one listed last wins.
 */
export function shiftAt(r: Rotation, ms: number, later: readonly OncallOverride[] = []): Shift {
  const base = rotationShiftAt(r, ms);
  const overrides = later.length ? [...r.overrides, ...later] : r.overrides;
  for (let i = overrides.length - 1; i >= 0; i--) {
    const o = overrides[i]!;
    if (o.from <= ms && ms < o.to) {
      // A later-listed override that starts inside this one takes over from its start.
      const until = overrides.slice(i + 1).reduce((u, next) => (next.from > ms && next.from < u ? next.from : u), o.to);
      return { contact: o.contact, from: o.from, until, override: true };
    }
  }
  // An override ending after the handoff starts this shift late; one starting before the next handoff ends it early.
  const from = overrides.reduce((f, o) => (o.to <= ms && o.to > f ? o.to : f), base.from);
  return { ...base, from, until: nextBoundary(overrides, ms, base.until) };
}

function nextBoundary(overrides: readonly OncallOverride[], ms: number, handoff: number): number {
  let next = handoff;
  for (const o of overrides) {
    if (o.from > ms && o.from < next) next = o.from;
    if (o.to > ms && o.to < next) next = o.to;
  }
  return next;
}

/** Who is on call now and who comes next, with the handoff times. */
export function oncallNow(r: Rotation, ms: number, later: readonly OncallOverride[] = []): { current: Shift; next: Shift } {
  const current = shiftAt(r, ms, later);
  let next = shiftAt(r, current.until, later);
  // Skip boundaries that do not change the person (an override of the one already on call).
  for (let i = 0; i < 10 && next.contact === current.contact; i++) next = shiftAt(r, next.until, later);
  return { current, next };
}
