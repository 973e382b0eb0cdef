import { severityRank, type Severity } from '../../classify/severity.js';
import { SEVERITY_STYLE } from '../render.js';

// What a text says and a call speaks, and how replies are read: pure functions, table-tested.

/** One incident as a phone page tells it. */
export interface PhoneIncident {
  id: number;
  severity: Severity;
  title: string;
}

/** GSM-7's basic set: a text in it takes 160 characters a segment, one character outside it makes the whole text UCS-2 (70). */
const GSM7 = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
export const SEGMENT = 160;
/** GSM-7 keeps these in its extension table (two characters each): a plain look-alike keeps the text short ("[DRILL]" is "(DRILL)"). */
const LOOKALIKE: Record<string, string> = { '[': '(', ']': ')', '{': '(', '}': ')', '|': '/', '\\': '/', '~': '-', '^': '', '€': 'EUR' };

/**
 * Text as GSM-7 can carry it, so that a page stays one segment: accents dropped where GSM-7 lacks
 * the letter (ł, č), other characters (emoji, bidirectional controls, NUL) as '?', runs of spaces one.
 */
export function gsm7(text: string): string {
  let out = '';
  for (const ch of text.replace(/\s+/g, ' ')) {
    if (GSM7.has(ch)) out += ch;
    else if (ch in LOOKALIKE) out += LOOKALIKE[ch];
    else {
      const plain = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += [...plain].every((c) => GSM7.has(c)) && plain ? plain : '?';
    }
  }
  return out;
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`.replace('…', '.'));

/**
 * "CRITICAL #123 Payments API down. Reply 4 123 to ack, 6 123 to resolve. https://…/incidents/123":
 * one segment, the title cut to fit (no brackets: GSM-7 keeps them in its extension table, two characters each).
 */
export function pageText(i: PhoneIncident, url: string | undefined): string {
  const head = `${SEVERITY_STYLE[i.severity].label.toUpperCase()} #${i.id} `;
  const tail = ` Reply 4 ${i.id} to ack, 6 ${i.id} to resolve.${url ? ` ${url}` : ''}`;
  const title = gsm7(i.title).trim();
  return head + cut(title, Math.max(10, SEGMENT - head.length - tail.length)) + tail;
}

/** A storm folded into one text: "7 new incidents (3 critical); reply 4 to acknowledge all. #12 #13 …". */
export function digestText(items: readonly PhoneIncident[], url: string | undefined): string {
  const critical = items.filter((i) => i.severity === 'critical').length;
  const head = `${items.length} new incidents${critical ? ` (${critical} critical)` : ''}; reply 4 to acknowledge all.`;
  const tail = url ? ` ${url}` : '';
  const ids = [...items].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.id - b.id).map((i) => `#${i.id}`);
  let list = '';
  for (const id of ids) {
    const next = `${list} ${id}`;
    if (head.length + next.length + 2 + tail.length > SEGMENT) {
      list += ' …';
      break;
    }
    list = next;
  }
  return head + list + tail;
}

/** What a call says before the menu. */
export function callSpeech(items: readonly PhoneIncident[]): string {
  if (items.length === 1) {
    const i = items[0]!;
    // Words, not capitals: a speech engine may spell CRITICAL out letter by letter.
    return `${spoken(i.severity)} incident ${i.id}. ${gsm7(i.title)}.`;
  }
  const critical = items.filter((i) => i.severity === 'critical').length;
  return `${items.length} new incidents${critical ? `, ${critical} of them critical` : ''}.`;
}

const spoken = (s: Severity) => s.charAt(0).toUpperCase() + s.slice(1);

export const CALL_MENU = 'Press 4 to acknowledge, 6 to resolve, 5 to escalate to the next person, or 1 to hear this again.';

/** What a reply by text asks for. */
export type Reply =
  { action: 'ack' | 'resolve'; incident?: number | undefined } | { action: 'stop' } | { action: 'start' } | { action: 'help' };

// Twilio's own opt-out and opt-in keywords: it answers them itself and blocks texts after a STOP.
const STOP = /^(stop|stopall|unsubscribe|cancel|end|quit|revoke|optout)$/i;
const START = /^(start|unstop|yes|optin)$/i;

/** Reads a reply: "4 123" or "ack 123" acknowledges 123, "6 123" resolves it; "4" alone means every incident of the last text. */
export function parseReply(body: string): Reply {
  const text = body.trim().replace(/\s+/g, ' ');
  if (STOP.test(text)) return { action: 'stop' };
  if (START.test(text)) return { action: 'start' };
  const m = /^(4|ack|acknowledge|a|6|resolve|res|r)\s*#?\s*([1-9][0-9]{0,15})?$/i.exec(text);
  if (!m) return { action: 'help' };
  const action = /^(4|a)/i.test(m[1]!) ? 'ack' : 'resolve';
  const id = m[2] !== undefined ? Number(m[2]) : undefined;
  return { action, incident: id !== undefined && Number.isSafeInteger(id) ? id : undefined };
}

export const HELP_TEXT = 'Reply 4 123 to acknowledge incident 123, 6 123 to resolve it, or 4 alone for every incident of the last text.';

/** How many texts a person may get in an hour before the rest wait for one digest. */
export const TEXTS_PER_HOUR = 10;

/**
 * Whether one more text may go to a person at `now`, given when their recent texts went: at most
 * `cap` in any hour. When not, `until` is when the oldest of the hour leaves it; what waits until
 * then goes out folded into one digest.
 */
export function textAllowance(sentAt: readonly number[], now: number, cap = TEXTS_PER_HOUR): { ok: true } | { ok: false; until: number } {
  const hour = sentAt.filter((t) => t > now - 3_600_000 && t <= now).sort((a, b) => a - b);
  if (hour.length < cap) return { ok: true };
  return { ok: false, until: hour[hour.length - cap]! + 3_600_000 };
}
