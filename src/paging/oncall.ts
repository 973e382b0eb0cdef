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
  /** Whose shift it takes over, when it was taken from a shift (the page's "Take this shift"); null otherwise. */
  covers: string | null;
}

/** A run-time override about to be stored. */
export type NewOverride = Omit<RuntimeOverride, 'id'>;

/**
 * The run-time overrides of one rotation, oldest first, so the newest wins where two overlap; when
 * `contacts` is given, those whose contact is not one of them (a reload removed it) are left out, so
 * that nobody removed is ever on call.
 */
export function overridesOf(all: readonly RuntimeOverride[], team: string | null, contacts?: readonly { id: string }[]): RuntimeOverride[] {
  return all.filter((o) => o.team === team && (!contacts || contacts.some((c) => c.id === o.contact))).sort((a, b) => a.id - b.id);
}

/** What an entry of the on-call log records. */
export type OncallLogKind =
  | 'override_added'
  | 'override_ended'
  | 'override_removed'
  | 'override_voided'
  | 'request_made'
  | 'request_accepted'
  | 'request_declined'
  | 'request_cancelled';

/** One change to who is on call, with who made it: the on-call log, as an incident has its timeline. */
export interface OncallLogEntry {
  id: number;
  at: number;
  /** The rotation's owner: a team id, or null for the top level's. */
  team: string | null;
  actor: string;
  kind: OncallLogKind;
  overrideId: number | null;
  /** What changed, in fields (contact, from, to, reason, request…). */
  data: Readonly<Record<string, string | number | null>>;
}

/**
 * A request that someone else answers: `cover` (contact takes `asked`'s shift from `from` to `to`,
 * once `asked` accepts) or `swap` (contact takes `asked`'s shift from swapFrom to swapTo, and
 * `asked` takes contact's from `from` to `to`).
 */
export interface OncallRequest {
  id: number;
  team: string | null;
  kind: 'cover' | 'swap';
  contact: string;
  asked: string;
  from: number;
  to: number;
  swapFrom: number | null;
  swapTo: number | null;
  requestedBy: string;
  status: 'pending' | 'accepted' | 'declined' | 'cancelled';
  createdAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
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
  /** Whether the incoming and outgoing person are told at each handoff (unless false). */
  handoffNotices?: boolean | undefined;
  /** A Slack channel told of each handoff too. */
  handoffChannel?: string | undefined;
  /** A Slack user group (handle or S… ID) kept equal to who is on call. */
  slackUsergroup?: string | undefined;
}

/** One stretch of on-call duty. */
export interface Shift {
  contact: string;
  from: number;
  until: number;
  /** True when an override, not the rotation, put this person on call. */
  override: boolean;
  /** The override that did (a run-time one carries its id, who made it and whose shift it covers). */
  taken?: OncallOverride | RuntimeOverride;
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
      return { contact: o.contact, from: o.from, until, override: true, taken: o };
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

/**
 * The shifts from `from` to `to`, one after the other, overrides applied: the schedule of a page,
 * a feed or an export. At most `max` shifts (a bound for the caller's horizon).
 */
export function shiftsBetween(r: Rotation, from: number, to: number, later: readonly OncallOverride[] = [], max = 2000): Shift[] {
  const out: Shift[] = [];
  for (let at = from; at < to && out.length < max;) {
    const s = shiftAt(r, at, later);
    const prev = out.at(-1);
    // A boundary that changes nothing (the same person, the same reason) is not a new shift.
    if (prev && prev.contact === s.contact && prev.override === s.override && prev.taken === s.taken) prev.until = s.until;
    else out.push({ ...s });
    at = s.until;
  }
  return out;
}

/** What bounds a run-time override (issue 23): it ends within two years, and a rotation holds at most MAX_OPEN_OVERRIDES not yet ended. */
export const MAX_OVERRIDE_AHEAD_MS = 731 * 86_400_000;
export const MAX_OPEN_OVERRIDES = 500;

/** Why an override from `from` to `to` cannot be made at `now`, in words, or undefined when it can. */
export function overrideProblem(from: number, to: number, now: number): string | undefined {
  if (!(to > from)) return 'until must be after from';
  if (to <= now) return 'until is in the past: that override would already have ended';
  if (from < now - 366 * 86_400_000) return 'from is more than a year ago';
  if (to > now + MAX_OVERRIDE_AHEAD_MS) return 'until must be within two years from now';
  return undefined;
}
