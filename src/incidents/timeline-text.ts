import { formatDuration } from './duration.js';
import type { PageRequest } from './page.js';
import type { PageEvent, PagedPerson, PhoneOutcome, TimelineEntry } from './timeline.js';

// The one place where timeline entries and page events become words: the JSON API's `detail`, the
// report, Slack thread replies and e-mails all read from here.

/** How words show a time: each channel passes its own (Slack's date tokens, the team's zone by e-mail). */
export type TimeFormat = (ms: number) => string;

/** "2026-12-04 21:22 UTC": readable, with its zone; the default where no reader's zone is known. */
export const readableUtc: TimeFormat = (ms) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** What zonedTime shows besides the weekday, day, month and time: the year, and the zone's abbreviation (both by default). */
export interface ZonedTimeParts {
  year?: boolean;
  zone?: boolean;
}

const zonedFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * "Fri, 4 Dec 2026, 22:22 CET": a time in `timeZone` (an IANA name), 24-hour, with its zone; the one
 * way words show a zoned time (e-mails, the CLI, the on-call pages, notices). `parts` leaves out the
 * year ("Fri 4 Dec, 22:22", where a heading names the zone) or the zone.
 */
export function zonedTime(timeZone: string, parts: ZonedTimeParts = {}): TimeFormat {
  const year = parts.year ?? true;
  const zone = parts.zone ?? true;
  const key = `${timeZone}\n${year}\n${zone}`;
  let f = zonedFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      ...(year ? { year: 'numeric' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      ...(zone ? { timeZoneName: 'short' } : {}),
    });
    zonedFormats.set(key, f);
  }
  const format = f;
  // Without the year, "Mon 30 Nov, 09:00" reads better than en-GB's "Mon, 30 Nov, 09:00".
  return year ? (ms) => format.format(ms) : (ms) => format.format(ms).replace(',', '');
}
/** A review field as a sentence: "(empty)" when blank, and a full stop unless it ends with one already. */
const sentence = (text: string) => {
  const t = text.trim();
  return !t ? '(empty).' : /[.!?…)]$/.test(t) ? t : `${t}.`;
};
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const withNote = (text: string, note: string | undefined) => (note ? `${text}: ${note}` : text);

// Names written their own way; any other channel's name is capitalised ("Slack", "Mattermost", "Teams").
const CHANNEL_LABELS: Record<string, string> = { email: 'E-mail', ntfy: 'ntfy', sms: 'Text', voice: 'Call' };

/** How words name a channel: "E-mail", "ntfy", else its name capitalised ("Slack", "Mattermost"). */
export function channelLabel(channel: string): string {
  return CHANNEL_LABELS[channel] ?? channel.charAt(0).toUpperCase() + channel.slice(1);
}

/** "Slack #incidents" or "E-mail to a@x, b@y": how the timeline and the log name a page's destination. */
export function describeTarget(page: Pick<PageRequest, 'channel' | 'target'>): string {
  return page.channel === 'email' ? `E-mail to ${page.target}` : `${channelLabel(page.channel)} ${page.target}`;
}

const PHONE_TEXT: Record<PhoneOutcome, string> = {
  ringing: 'ringing',
  answered: 'answered',
  key_pressed: 'key pressed:',
  no_answer: 'no answer',
  busy: 'busy',
  failed: 'failed',
  hung_up: 'answered, hung up without a key',
  delivered: 'delivered',
  undelivered: 'not delivered',
  replied: 'replied',
  stop: 'replied STOP: texts to this number are skipped until START',
  start: 'replied START: texts resume',
};

const VIA_TEXT = {
  api: '',
  slack: ' in Slack',
  web: ' on the incident page',
  sms: ' by text message',
  phone: ' by phone (a key pressed)',
} as const;

function names(people: PagedPerson[]): string {
  return people.length ? people.map((p) => p.name).join(', ') : 'nobody (no contact matches)';
}

/** One timeline entry in words, e.g. "Acknowledged by Alice Martin: on it". */
export function describeEntry(e: TimelineEntry, time: TimeFormat = readableUtc): string {
  const text = describeKind(e, time);
  // An admin credential acting for someone says so: the name is a claim, not a sign-in.
  return e.recordedBy ? `${text} (recorded with ${e.recordedBy} for this name, not by that person signed in)` : text;
}

function describeKind(e: TimelineEntry, time: TimeFormat): string {
  switch (e.kind) {
    case 'opened':
      return `Opened as ${e.severity} by rule ${e.rule} with ${plural(e.firing, 'firing alert')}; respond by ${time(e.respondBy)} (${formatDuration(e.slaMs)} SLA)`;
    case 'alert_firing':
      return `${e.alertname} (${e.fingerprint}) firing, ${e.severity} by rule ${e.rule}`;
    case 'alerts_changed': {
      const counts = [e.firing ? `${plural(e.firing, 'alert')} firing` : '', e.resolved ? `${plural(e.resolved, 'alert')} resolved` : '']
        .filter(Boolean)
        .join(', ');
      return `${counts} (${e.alertnames.map((n) => `${n.alertname} ×${n.count}`).join(', ')}${e.firing + e.resolved > e.alertnames.reduce((s, n) => s + n.count, 0) ? ', …' : ''})`;
    }
    case 'alert_resolved':
      return `${e.alertname} (${e.fingerprint}) resolved`;
    case 'severity_raised':
      return (
        `Severity raised from ${e.from} to ${e.to} by rule ${e.rule} (alert ${e.fingerprint})` +
        (e.respondBy !== undefined && e.slaMs !== undefined ? `; respond by ${time(e.respondBy)} (${formatDuration(e.slaMs)} SLA)` : '')
      );
    case 'sla_breached':
      return (
        `No acknowledgement within the ${e.severity} response time (deadline ${time(e.respondBy)})` +
        (e.lateMs >= 60_000 ? `; detected ${formatDuration(e.lateMs)} late` : '')
      );
    case 'acknowledged':
      return e.whenResolving
        ? `Acknowledged by ${e.by}${VIA_TEXT[e.via]} when resolving`
        : withNote(`Acknowledged by ${e.by}${VIA_TEXT[e.via]}`, e.note);
    case 'resolved':
      return e.via === 'alertmanager'
        ? `Resolved automatically: all ${e.alerts ?? 0} alerts resolved`
        : withNote(`Resolved by ${e.by}${VIA_TEXT[e.via]}`, e.note);
    case 'alerts_truncated':
      return `Alertmanager left out ${e.count} alerts of this group (max_alerts); set max_alerts: 0 to receive all`;
    case 'escalated':
      return `Escalated (step ${e.step} of ${e.steps}, ${formatDuration(e.unackedMs)} without acknowledgement): paging ${names(e.paged)}`;
    case 'reminder':
      return `Reminder ${e.reminder} of ${e.maxReminders}: still unacknowledged after ${formatDuration(e.unackedMs)}; paging ${names(e.paged)}`;
    case 'paged': {
      if (e.outcome === 'folded') return `${describeTarget(e)}: in a digest of ${e.digestOf ?? 0} pages (alert storm)`;
      const mentioning = e.channel === 'slack' && e.recipients.length ? `, mentioning ${e.recipients.length}` : '';
      return `${describeTarget(e)}: ${e.event.replace('_', ' ')}${mentioning}${e.outcome === 'found' ? ' (found already delivered, not sent again)' : ''}`;
    }
    case 'page_failed':
      switch (e.outcome) {
        case 'skipped':
          // The same word as triage_notifications_total{outcome="skipped"}, so an operator finds one from the other.
          return `${describeTarget(e)}: skipped (not sent): ${e.reason}`;
        case 'rejected':
          return `${describeTarget({ channel: e.channel, target: e.recipients.join(', ') })}: ${e.reason}`;
        case 'gave_up':
          return `${describeTarget(e)}: ${e.reason} (gave up after ${e.attempts ?? 0} attempts)`;
        case 'failed':
          return `${describeTarget(e)}: ${e.reason} (not retried)`;
        case 'stopped':
          return `${describeTarget(e)}: not sent, ${e.reason} before it was due`;
      }
      break;
    case 'page_retrying':
      return (
        `${describeTarget(e)}: attempt ${e.attempt} failed (${e.reason})` +
        (e.unknownOutcome
          ? e.noLookup
            ? '; the outcome is unknown and the channel cannot be asked, so it is sent again and may arrive twice'
            : '; the outcome is unknown, so the channel is checked for the page first'
          : '') +
        `; retrying at ${time(e.nextAttemptAt)}`
      );
    case 'unpaged':
      return `Paged nobody: ${e.route} sends to no channel and notifies no one, and no escalation step pages anyone (counted in triage_incidents_unpaged_total)`;
    case 'phone':
      return `${channelLabel(e.channel)} to ${e.name ?? e.contact} (${e.to}): ${PHONE_TEXT[e.outcome]}${e.digit ? ` ${e.digit}` : ''}${e.detail ? ` (${e.detail})` : ''}${
        e.escalating ? '; the escalation moves on now' : ''
      }`;
    case 'note':
      return e.text;
    case 'checklist':
      return withNote(`${e.state === 'done' ? 'Done' : e.state === 'undone' ? 'Not done' : 'Problem'}: ${e.step}`, e.note);
    case 'review':
      // Each field as a sentence of its own, so that its own punctuation ("cache).") does not run into the next label.
      return `Post-incident review saved. Root cause: ${sentence(e.rootCause)} Impact: ${sentence(e.impact)} Prevention: ${sentence(e.prevention)}`.trimEnd();
    case 'silenced':
      return `Silenced ${e.scope === 'group' ? 'the whole group' : 'one alert'} in Alertmanager (${e.matchers}) ${
        e.untilResolved ? 'until the incident resolves' : `until ${time(e.endsAt)}`
      }${e.untilResolved ? '' : e.keepAfterResolve ? ', kept after the incident resolves' : ', expired when the incident resolves'}; silence ${e.silenceId}`;
    case 'silence_expired':
      return `Silence ${e.silenceId} expired ${e.reason === 'by_hand' ? 'by hand' : 'because the incident resolved'}`;
    case 'silence_ending':
      return `Silence ${e.silenceId} (${e.matchers}) ends at ${time(e.endsAt)} while the incident is still open`;
    case 'status_update':
      return `Status page update (${e.state}): ${e.title}: ${e.message}${e.components.length ? ` [${e.components.map((c) => `${c.id}: ${c.status.replace(/_/g, ' ')}`).join(', ')}]` : ''}${
        e.subscribers ? `; e-mailed to ${e.subscribers} subscriber${e.subscribers === 1 ? '' : 's'}` : ''
      }`;
  }
  return '';
}

const EVENT_TEXT: Record<PageEvent, string> = {
  opened: 'New incident',
  severity_raised: 'Severity raised',
  sla_breached: 'Response deadline missed',
  escalated: 'Escalated',
  reminder: 'Still unacknowledged',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
  silenced: 'Silenced',
  silence_ending: 'Silence ending soon',
  review: 'Post-incident review saved',
  status_update: 'Status page update',
};

/**
 * The one-line text of a page's event, for Slack thread replies and e-mails: "Response deadline
 * missed: No acknowledgement by …", but "Acknowledged by alice: on it" where the entry already
 * names the event, rather than saying it twice.
 */
export function describePage(page: Pick<PageRequest, 'event' | 'cause'>, time: TimeFormat = readableUtc): string {
  const event = EVENT_TEXT[page.event];
  const { cause } = page;
  if (!cause) return event;
  // The headline already says the deadline was missed; the page only adds which deadline.
  if (cause.kind === 'sla_breached') return `${event}: No acknowledgement by ${time(cause.respondBy)}`;
  const entry = describeEntry(cause, time);
  return entry.startsWith(event) ? entry : `${event}: ${entry}`;
}
