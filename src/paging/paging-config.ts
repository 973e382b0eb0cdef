import { isTimeZone } from './zoned-time.js';
import { instantOf } from './zoned-time.js';
import type { Rotation } from './oncall.js';
import type { RawPaging } from './paging-schema.js';
import { parseDuration } from '../incidents/duration.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';

/** A person who can be paged, with the roles of the plan's Emergency Contacts table. */
export interface Contact {
  id: string;
  name: string;
  email?: string | undefined;
  slack?: string | undefined;
  roles: string[];
}

/** Where a new incident of one severity is announced and whom it pages. */
export interface Route {
  channels: string[];
  /** Contact ids, roles, or `oncall` (whoever is on call at that moment). */
  notify: string[];
  email: boolean;
}

/** What happens while nobody acknowledges. */
export interface EscalationPolicy {
  steps: { afterMs: number; notify: string[] }[];
  repeatMs: number;
  maxReminders: number;
}

/** Who gets paged, how and when (contacts, rotation, routing, escalation). */
export interface PagingConfig {
  contacts: Contact[];
  rotation: Rotation | null;
  routing: Record<Severity, Route>;
  escalation: Record<Severity, EscalationPolicy>;
}

/** The plan's defaults: who is told about each severity when the config does not say. */
const DEFAULT_ROUTING: Record<Severity, Route> = {
  critical: { channels: ['#security-incident'], notify: ['oncall', 'security-lead', 'cto'], email: true },
  high: { channels: ['#incidents'], notify: ['oncall', 'devops'], email: true },
  medium: { channels: ['#incidents'], notify: ['oncall'], email: false },
  low: { channels: ['#alerts'], notify: [], email: false },
};

export const ONCALL = 'oncall';

/**
 * Checks and resolves the paging sections. `fail(key, message)` throws the loader's error, so a
 * problem names the file and the key (`oncall.members[2]: no contact "zoe"`).
 */
export function parsePaging(raw: RawPaging, fail: (key: string, message: string) => never): PagingConfig {
  const contacts: Contact[] = (raw.contacts ?? []).map((c) => ({ id: c.id, name: c.name, email: c.email, slack: c.slack, roles: c.roles ?? [] }));
  const ids = new Set<string>();
  contacts.forEach((c, i) => {
    if (ids.has(c.id)) fail(`contacts[${i}].id`, `"${c.id}" is used by an earlier contact`);
    ids.add(c.id);
  });
  const roles = new Set(contacts.flatMap((c) => c.roles));
  const checkTargets = (key: string, list: string[]) =>
    list.forEach((target, i) => {
      if (target !== ONCALL && !ids.has(target) && !roles.has(target)) fail(`${key}[${i}]`, `"${target}" is neither a contact id, a role of a contact, nor "oncall"`);
    });

  let rotation: Rotation | null = null;
  if (raw.oncall) {
    const o = raw.oncall;
    if (!isTimeZone(o.timeZone)) fail('oncall.timeZone', `"${o.timeZone}" is not an IANA time zone such as Europe/Paris`);
    o.members.forEach((m, i) => ids.has(m) || fail(`oncall.members[${i}]`, `no contact "${m}"`));
    const [y, mo, d] = o.start.split('-').map(Number) as [number, number, number];
    const [hour, minute] = o.handoff.split(':').map(Number) as [number, number];
    const n = Number(o.rotation.slice(0, -1));
    const lengthDays = o.rotation.endsWith('w') ? n * 7 : n;
    if (lengthDays < 1) fail('oncall.rotation', 'must be at least 1d');
    rotation = {
      members: o.members,
      lengthDays,
      handoff: { hour, minute },
      timeZone: o.timeZone,
      start: { year: y, month: mo, day: d },
      overrides: (o.overrides ?? []).map((ov, i) => {
        if (!ids.has(ov.contact)) fail(`oncall.overrides[${i}].contact`, `no contact "${ov.contact}"`);
        const from = instant(ov.from, o.timeZone) ?? fail(`oncall.overrides[${i}].from`, `"${ov.from}" is not a date-time such as 2026-12-24T09:00`);
        const to = instant(ov.to, o.timeZone) ?? fail(`oncall.overrides[${i}].to`, `"${ov.to}" is not a date-time such as 2026-12-26T09:00`);
        if (to <= from) fail(`oncall.overrides[${i}].to`, 'must be after from');
        return { from, to, contact: ov.contact };
      }),
    };
  }

  const routing = {} as Record<Severity, Route>;
  const escalation = {} as Record<Severity, EscalationPolicy>;
  for (const s of SEVERITIES) {
    const r = raw.routing?.[s];
    routing[s] = {
      channels: r?.channels ?? DEFAULT_ROUTING[s].channels,
      notify: r?.notify ?? DEFAULT_ROUTING[s].notify.filter((t) => t === ONCALL || roles.has(t) || ids.has(t)),
      email: r?.email ?? DEFAULT_ROUTING[s].email,
    };
    if (r?.notify) checkTargets(`routing.${s}.notify`, r.notify);
    if (routing[s].notify.includes(ONCALL) && !rotation && r?.notify) fail(`routing.${s}.notify`, '"oncall" needs an oncall rotation');
    const e = raw.escalation?.[s];
    const steps = (e?.steps ?? []).map((step, i) => {
      checkTargets(`escalation.${s}.steps[${i}].notify`, step.notify);
      return { afterMs: parseDuration(step.after)!, notify: step.notify };
    });
    steps.forEach((step, i) => {
      if (i > 0 && step.afterMs <= steps[i - 1]!.afterMs) fail(`escalation.${s}.steps[${i}].after`, 'must be later than the step before');
    });
    escalation[s] = { steps, repeatMs: parseDuration(e?.repeat ?? '15m')!, maxReminders: e?.maxReminders ?? 3 };
  }
  return { contacts, rotation, routing, escalation };
}

/** An ISO date-time; without an offset it is read as wall time in `timeZone`. */
function instant(text: string, timeZone: string): number | undefined {
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  return instantOf({ year: y, month: mo, day: d, hour: h, minute: mi }, timeZone);
}
