import { randomInt } from 'node:crypto';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { Clock } from '../clock.js';
import { formatDuration, parseDuration } from '../incidents/duration.js';
import {
  addNumber,
  clearRules,
  codePacing,
  methodWord,
  NO_SETTINGS,
  normalizeNumber,
  PHONE_METHODS,
  removeNumber,
  VERIFY_ATTEMPTS,
  verifyNumber,
  type PersonSettings,
} from '../paging/contact-methods.js';
import {
  ordered,
  personalRulesProblem,
  ROUTED_METHODS,
  type NotificationRules,
  type PersonalRules,
  type RuleStep,
} from '../paging/notification-rules.js';
import { addressOn, type Contact, type PagingConfig } from '../paging/paging-config.js';
import type { IncidentStore } from '../store/store.js';

// Each person's own numbers and notification rules, as /me shows and changes them: the domain's
// rules (paging/contact-methods.ts, paging/notification-rules.ts) over the person's document in
// the store, and the text that carries a verification code. The code is made here, kept only as
// its digest, and sent once: it is never logged nor shown again.

/** Sends a verification code by text (notify/twilio/verification-text.ts); its errors say what came of it. */
export interface CodeSenderPort {
  from: { sms: string; voice: string };
  send(to: string, code: string): Promise<void>;
}

/** How a send failed, as the service reads a sender's error. */
interface SendFailure {
  message: string;
  retryable?: boolean;
  maybeDelivered?: boolean;
}

export interface ContactServiceDeps {
  store: IncidentStore;
  clock: Clock;
  config: { readonly current: { paging: PagingConfig } };
  /** The Twilio sender, or why there is none. */
  codes: CodeSenderPort | { notConfigured: string };
}

/** One method of one number, as /me shows it. */
export interface MethodView {
  method: string;
  state: 'paged' | 'waiting' | 'failed';
  failed?: { reason: string; at: number } | undefined;
  /** While waiting for the code: until when it stands, and the tries left. */
  pending?: { expiresAt: number; triesLeft: number } | undefined;
}

/** A number of the person's: from the config (an admin's) or their own. */
export interface NumberView {
  address: string;
  source: 'config' | 'own';
  methods: MethodView[];
  /** When a new code may be sent, when it may not be now. */
  resendAt?: number | undefined;
}

/** A call or text that did not reach the person, recently. */
export interface FailureView {
  at: number;
  method: string;
  address: string;
  /** What happened, in words; never a secret. */
  what: string;
  incidentIds: number[];
}

/** A policy whose notification rules the person's own must keep (the top level's, or a team's). */
export interface TeamRules {
  /** The team's name, or undefined for the top level's. */
  team: string | undefined;
  rules: NotificationRules;
}

export interface ContactView {
  contact: Contact;
  numbers: NumberView[];
  /** The top level's rules, and each team's that differ. */
  teams: TeamRules[];
  mine: PersonalRules | undefined;
  /** The methods a rule step may use. */
  methods: string[];
  failures: FailureView[];
  /** The numbers pages come from (for the vCard), when Twilio is configured. */
  from: { sms: string; voice: string } | undefined;
  /** Why no code can be sent, when none can. */
  noCodes: string | undefined;
}

/** What came of a change: done (with what to say), or refused in words. */
export type ContactOutcome = { ok: true; message: string } | { ok: false; status: 400 | 404 | 409 | 429 | 502 | 503; message: string };

const refuse = (status: 400 | 404 | 409 | 429 | 502 | 503, message: string): ContactOutcome => ({ ok: false, status, message });

/** Statuses of a call or text that mean it did not reach the person, in words. */
const FAILED_STATUS: Record<string, Record<string, string>> = {
  sms: { undelivered: 'the text was not delivered (the carrier refused it or the phone is off)', failed: 'Twilio could not send the text' },
  voice: {
    'no-answer': 'the call was not answered',
    busy: 'the line was busy',
    failed: 'Twilio could not place the call',
    canceled: 'the call was canceled',
  },
};
/** How far back /me looks for calls and texts that did not reach the person. */
export const FAILURES_SINCE_MS = 7 * 86_400_000;
/** A rule step may come at most this long after the event. */
const MAX_AFTER_MS = 24 * 3_600_000;
/** At most this many steps per severity. */
export const MAX_STEPS = 8;

/** A number in a log line: enough to tell which, not the whole of it. */
export const maskNumber = (n: string): string => (n.length > 6 ? `${n.slice(0, 3)}…${n.slice(-2)}` : '…');

export class ContactService {
  constructor(private readonly deps: ContactServiceDeps) {}

  private contact(id: string): Contact | undefined {
    return this.deps.config.current.paging.contacts.find((c) => c.id === id);
  }

  /** The rules a person's own must keep: the top level's and each team's (a team may page anyone). */
  teamRules(): TeamRules[] {
    const { paging } = this.deps.config.current;
    const out: TeamRules[] = [{ team: undefined, rules: paging.rules }];
    for (const t of paging.teams) if (JSON.stringify(t.rules) !== JSON.stringify(paging.rules)) out.push({ team: t.name, rules: t.rules });
    return out;
  }

  /** The methods a step may use: the route's (Slack, e-mail), calls and texts, and any the teams' rules name. */
  methods(): string[] {
    const named = this.teamRules().flatMap((t) => SEVERITIES.flatMap((s) => t.rules[s].map((step) => step.method)));
    return [...new Set(['slack', 'email', ...PHONE_METHODS, ...named])];
  }

  async view(contactId: string): Promise<ContactView | undefined> {
    const contact = this.contact(contactId);
    if (!contact) return undefined;
    const now = this.deps.clock.now();
    const s = (await this.deps.store.contactSettings(contact.id)) ?? NO_SETTINGS;
    const numbers: NumberView[] = [];
    const entry = (address: string, source: NumberView['source']) => {
      let n = numbers.find((x) => x.address === address && x.source === source);
      if (!n) numbers.push((n = { address, source, methods: [] }));
      return n;
    };
    for (const method of PHONE_METHODS) {
      const configured = addressOn(contact, method);
      if (!configured) continue;
      const failed = s.methods.find((m) => m.method === method && m.address === configured)?.failed;
      entry(configured, 'config').methods.push({ method, state: failed ? 'failed' : 'paged', failed });
    }
    for (const m of s.methods.filter((x) => x.addedAt !== undefined)) {
      const n = entry(m.address, 'own');
      const state = m.failed ? 'failed' : m.verifiedAt !== undefined ? 'paged' : 'waiting';
      n.methods.push({
        method: m.method,
        state,
        failed: m.failed,
        pending:
          m.pending && state === 'waiting'
            ? { expiresAt: m.pending.expiresAt, triesLeft: Math.max(0, VERIFY_ATTEMPTS - m.pending.attempts) }
            : undefined,
      });
      const pacing = codePacing(s, m.address, now);
      n.resendAt = pacing.ok ? undefined : pacing.until;
    }
    for (const n of numbers) n.methods.sort((a, b) => PHONE_METHODS.indexOf(a.method as never) - PHONE_METHODS.indexOf(b.method as never));
    const codes = this.deps.codes;
    return {
      contact,
      numbers,
      teams: this.teamRules(),
      mine: s.rules,
      methods: this.methods(),
      failures: await this.failures(numbers, now),
      from: 'send' in codes ? codes.from : undefined,
      noCodes: 'send' in codes ? undefined : codes.notConfigured,
    };
  }

  /** Calls and texts to the person's numbers that did not reach them in the last week, newest first. */
  private async failures(numbers: NumberView[], now: number): Promise<FailureView[]> {
    const out: FailureView[] = [];
    for (const n of numbers)
      for (const method of PHONE_METHODS) {
        for (const m of await this.deps.store.phoneMessagesTo(method, n.address, now - FAILURES_SINCE_MS)) {
          const what = FAILED_STATUS[method]![m.status];
          if (what) out.push({ at: m.updatedAt, method, address: n.address, what, incidentIds: m.incidentIds });
        }
        const failed = n.methods.find((x) => x.method === method)?.failed;
        if (failed && failed.at > now - FAILURES_SINCE_MS)
          out.push({ at: failed.at, method, address: n.address, what: `marked failed: ${failed.reason}`, incidentIds: [] });
      }
    return out.sort((a, b) => b.at - a.at).slice(0, 50);
  }

  /** Adds a number (or sends a new code to one waiting) and texts it the code. */
  async addNumber(contactId: string, typed: string, methods: readonly string[]): Promise<ContactOutcome> {
    const normalized = normalizeNumber(typed);
    if ('problem' in normalized) return refuse(400, normalized.problem);
    return this.sendCode(contactId, normalized.number, methods);
  }

  /** A new code to a number waiting for one. */
  async resend(contactId: string, address: string): Promise<ContactOutcome> {
    const s = await this.deps.store.contactSettings(contactId);
    const waiting = s?.methods.filter((m) => m.address === address && m.addedAt !== undefined).map((m) => m.method) ?? [];
    if (!waiting.length) return refuse(404, 'That number is not one of yours: add it first.');
    return this.sendCode(contactId, address, waiting);
  }

  private async sendCode(contactId: string, address: string, methods: readonly string[]): Promise<ContactOutcome> {
    if (!this.contact(contactId)) return refuse(404, 'You are not a contact of the config, so pages never reach you by phone.');
    const codes = this.deps.codes;
    if (!('send' in codes)) return refuse(503, `No code can be sent: ${codes.notConfigured}. Ask an admin.`);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = this.deps.clock.now();
    const added = await this.deps.store.updateContactSettings(contactId, (s) => {
      const next = addNumber(s, address, methods, code, now);
      return 'problem' in next ? { result: next } : { settings: next, result: undefined };
    });
    if (added)
      return refuse(
        'until' in added ? 429 : 400,
        `${sentence(added.problem)}${added.until ? ` Try again ${inWords(added.until - now)}.` : ''}`,
      );
    try {
      await codes.send(address, code);
    } catch (err) {
      const e = err as SendFailure;
      if (e.maybeDelivered)
        return refuse(502, `Twilio did not answer in time: the code may still arrive. If it has not within a minute, send a new one.`);
      // Refused for good (an invalid number, a landline, a STOP): the number is not kept.
      if (e.retryable === false) {
        await this.deps.store.updateContactSettings(contactId, (s) => ({ settings: dropWaiting(s, address), result: undefined }));
        return refuse(400, `Twilio refused to text ${address}: ${e.message}`);
      }
      return refuse(502, `The code could not be sent now (${e.message}). Try again in a minute.`);
    }
    return {
      ok: true,
      message: `A code is on its way to ${address} by text. Type it below within 10 minutes to start getting ${methods.map(methodWord).join(' and ')} there.`,
    };
  }

  /** Checks the code typed for a number. */
  async verify(contactId: string, address: string, code: string): Promise<ContactOutcome> {
    const now = this.deps.clock.now();
    const r = await this.deps.store.updateContactSettings(contactId, (s) => {
      const v = verifyNumber(s, address, code, now);
      return { settings: v.settings === s ? undefined : v.settings, result: v };
    });
    if (!r.verified)
      return refuse(
        400,
        `${address}: ${r.problem ?? 'not verified'}.`.replace(/: ./, (c) => c.toUpperCase()),
      );
    return { ok: true, message: `${address} is verified: pages reach you there from now on.` };
  }

  async remove(contactId: string, address: string): Promise<ContactOutcome> {
    const removed = await this.deps.store.updateContactSettings(contactId, (s) => {
      const next = removeNumber(s, address);
      return next.methods.length === s.methods.length ? { result: false } : { settings: next, result: true };
    });
    return removed
      ? { ok: true, message: `${address} is removed: pages no longer go there.` }
      : refuse(404, 'That number is not one of yours.');
  }

  /**
   * Saves a person's rules from the /me form: for each severity, `<severity>_use` is `team` or
   * `mine`, and `<severity>_method_<i>` / `<severity>_after_<i>` the steps (a blank method skips a row).
   */
  async saveRules(contactId: string, form: Readonly<Record<string, string>>): Promise<ContactOutcome> {
    if (!this.contact(contactId)) return refuse(404, 'You are not a contact of the config.');
    const parsed = parseRulesForm(form, this.methods());
    if ('problem' in parsed) return refuse(400, parsed.problem);
    for (const t of this.teamRules()) {
      const problem = personalRulesProblem(t.rules, parsed.rules);
      if (problem) return refuse(400, `${problem}${t.team ? ` (team ${t.team})` : ''}.`);
    }
    const empty = !Object.keys(parsed.rules).length;
    await this.deps.store.updateContactSettings(contactId, (s) => ({
      settings: empty ? clearRules(s) : { ...s, rules: parsed.rules },
      result: undefined,
    }));
    return { ok: true, message: empty ? 'You follow the team’s rules for every severity.' : 'Your notification rules are saved.' };
  }

  /** A vCard of the numbers pages come from, so a phone lets them through Do Not Disturb. */
  vcard(publicUrl: string | undefined): string | undefined {
    const codes = this.deps.codes;
    if (!('send' in codes)) return undefined;
    const numbers = [...new Set([codes.from.voice, codes.from.sms])];
    const lines = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'N:;alert-triage pages;;;',
      'FN:alert-triage pages',
      'ORG:alert-triage',
      ...numbers.map((n) =>
        n === codes.from.voice && n === codes.from.sms
          ? `TEL;TYPE=CELL,VOICE,MSG:${vcardText(n)}`
          : n === codes.from.voice
            ? `TEL;TYPE=VOICE:${vcardText(n)}`
            : `TEL;TYPE=CELL,MSG:${vcardText(n)}`,
      ),
      ...(publicUrl ? [`URL:${vcardText(publicUrl)}`] : []),
      'NOTE:Calls and texts from these numbers are incident pages. Let them through Do Not Disturb (add this contact to your favourites or emergency bypass).',
      'END:VCARD',
    ];
    return `${lines.join('\r\n')}\r\n`;
  }
}

/** vCard 3.0 text: backslash, comma, semicolon and newlines escaped. */
const vcardText = (s: string) => s.replace(/[\\,;]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n');

/** Removes what waits for a code on `address` (a number Twilio refused); what was verified stays. */
function dropWaiting(s: PersonSettings, address: string): PersonSettings {
  return { ...s, methods: s.methods.filter((m) => !(m.address === address && m.pending && m.verifiedAt === undefined)) };
}

/** A refusal as a sentence: a capital first, a full stop last. */
const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/** "in 42 s", "in 3 min": when something may be tried again. */
function inWords(ms: number): string {
  return ms < 60_000 ? `in ${Math.max(1, Math.ceil(ms / 1000))} s` : `in ${Math.ceil(ms / 60_000)} min`;
}

const SEVERITY_WORD: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

/** The /me rules form, read into a person's rules; every field is checked, none is trusted. */
export function parseRulesForm(
  form: Readonly<Record<string, string>>,
  methods: readonly string[],
): { rules: PersonalRules } | { problem: string } {
  const known = /^(critical|high|medium|low)_(use|method_[0-7]|after_[0-7])$/;
  for (const key of Object.keys(form)) if (key !== '_csrf' && !known.test(key)) return { problem: `Unknown field "${key.slice(0, 40)}".` };
  const rules: PersonalRules = {};
  for (const s of SEVERITIES) {
    const use = form[`${s}_use`] ?? 'team';
    if (use === 'team') continue;
    if (use !== 'mine') return { problem: `${SEVERITY_WORD[s]}: choose the team’s rules or your own.` };
    const steps: RuleStep[] = [];
    for (let i = 0; i < MAX_STEPS; i++) {
      const method = (form[`${s}_method_${i}`] ?? '').trim();
      const after = (form[`${s}_after_${i}`] ?? '').trim();
      if (!method) continue;
      if (!methods.includes(method))
        return { problem: `${SEVERITY_WORD[s]}, step ${i + 1}: "${method.slice(0, 20)}" is not a way pages can reach you.` };
      const ms = parseDuration(after || '0s');
      if (ms === undefined)
        return { problem: `${SEVERITY_WORD[s]}, step ${i + 1}: "${after.slice(0, 20)}" is not a time such as 0s, 1m or 5m.` };
      if (ms > MAX_AFTER_MS) return { problem: `${SEVERITY_WORD[s]}, step ${i + 1}: at most 24h after the page.` };
      steps.push({ method, afterMs: ms });
    }
    rules[s] = ordered(steps);
  }
  return { rules };
}

/** A severity's steps in words: "text at once, call at 1m, call at 5m" (Slack and e-mail come with the route). */
export function stepsInWords(steps: readonly RuleStep[]): string {
  if (!steps.length) return 'nothing';
  return ordered(steps)
    .map(
      (s) =>
        `${ROUTED_METHODS.has(s.method) ? methodWord(s.method) : methodWord(s.method).replace(/s$/, '')} ${s.afterMs ? `at ${formatDuration(s.afterMs)}` : 'at once'}`,
    )
    .join(', ');
}
