import ical, {
  ICalEventTransparency,
  type ICalTemporalInstantStub,
  type ICalTemporalPlainDateTimeStub,
  type ICalTemporalZonedDateTimeStub,
} from 'ical-generator';
import type { Shift } from '../paging/oncall.js';
import { wallTime } from '../paging/zoned-time.js';

/** One rotation's shifts in a feed. */
export interface FeedRotation {
  /** '' for the top level's, else the team id: part of each event's UID. */
  id: string;
  name: string;
  timeZone: string;
  shifts: Shift[];
}

/**
 * An instant in a zone, as the Temporal.ZonedDateTime shape ical-generator reads (a plain Date
 * would be written with the server's own clock under the rotation's TZID).
 */
class ZonedTime implements ICalTemporalZonedDateTimeStub {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  constructor(
    private readonly ms: number,
    readonly timeZoneId: string,
  ) {
    const w = wallTime(ms, timeZoneId);
    this.year = w.year;
    this.month = w.month;
    this.day = w.day;
    this.hour = w.hour;
    this.minute = w.minute;
    this.second = w.second;
  }
  withTimeZone(zone: string): ZonedTime {
    return new ZonedTime(this.ms, zone);
  }
  toInstant(): ICalTemporalInstantStub {
    const iso = new Date(this.ms).toISOString();
    return {
      epochMilliseconds: this.ms,
      toJSON: () => iso,
      toString: () => iso,
      toZonedDateTimeISO: (zone) => new ZonedTime(this.ms, zone),
    };
  }
  toPlainDateTime(): ICalTemporalPlainDateTimeStub {
    const { year, month, day, hour, minute, second } = this;
    const two = (n: number) => String(n).padStart(2, '0');
    const date = `${year}-${two(month)}-${two(day)}`;
    const text = `${date}T${two(hour)}:${two(minute)}:${two(second)}`;
    return {
      year,
      month,
      day,
      hour,
      minute,
      second,
      toZonedDateTime: (zone: string) => new ZonedTime(this.ms, zone),
      toPlainDate: () => ({ year, month, day, toJSON: () => date, toString: () => date }),
      toJSON: () => text,
      toString: () => text,
    };
  }
  toJSON(): string {
    return new Date(this.ms).toISOString();
  }
  toString(): string {
    return `${this.toJSON()}[${this.timeZoneId}]`;
  }
}

/** The zone's offset from UTC at an instant, in minutes. */
function offsetMinutes(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  return Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000) / 60_000);
}

const offsetText = (min: number) => {
  const a = Math.abs(min);
  return `${min < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
};

/**
 * A VTIMEZONE for `zone` between two instants (RFC 5545 asks for one per TZID; Outlook needs it):
 * each change of offset found in that span, as an explicit STANDARD or DAYLIGHT observance.
 */
export function vtimezone(zone: string, from: number, to: number): string {
  const HOUR = 3_600_000;
  const local = (ms: number, off: number) => {
    const d = new Date(ms + off * 60_000);
    const two = (n: number) => String(n).padStart(2, '0');
    return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}00`;
  };
  const lines = ['BEGIN:VTIMEZONE', `TZID:${zone}`];
  const observance = (at: number, before: number, after: number, first: boolean) => {
    // The higher of two offsets a year holds is summer time; a zone without change is STANDARD.
    const kind = !first && after > before ? 'DAYLIGHT' : 'STANDARD';
    lines.push(
      `BEGIN:${kind}`,
      `DTSTART:${local(at, before)}`,
      `TZOFFSETFROM:${offsetText(before)}`,
      `TZOFFSETTO:${offsetText(after)}`,
      `END:${kind}`,
    );
  };
  let prev = offsetMinutes(from, zone);
  observance(from, prev, prev, true);
  // Offsets change at most a few times a year: look day by day, then find the hour.
  for (let day = from; day < to; day += 24 * HOUR) {
    const next = offsetMinutes(day + 24 * HOUR, zone);
    if (next === prev) continue;
    let lo = day;
    let hi = day + 24 * HOUR;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000;
      if (offsetMinutes(mid, zone) === prev) lo = mid;
      else hi = mid;
    }
    observance(hi, prev, next, false);
    prev = next;
  }
  lines.push('END:VTIMEZONE');
  return lines.join('\r\n');
}

/**
 * An iCalendar feed of on-call shifts (a person's, or a rotation's): one event a shift, in the
 * rotation's zone, free/busy-neutral (TRANSP:TRANSPARENT, so a week on call does not block the
 * calendar), with a UID that stays the same from fetch to fetch: a rotation's shift is named by its
 * rotation, person and start (an override that shortens it keeps its UID), an override by its id.
 */
export function calendarFeed(
  name: string,
  rotations: FeedRotation[],
  opts: { now: number; from: number; to: number; host: string; nameOf: (id: string) => string; url?: string | undefined },
): string {
  const zones = [...new Set(rotations.map((r) => r.timeZone))];
  const cal = ical({ name, prodId: { company: 'alert-triage', product: 'on-call' }, ttl: 15 * 60 });
  if (opts.url) cal.url(opts.url);
  // One VTIMEZONE per zone used; ical-generator writes the calendar's, so the first zone is the calendar's.
  if (zones[0]) cal.timezone({ name: zones[0], generator: (zone) => vtimezone(zone, opts.from - 86_400_000, opts.to + 86_400_000) });
  const extra = zones.slice(1).map((z) => vtimezone(z, opts.from - 86_400_000, opts.to + 86_400_000));
  for (const r of rotations) {
    for (const s of r.shifts) {
      const taken = s.taken && 'id' in s.taken ? s.taken : undefined;
      const uid = taken ? `override-${taken.id}@${opts.host}` : `shift-${r.id || 'top-level'}-${s.contact}-${s.from}@${opts.host}`;
      const who = opts.nameOf(s.contact);
      const description = [
        `${who} is on call for ${r.name} (${r.timeZone}).`,
        ...(taken ? [`Override made by ${taken.by}${taken.covers ? `, covering ${opts.nameOf(taken.covers)}` : ''}.`] : []),
      ].join('\n');
      cal.createEvent({
        id: uid,
        start: new ZonedTime(s.from, r.timeZone),
        end: new ZonedTime(s.until, r.timeZone),
        timezone: r.timeZone,
        summary: `On call: ${who} (${r.name})${taken ? ', override' : ''}`,
        description,
        transparency: ICalEventTransparency.TRANSPARENT,
        stamp: new Date(opts.now),
      });
    }
  }
  const text = cal.toString();
  // The other zones' VTIMEZONE blocks go beside the calendar's, before the first event.
  return extra.length ? text.replace('BEGIN:VEVENT', `${extra.join('\r\n')}\r\nBEGIN:VEVENT`) : text;
}
