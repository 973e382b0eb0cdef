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
  /** The code sent to it, until it is verified; at most VERIFY_ATTEMPTS tries before it expires. */
  pending?: { code: string; expiresAt: number; attempts: number } | undefined;
  /** Failed for good: skipped until fixed (verified again, or START by text). */
  failed?: { reason: string; at: number } | undefined;
}

/** A person's document in the store. */
export interface PersonSettings {
  methods: ContactMethod[];
  rules?: PersonalRules | undefined;
  /** The person's own IANA time zone: schedule pages, notices and feeds' display show times in it. */
  timeZone?: string | undefined;
}

export const NO_SETTINGS: PersonSettings = { methods: [] };
export const VERIFY_TTL_MS = 10 * 60_000;
export const VERIFY_ATTEMPTS = 5;

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
  const added: ContactMethod = { method, address, addedAt: now, pending: { code, expiresAt: now + VERIFY_TTL_MS, attempts: 0 } };
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
  const ok = m.pending.code === code.trim();
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
