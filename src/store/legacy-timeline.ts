import { isSeverity, type Severity } from '../classify/severity.js';
import { parseDuration } from '../incidents/duration.js';
import { ALERTMANAGER, SYSTEM, type ChannelName, type PageEvent, type TimelineEntry } from '../incidents/timeline.js';

// Before migration 3 the timeline was prose. These are the sentences that version wrote, read back
// into typed entries marked `legacy`; anything else is kept, word for word, as a note. Where the
// prose did not carry a field, the entry says the least it can: a person's id is their name, a
// failed page's event is "opened", and Slack members mentioned are counted as "unknown" ones.
// Migration 3 reads with this file: like the migration, it must not change.

type Fields = { [key: string]: unknown };
const time = (text: string | undefined) => (text ? Date.parse(text) : NaN);
/** A duration the sentence had (NaN when it does not parse), or 0 when it had none. */
const ms = (text: string | undefined) => (text ? (parseDuration(text) ?? NaN) : 0);
const SEVERITY_FIELDS = new Set(['severity', 'from', 'to']);
const PAGE_EVENTS = new Set<string>([
  'opened',
  'severity_raised',
  'sla_breached',
  'escalated',
  'reminder',
  'acknowledged',
  'resolved',
] satisfies PageEvent[]);

/** True when every field holds what its kind allows: times and durations parsed, severities and events known. */
function sound(fields: Fields): boolean {
  return Object.entries(fields).every(
    ([k, v]) =>
      !(typeof v === 'number' && Number.isNaN(v)) &&
      (!SEVERITY_FIELDS.has(k) || isSeverity(v)) &&
      (k !== 'event' || PAGE_EVENTS.has(v as string)),
  );
}

/** "Slack #x: …" or "E-mail to a@x, b@y: …": the destination, and the rest of the sentence. */
function destination(detail: string): { channel: ChannelName; target: string; rest: string } | undefined {
  const m = /^(?:Slack (\S+)|E-mail to (.+?)): (.*)$/s.exec(detail);
  if (!m) return undefined;
  return m[1] !== undefined ? { channel: 'slack', target: m[1], rest: m[3]! } : { channel: 'email', target: m[2]!, rest: m[3]! };
}

function people(list: string): { id: string; name: string }[] {
  return list === 'nobody (no contact matches)' ? [] : list.split(', ').map((name) => ({ id: name, name }));
}

/** The fields of a sentence of `kind`, or undefined when it is not one the old version wrote. */
function parse(kind: string, d: string, severity: Severity | undefined): Fields | undefined {
  let m: RegExpExecArray | null;
  switch (kind) {
    case 'opened':
      m = /^Opened as (\w+) by rule (.+) with (\d+) firing alerts?; respond by (\S+) \((\w+) SLA\)$/s.exec(d);
      return m
        ? { actor: ALERTMANAGER, severity: m[1], rule: m[2], firing: Number(m[3]), respondBy: time(m[4]), slaMs: ms(m[5]) }
        : undefined;
    case 'alert_firing':
      m = /^(.*) \(([^()]*)\) firing, (\w+) by rule (.+)$/s.exec(d);
      return m ? { actor: ALERTMANAGER, alertname: m[1], fingerprint: m[2], severity: m[3], rule: m[4] } : undefined;
    case 'alert_resolved':
      m = /^(.*) \(([^()]*)\) resolved$/s.exec(d);
      return m ? { actor: ALERTMANAGER, alertname: m[1], fingerprint: m[2] } : undefined;
    case 'severity_raised':
      m = /^Severity raised from (\w+) to (\w+) by rule (.+) \(alert ([^()]*)\)(?:; respond by (\S+) \((\w+) SLA\))?$/s.exec(d);
      return m
        ? {
            actor: ALERTMANAGER,
            from: m[1],
            to: m[2],
            rule: m[3],
            fingerprint: m[4],
            ...(m[5] ? { respondBy: time(m[5]), slaMs: ms(m[6]) } : {}),
          }
        : undefined;
    case 'sla_breached':
      m = /^No acknowledgement within the (\w+) response time \(deadline (\S+)\)(?:; detected (\w+) late)?$/.exec(d);
      if (m) return { actor: SYSTEM, severity: m[1], respondBy: time(m[2]), lateMs: ms(m[3]) };
      // What the old outbox kept as the note of a missed-deadline page.
      m = /^No acknowledgement by (\S+)$/.exec(d);
      return m && severity ? { actor: SYSTEM, severity, respondBy: time(m[1]), lateMs: 0 } : undefined;
    case 'acknowledged':
    case 'resolved': {
      const verb = kind === 'acknowledged' ? 'Acknowledged' : 'Resolved';
      if ((m = /^Resolved automatically: all (\d+) alerts resolved$/.exec(d)) && kind === 'resolved') {
        return { actor: ALERTMANAGER, by: ALERTMANAGER, via: ALERTMANAGER, alerts: Number(m[1]) };
      }
      if ((m = new RegExp(`^${verb} by ([^:]+) when resolving$`, 's').exec(d)))
        return { actor: m[1], by: m[1], via: 'api', whenResolving: true };
      m = new RegExp(`^${verb} by (.+?)(?:: (.*))?$`, 's').exec(d);
      if (!m) return undefined;
      // The Slack buttons used to say so in the note.
      const slack = m[2] === 'from Slack';
      return { actor: m[1], by: m[1], via: slack ? 'slack' : 'api', ...(m[2] && !slack ? { note: m[2] } : {}) };
    }
    case 'alerts_truncated':
      m = /^Alertmanager left out (\d+) alerts/.exec(d);
      return m ? { actor: ALERTMANAGER, count: Number(m[1]) } : undefined;
    case 'escalated':
      m = /^Escalated \(step (\d+) of (\d+), (\w+) without acknowledgement\): paging (.*)$/s.exec(d);
      return m ? { actor: SYSTEM, step: Number(m[1]), steps: Number(m[2]), unackedMs: ms(m[3]), paged: people(m[4]!) } : undefined;
    case 'reminder':
      m = /^Reminder (\d+) of (\d+): still unacknowledged after (\w+); paging (.*)$/s.exec(d);
      return m
        ? { actor: SYSTEM, reminder: Number(m[1]), maxReminders: Number(m[2]), unackedMs: ms(m[3]), paged: people(m[4]!) }
        : undefined;
    case 'paged': {
      const to = destination(d);
      if (!to) return undefined;
      const base = {
        actor: SYSTEM,
        channel: to.channel,
        target: to.target,
        recipients: to.channel === 'email' ? to.target.split(', ') : [],
      };
      if ((m = /^in a digest of (\d+) pages \(alert storm\)$/.exec(to.rest)))
        return { ...base, event: 'opened', outcome: 'folded', digestOf: Number(m[1]) };
      m = /^([a-z ]+?)(?:, mentioning (\d+))?( \(found already delivered after a restart\))?$/.exec(to.rest);
      if (!m) return undefined;
      // Only the number of people mentioned was written down.
      const mentioned = Array.from({ length: Number(m[2] ?? 0) }, () => 'unknown');
      return {
        ...base,
        ...(to.channel === 'slack' ? { recipients: mentioned } : {}),
        event: m[1]!.replace(' ', '_'),
        outcome: m[3] ? 'found' : 'sent',
      };
    }
    case 'page_failed': {
      const to = destination(d);
      if (!to) return undefined;
      const base = {
        actor: SYSTEM,
        channel: to.channel,
        target: to.target,
        event: 'opened',
        recipients: to.channel === 'email' ? to.target.split(', ') : [],
      };
      if (to.rest === 'rejected by the mail server') return { ...base, outcome: 'rejected', reason: to.rest };
      if ((m = /^not sent, (.*)$/s.exec(to.rest))) return { ...base, outcome: 'skipped', reason: m[1] };
      if ((m = /^(.*) \(gave up after (\d+) attempts\)$/s.exec(to.rest)))
        return { ...base, outcome: 'gave_up', reason: m[1], attempts: Number(m[2]) };
      if ((m = /^(.*) \(not retried\)$/s.exec(to.rest))) return { ...base, outcome: 'failed', reason: m[1] };
      return undefined;
    }
  }
  return undefined;
}

/**
 * One timeline row of the prose era as a typed entry. `severity` is the page's, for the old
 * outbox's missed-deadline note, which did not name it.
 */
export function fromLegacy(kind: string, detail: string, at: number, severity?: Severity): TimelineEntry {
  const fields = parse(kind, detail, severity);
  // The checks above make the cast true: every field of the kind is present and sound.
  return (
    fields && sound(fields) ? { at, kind, ...fields, legacy: true } : { at, actor: SYSTEM, kind: 'note', text: detail, legacy: true }
  ) as TimelineEntry;
}
