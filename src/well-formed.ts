/**
 * Text that every store can hold. PostgreSQL refuses a NUL (U+0000) in text and JSON, and a lone
 * surrogate (half of a UTF-16 pair, which no UTF-8 can encode); SQLite takes both. Rather than one
 * store failing for good on input that will never succeed (a webhook answered 500 is retried by
 * Alertmanager forever), text is made well formed at the edges where it enters: each NUL and each
 * lone surrogate becomes U+FFFD, the replacement character. docs/configuration.md says so.
 */

export const REPLACEMENT = '\uFFFD';

// isWellFormed/toWellFormed are ES2024 (V8 11.3, Node 20); the project's lib is ES2022.
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** True when `s` holds a NUL or a lone surrogate. Native scans: cheap on the hot path. */
export function isIllFormed(s: string): boolean {
  return s.includes('\0') || !(s as unknown as Es2024String).isWellFormed();
}

/** `s` with each NUL and each lone surrogate replaced by U+FFFD; `s` itself when it has none. */
export function wellFormedText(s: string): string {
  if (!isIllFormed(s)) return s;
  return (s as unknown as Es2024String).toWellFormed().replaceAll('\0', REPLACEMENT);
}

/**
 * `value` with every string in it, object keys included, made well formed. Copies only what
 * changes: a value with nothing to mend is returned as it is, so the common case allocates nothing.
 */
export function wellFormedDeep<T>(value: T): T {
  return mapStrings(value, wellFormedText) as T;
}

/**
 * `value` with `fn` applied to every string in it, keys included; copies only what changes. Loops,
 * with no closure or entry array made per call: every statement's arguments pass through here.
 */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const m = typeof v === 'string' ? fn(v) : v === null || typeof v !== 'object' ? v : mapStrings(v, fn);
      if (m !== v) (out ??= value.slice())[i] = m;
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  // Only plain records: a Buffer, a Date or a Map is not text.
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = record[k];
    const mk = fn(k);
    const mv = mapStrings(v, fn);
    if (!out && (mk !== k || mv !== v)) {
      out = Object.create(proto) as Record<string, unknown>;
      for (let j = 0; j < i; j++) out[keys[j]!] = record[keys[j]!];
    }
    if (out) out[mk] = mv;
  }
  return out ?? value;
}

// In JSON text (JSON.stringify's output, where both arrive as escapes): \u0000, and a \uD800-\uDFFF
// escape, which JSON.stringify writes only for a lone surrogate (a pair is written as itself). The
// backslashes before it must be even in number, or the "\u" is text (an escaped backslash and "u").
const ILL_FORMED_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})/g;

/**
 * JSON text of `value` that every store can hold: JSON.stringify with NUL and lone surrogates
 * written as U+FFFD. One scan for "\u" when there is nothing to mend.
 */
export function wellFormedJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u') ? json.replace(ILL_FORMED_ESCAPE, '$1\\ufffd') : json;
}

// Bidirectional controls (embeddings, overrides, isolates, marks): text from an alert with U+202E
// in it displays reversed ("gnp.exe" for "exe.png"), and the reversal runs on into what follows.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
const BIDI_CONTROLS_ALL = new RegExp(BIDI_CONTROLS.source, 'g');

/** True when `s` holds a bidirectional control character. */
export function hasBidiControls(s: string): boolean {
  return BIDI_CONTROLS.test(s);
}

/** For plain-text channels: each bidirectional control written visibly, as "[U+202E]", so it acts on nothing. */
export function showBidiControls(s: string): string {
  return hasBidiControls(s) ? s.replace(BIDI_CONTROLS_ALL, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`) : s;
}

/** showBidiControls on every string of a message about to be sent (a Slack payload, an e-mail). */
export function showBidiControlsDeep<T>(value: T): T {
  return mapStrings(value, showBidiControls) as T;
}

/**
 * A JSON request body's parsed value, mended only when its text shows it needs it: NUL and lone
 * surrogates can reach parsed JSON only as \u escapes (a raw NUL is invalid JSON, and a lone
 * surrogate cannot be encoded in UTF-8), so a body without one costs a single scan.
 */
export function wellFormedParsedJson<T>(text: string, parsed: T): T {
  ILL_FORMED_ESCAPE.lastIndex = 0;
  return text.includes('\\u') && ILL_FORMED_ESCAPE.test(text) ? wellFormedDeep(parsed) : parsed;
}
