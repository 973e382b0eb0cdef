// Wall-clock time in an IANA time zone, with the standard library only (Intl).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone name. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** A local calendar date and time of day. */
export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

/** The wall-clock time of an instant in a zone. */
export function wallTime(ms: number, timeZone: string): WallTime & { second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    second: Number(parts['second']),
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (e.g. +3_600_000 for CET). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallTime(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the zone's clocks show `w`. A wall time skipped by a DST jump (02:30 on a
 * spring-forward night) is moved forward by the jump (03:30); a repeated one (autumn) is its first
 * occurrence.
 */
export function instantOf(w: WallTime, timeZone: string): number {
  const naive = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  // Try the offsets in force a day either side; the earliest candidate that shows `w` wins.
  const candidates = [...new Set([offsetAt(naive - 86_400_000, timeZone), offsetAt(naive + 86_400_000, timeZone)])]
    .map((off) => naive - off)
    .sort((a, b) => a - b);
  for (const c of candidates) {
    const back = wallTime(c, timeZone);
    if (back.year === w.year && back.month === w.month && back.day === w.day && back.hour === w.hour && back.minute === w.minute) return c;
  }
  // In the gap the clocks jumped over `w`: read it with the offset from before the jump, which lands
  // as far past the jump as `w` was past its start (02:30 becomes 03:30), as Temporal's "compatible" does.
  return naive - offsetAt(naive - 86_400_000, timeZone);
}

/** Days between two calendar dates (b - a), independent of time zones. */
export function daysBetween(a: { year: number; month: number; day: number }, b: { year: number; month: number; day: number }): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

/** The calendar date `n` days after `d`. */
export function addDays(d: { year: number; month: number; day: number }, n: number): { year: number; month: number; day: number } {
  const x = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() };
}

/** True for a day that exists: 2026-02-30 does not (Date would quietly make it March 2). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The shape of an RFC 3339 date-time with an offset (whether the day and time exist is checked apart). */
export const OFFSET_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/**
 * An RFC 3339 date-time with an offset ("2026-12-24T09:00:00+01:00", "…Z") as an instant, or
 * undefined when it is not one or names a day or time that does not exist.
 */
export function parseOffsetDateTime(text: string): number | undefined {
  const m = OFFSET_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s = 0, oh = 0, om = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (!isCalendarDate(y!, mo!, d!) || h! > 23 || mi! > 59 || s > 59 || oh > 23 || om > 59) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
