import { createHash, timingSafeEqual } from 'node:crypto';
import { addressOn, type Contact } from './paging-config.js';
import { E164, personalRulesProblem, type NotificationRules, type PersonalRules } from './notification-rules.js';

// What a person keeps in the store about how they are reached: the numbers they added themselves
// (verified by a code before they can be paged), the methods that failed for good (an invalid
// number, a STOP reply), and their own notification rules. Pure functions over one document per
// person, so that /me, the Twilio routes and the paging decisions share one set of rules.

/** One way to reach a person that they added, or one that failed. */
export interface ContactMethod {
  /** A channel name from the registry: sms, voice, ntfy, ... */
  method: string;
  address: string;
  /** Added by the person: paged only once verified. A method from the config needs no verification. */
  addedAt?: number | undefined;
  verifiedAt?: number | undefined;
  /**
   * The code sent to it, until it is verified, kept as its SHA-256 digest (never the code itself);
   * at most VERIFY_ATTEMPTS tries before it expires.
   */
  pending?: { codeHash: string; expiresAt: number; attempts: number } | undefined;
  /** Failed for good: skipped until fixed (verified again, or START by text). */
  failed?: { reason: string; at: number } | undefined;
}

/** A person's document in the store. */
export interface PersonSettings {
  methods: ContactMethod[];
  rules?: PersonalRules | undefined;
  /** When verification codes were sent to this person's numbers in the last hour (resend pacing). */
  codesSent?: number[] | undefined;
  /** The person's own IANA time zone: schedule pages, notices and feeds' display show times in it. */
  timeZone?: string | undefined;
}

export const NO_SETTINGS: PersonSettings = { methods: [] };
export const VERIFY_TTL_MS = 10 * 60_000;
export const VERIFY_ATTEMPTS = 5;
/** A new code no sooner than this after the last one (a text takes a while to arrive). */
export const RESEND_AFTER_MS = 60_000;
/** At most this many codes an hour to one person, whatever the numbers: /me is no free SMS gateway. */
export const CODES_PER_HOUR = 5;
/** At most this many numbers of a person's own. */
export const MAX_OWN_NUMBERS = 5;
/** The methods a number added on /me may be used for. */
export const PHONE_METHODS = ['sms', 'voice'] as const;

/** The stored form of a verification code. */
export const codeDigest = (code: string): string => createHash('sha256').update(code.trim()).digest('hex');
const sameCode = (hash: string, code: string) => {
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(codeDigest(code), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
};

const same = (m: ContactMethod, method: string, address: string) => m.method === method && m.address === address;

/** Where a person is reached on `method`, and why not when they cannot be. */
export type Reach = { address: string } | { address: string | undefined; skipped: string } | undefined;

/**
 * How `contact` is reached on `method`: the config's address, else a number they added and
 * verified. A method that failed for good is skipped, saying why (undefined: no address at all).
 */
export function reachOn(contact: Contact, method: string, settings: PersonSettings | undefined): Reach {
  const own = settings?.methods ?? [];
  const configured = addressOn(contact, method);
  const candidates = [
    ...(configured ? [configured] : []),
    ...own.filter((m) => m.method === method && m.verifiedAt !== undefined).map((m) => m.address),
  ];
  let lastFailure: { address: string; reason: string } | undefined;
  for (const address of candidates) {
    const failed = own.find((m) => same(m, method, address))?.failed;
    if (!failed) return { address };
    lastFailure = { address, reason: failed.reason };
  }
  return lastFailure
    ? { address: lastFailure.address, skipped: `${method} ${lastFailure.address} failed: ${lastFailure.reason}` }
    : undefined;
}

/** Adds (or re-adds) a number of the person's own, with the code that must come back before it is paged. */
export function addMethod(
  s: PersonSettings,
  method: string,
  address: string,
  code: string,
  now: number,
): PersonSettings | { problem: string } {
  if ((method === 'sms' || method === 'voice') && !E164.test(address))
    return { problem: `${address} is not an E.164 number such as +33612345678` };
  const rest = s.methods.filter((m) => !same(m, method, address));
  const added: ContactMethod = {
    method,
    address,
    addedAt: now,
    pending: { codeHash: codeDigest(code), expiresAt: now + VERIFY_TTL_MS, attempts: 0 },
  };
  return { ...s, methods: [...rest, added] };
}

/** Checks a code: verified (and any failure cleared), or why not; every wrong try counts. */
export function verifyMethod(
  s: PersonSettings,
  method: string,
  address: string,
  code: string,
  now: number,
): { settings: PersonSettings; verified: boolean; problem?: string } {
  const m = s.methods.find((x) => same(x, method, address));
  if (!m?.pending) return { settings: s, verified: false, problem: 'no code was sent to this number; add it again' };
  if (m.pending.expiresAt <= now || m.pending.attempts >= VERIFY_ATTEMPTS)
    return { settings: s, verified: false, problem: 'the code has expired; add the number again for a new one' };
  const ok = sameCode(m.pending.codeHash, code);
  const next: ContactMethod = ok
    ? { method, address, addedAt: m.addedAt, verifiedAt: now }
    : { ...m, pending: { ...m.pending, attempts: m.pending.attempts + 1 } };
  const settings = { ...s, methods: s.methods.map((x) => (x === m ? next : x)) };
  return ok ? { settings, verified: true } : { settings, verified: false, problem: 'wrong code' };
}

export function removeMethod(s: PersonSettings, method: string, address: string): PersonSettings {
  return { ...s, methods: s.methods.filter((m) => !same(m, method, address)) };
}

/** Marks a method failed for good (an invalid number, a STOP reply): skipped until fixed. */
export function markFailed(s: PersonSettings, method: string, address: string, reason: string, at: number): PersonSettings {
  const m = s.methods.find((x) => same(x, method, address));
  const failed = { reason, at };
  if (m) return { ...s, methods: s.methods.map((x) => (x === m ? { ...m, failed } : x)) };
  // A number from the config has no entry of its own until it fails.
  return { ...s, methods: [...s.methods, { method, address, failed }] };
}

/** Clears a failure (START by text, or fixed by hand). */
export function markWorking(s: PersonSettings, method: string, address: string): PersonSettings {
  return {
    ...s,
    methods: s.methods
      .map((m) => (same(m, method, address) ? { ...m, failed: undefined } : m))
      // An entry that only recorded the failure of a configured number has nothing left to say.
      .filter((m) => m.addedAt !== undefined || m.failed !== undefined),
  };
}

/** Saves a person's own rules, unless they would loosen a Critical (see personalRulesProblem). */
export function setRules(s: PersonSettings, team: NotificationRules, rules: PersonalRules): PersonSettings | { problem: string } {
  const problem = personalRulesProblem(team, rules);
  return problem ? { problem } : { ...s, rules };
}

/**
 * A number typed by a person as E.164, or why not. Spaces, dots, dashes and brackets are dropped
 * and a leading 00 read as +, since that is how people write their numbers.
 */
export function normalizeNumber(typed: string): { number: string } | { problem: string } {
  const text = typed.trim();
  if (!text) return { problem: 'Type a number, such as +33612345678.' };
  const plain = text.replace(/[\s.\-()/]/g, '').replace(/^00/, '+');
  if (/^[0-9]+$/.test(plain))
    return { problem: `"${text.slice(0, 40)}" has no country code: write it with + and the country code, such as +33612345678.` };
  if (!E164.test(plain))
    return {
      problem: `"${text.slice(0, 40)}" is not a phone number in the international form: +, the country code, then at most 14 digits.`,
    };
  return { number: plain };
}

/** Whether a code may be sent to `address` at `now`; when not, why and from when it may. */
export function codePacing(s: PersonSettings, address: string, now: number): { ok: true } | { ok: false; until: number; problem: string } {
  const hour = (s.codesSent ?? []).filter((t) => t > now - 3_600_000 && t <= now).sort((a, b) => a - b);
  if (hour.length >= CODES_PER_HOUR)
    return { ok: false, until: hour[hour.length - CODES_PER_HOUR]! + 3_600_000, problem: `at most ${CODES_PER_HOUR} codes an hour` };
  const last = s.methods.filter((m) => m.address === address && m.pending).map((m) => m.pending!.expiresAt - VERIFY_TTL_MS);
  const latest = Math.max(-Infinity, ...last);
  if (latest > now - RESEND_AFTER_MS)
    return { ok: false, until: latest + RESEND_AFTER_MS, problem: 'a code was sent less than a minute ago' };
  return { ok: true };
}

/**
 * Adds a number of the person's own for `methods` (texts, calls, or both), or sends it a new code:
 * each method not yet verified waits for `code`. Paced: a code a minute to a number, CODES_PER_HOUR
 * an hour to a person; at most MAX_OWN_NUMBERS numbers.
 */
export function addNumber(
  s: PersonSettings,
  address: string,
  methods: readonly string[],
  code: string,
  now: number,
): PersonSettings | { problem: string; until?: number } {
  if (!E164.test(address)) return { problem: `${address} is not an E.164 number such as +33612345678` };
  const wanted = [...new Set(methods)].filter((m) => (PHONE_METHODS as readonly string[]).includes(m));
  if (!wanted.length) return { problem: 'Choose texts, calls, or both.' };
  const own = new Set(s.methods.filter((m) => m.addedAt !== undefined).map((m) => m.address));
  if (!own.has(address) && own.size >= MAX_OWN_NUMBERS)
    return { problem: `You have ${MAX_OWN_NUMBERS} numbers already: remove one first.` };
  const pacing = codePacing(s, address, now);
  if (!pacing.ok) return { problem: pacing.problem, until: pacing.until };
  // Methods already verified on this number stay so (and paged); the others wait for the code.
  const verified = (method: string) => s.methods.some((m) => same(m, method, address) && m.verifiedAt !== undefined && !m.failed);
  const pendingOnes = [...new Set([...wanted, ...s.methods.filter((m) => m.address === address && m.pending).map((m) => m.method)])];
  let next: PersonSettings = s;
  for (const method of pendingOnes.filter((m) => !verified(m))) {
    const added = addMethod(next, method, address, code, now);
    if ('problem' in added) return added;
    next = added;
  }
  if (next === s) return { problem: `${address} is verified already for ${wanted.map(methodWord).join(' and ')}.` };
  return { ...next, codesSent: [...(s.codesSent ?? []).filter((t) => t > now - 3_600_000), now] };
}

/** Checks a code typed for `address`: every method waiting on it is verified together. */
export function verifyNumber(
  s: PersonSettings,
  address: string,
  code: string,
  now: number,
): { settings: PersonSettings; verified: boolean; problem?: string } {
  const waiting = s.methods.filter((m) => m.address === address && m.pending);
  if (!waiting.length) return { settings: s, verified: false, problem: 'no code was sent to this number; send one first' };
  if (!/^\s*[0-9]{6}\s*$/.test(code)) return { settings: s, verified: false, problem: 'the code is the 6 digits of the text' };
  let settings = s;
  let result: ReturnType<typeof verifyMethod> = { settings, verified: false };
  for (const m of waiting) {
    result = verifyMethod(settings, m.method, address, code, now);
    settings = result.settings;
  }
  return { ...result, settings };
}

/** Removes a number of the person's own (every method on it); the config's numbers stay. */
export function removeNumber(s: PersonSettings, address: string): PersonSettings {
  return { ...s, methods: s.methods.filter((m) => !(m.address === address && m.addedAt !== undefined)) };
}

/** Goes back to the team's rules for `severities` (all when undefined). */
export function clearRules(s: PersonSettings, severities?: readonly string[]): PersonSettings {
  if (!s.rules) return s;
  if (!severities) return { ...s, rules: undefined };
  const rules = Object.fromEntries(Object.entries(s.rules).filter(([k]) => !severities.includes(k))) as PersonalRules;
  return { ...s, rules: Object.keys(rules).length ? rules : undefined };
}

export const methodWord = (method: string): string =>
  method === 'sms' ? 'texts' : method === 'voice' ? 'calls' : method === 'email' ? 'e-mail' : method === 'slack' ? 'Slack' : method;
