import type { Role } from '../people/role.js';
import { matchAll, parseMatcher, type Labels, type Matcher } from '../classify/matcher.js';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import { parseDuration } from '../incidents/duration.js';
import type { Rotation } from './oncall.js';
import type { RawEscalation, RawOncall, RawPaging, RawRouting, RawRules } from './paging-schema.js';
import { DEFAULT_RULES, E164, ordered, type NotificationRules } from './notification-rules.js';
import { instantOf, isCalendarDate, isTimeZone, parseOffsetDateTime } from './zoned-time.js';

/** A person who can be paged, with the roles of the plan's Emergency Contacts table. */
export interface Contact {
  id: string;
  name: string;
  email?: string | undefined;
  slack?: string | undefined;
  /** The number calls and texts go to (E.164), unless `addresses` names one for sms or voice. */
  phone?: string | undefined;
  /** Addresses on other channels, by channel name. */
  addresses?: Readonly<Record<string, string>> | undefined;
  roles: string[];
  /** What this person may do on the pages and the API (default: people.defaultRole). */
  access?: Role | undefined;
}

/** A room on some channel that a route announces incidents in. */
export interface Room {
  channel: string;
  target: string;
}

/** How `contact` is reached, or mentioned, on `channel`: its Slack member ID, its e-mail, or its address there. */
export function addressOn(contact: Contact, channel: string): string | undefined {
  if (channel === 'slack') return contact.slack;
  if (channel === 'email') return contact.email;
  if (channel === 'sms' || channel === 'voice') return contact.addresses?.[channel] ?? contact.phone;
  return contact.addresses?.[channel];
}

/** Where a new incident of one severity is announced and whom it pages. */
export interface Route {
  /** Slack channels (#name or ID). */
  channels: string[];
  /** Rooms on other channels (`to:` in the config). */
  to: Room[];
  /** Contact ids, roles, or `oncall` (whoever is on call at that moment). */
  notify: string[];
  email: boolean;
  /** Push each paged person's own ntfy topic (contact `addresses: { ntfy: topic }`), one page each. */
  ntfy: boolean;
}

/** What happens while nobody acknowledges. */
export interface EscalationPolicy {
  steps: { afterMs: number; notify: string[] }[];
  repeatMs: number;
  maxReminders: number;
}

/** Whom an incident pages, how and when: the top level's, or its team's. `oncall` means this rotation. */
export interface PagingPolicy {
  rotation: Rotation | null;
  /** Whose run-time overrides apply to `rotation`: the team that owns it, or null for the top level's. */
  rotationOwner: string | null;
  routing: Record<Severity, Route>;
  escalation: Record<Severity, EscalationPolicy>;
  /** How a page reaches each person paged, unless they set their own (notification-rules.ts). */
  rules: NotificationRules;
}

/** A team: incidents whose alerts its matchers select are paged by its own policy. */
export interface Team extends PagingPolicy {
  id: string;
  name: string;
  matchers: Matcher[];
}

/** Who gets paged, how and when (contacts, rotation, routing, escalation), and the teams, first match first. */
export interface PagingConfig extends PagingPolicy {
  contacts: Contact[];
  teams: Team[];
  /** Where a drill pages, whatever its severity and team, unless it is live (see incidents/drill.ts). */
  drill: Route;
  /** How far ahead the on-call calendar feeds reach. */
  calendarHorizonMs: number;
}

/** Without a drill section, a drill pages nobody but the person running it (fire --to). */
const DEFAULT_DRILL_ROUTE: Route = { channels: [], to: [], notify: [], email: true, ntfy: false };

/** The plan's defaults: who is told about each severity when the config does not say. */
const DEFAULT_ROUTING: Record<Severity, Route> = {
  critical: { channels: ['#security-incident'], to: [], notify: ['oncall', 'security-lead', 'cto'], email: true, ntfy: false },
  high: { channels: ['#incidents'], to: [], notify: ['oncall', 'devops'], email: true, ntfy: false },
  medium: { channels: ['#incidents'], to: [], notify: ['oncall'], email: false, ntfy: false },
  low: { channels: ['#alerts'], to: [], notify: [], email: false, ntfy: false },
};

/** Without an escalation section: no steps, three reminders fifteen minutes apart. */
const DEFAULT_ESCALATION: Record<Severity, EscalationPolicy> = Object.fromEntries(
  SEVERITIES.map((s): [Severity, EscalationPolicy] => [s, { steps: [], repeatMs: 15 * 60_000, maxReminders: 3 }]),
) as Record<Severity, EscalationPolicy>;

export const ONCALL = 'oncall';

/** The team whose matchers select these labels: the group's common labels first, then each alert's; first team wins. */
export function teamFor(teams: readonly Team[], labelSets: readonly Labels[]): Team | undefined {
  for (const labels of labelSets) {
    const team = teams.find((t) => matchAll(t.matchers, labels));
    if (team) return team;
  }
  return undefined;
}

/** The policy that pages for an incident of `team` (or of no team). */
export function policyFor(paging: PagingConfig, team: string | null): PagingPolicy {
  return (team !== null && paging.teams.find((t) => t.id === team)) || paging;
}

type Fail = (key: string, message: string) => never;

/**
 * Builds the paging domain from the config's paging sections, checking what the schema cannot:
 * `fail(key, message)` throws the loader's error, so a problem names the file and the key
 * (`oncall.members[2]: no contact "zoe"`).
 */
export function parsePaging(raw: RawPaging, fail: Fail): PagingConfig {
  const contacts: Contact[] = (raw.contacts ?? []).map((c) => ({
    id: c.id,
    name: c.name,
    email: c.email,
    slack: c.slack,
    ...(c.phone ? { phone: c.phone } : {}),
    ...(c.addresses ? { addresses: c.addresses } : {}),
    roles: c.roles ?? [],
    ...(c.access ? { access: c.access } : {}),
  }));
  const ids = new Set<string>();
  contacts.forEach((c, i) => {
    if (ids.has(c.id)) fail(`contacts[${i}].id`, `"${c.id}" is used by an earlier contact`);
    ids.add(c.id);
    for (const method of ['sms', 'voice']) {
      const number = c.addresses?.[method];
      if (number !== undefined && !E164.test(number))
        fail(`contacts[${i}].addresses.${method}`, `"${number}" is not an E.164 number such as +33612345678`);
    }
  });
  const roles = new Set(contacts.flatMap((c) => c.roles));
  const known = { ids, roles };

  const rotation = raw.oncall ? parseRotation(raw.oncall, 'oncall', ids, fail) : null;
  const defaults: Record<Severity, Route> = Object.fromEntries(
    SEVERITIES.map((s) => [
      s,
      { ...DEFAULT_ROUTING[s], notify: DEFAULT_ROUTING[s].notify.filter((t) => t === ONCALL || roles.has(t) || ids.has(t)) },
    ]),
  ) as Record<Severity, Route>;
  const top: PagingPolicy = {
    rotation,
    rotationOwner: null,
    routing: parseRouting(raw.routing, 'routing', defaults, rotation, known, fail),
    escalation: parseEscalation(raw.escalation, 'escalation', DEFAULT_ESCALATION, known, fail),
    rules: parseRules(raw.notificationRules, DEFAULT_RULES),
  };

  const teamIds = new Set<string>();
  const teams = (raw.teams ?? []).map((t, i): Team => {
    const key = `teams[${i}]`;
    if (teamIds.has(t.id)) fail(`${key}.id`, `"${t.id}" is used by an earlier team`);
    teamIds.add(t.id);
    const matchers = t.match.map((text, j) => {
      try {
        return parseMatcher(text);
      } catch (err) {
        return fail(`${key}.match[${j}]`, (err as Error).message);
      }
    });
    const teamRotation = t.oncall ? parseRotation(t.oncall, `${key}.oncall`, ids, fail) : null;
    // A team's "oncall" is its own rotation; without one it is the top level's.
    const own = teamRotation ?? rotation;
    return {
      id: t.id,
      name: t.name,
      matchers,
      rotation: own,
      rotationOwner: teamRotation ? t.id : null,
      routing: parseRouting(t.routing, `${key}.routing`, top.routing, own, known, fail),
      escalation: parseEscalation(t.escalation, `${key}.escalation`, top.escalation, known, fail),
      rules: parseRules(t.notificationRules, top.rules),
    };
  });
  const drill = raw.drill ? parseRoute(raw.drill, 'drill', DEFAULT_DRILL_ROUTE, rotation, known, fail) : DEFAULT_DRILL_ROUTE;
  const calendarHorizonMs = raw.calendar?.horizon !== undefined ? parseDuration(raw.calendar.horizon)! : 90 * 86_400_000;
  if (calendarHorizonMs < 86_400_000 || calendarHorizonMs > 731 * 86_400_000) fail('calendar.horizon', 'must be between 1d and 731d');
  return { contacts, ...top, teams, drill, calendarHorizonMs };
}

function checkTargets(key: string, list: string[], known: { ids: Set<string>; roles: Set<string> }, fail: Fail): void {
  list.forEach((target, i) => {
    if (target !== ONCALL && !known.ids.has(target) && !known.roles.has(target))
      fail(`${key}[${i}]`, `"${target}" is neither a contact id, a role of a contact, nor "oncall"`);
  });
}

function parseRotation(o: RawOncall, key: string, ids: Set<string>, fail: Fail): Rotation {
  if (!isTimeZone(o.timeZone)) fail(`${key}.timeZone`, `"${o.timeZone}" is not an IANA time zone such as Europe/Paris`);
  o.members.forEach((m, i) => ids.has(m) || fail(`${key}.members[${i}]`, `no contact "${m}"`));
  const [y, mo, d] = o.start.split('-').map(Number) as [number, number, number];
  // The schema checks the shape; the calendar checks the day (2026-02-30 does not exist).
  if (!isCalendarDate(y, mo, d)) fail(`${key}.start`, `"${o.start}" is not a date`);
  const [hour, minute] = o.handoff.split(':').map(Number) as [number, number];
  const n = Number(o.rotation.slice(0, -1));
  const lengthDays = o.rotation.endsWith('w') ? n * 7 : n;
  if (lengthDays < 1) fail(`${key}.rotation`, 'must be at least 1d');
  return {
    members: o.members,
    lengthDays,
    handoff: { hour, minute },
    timeZone: o.timeZone,
    start: { year: y, month: mo, day: d },
    handoffNotices: o.handoffNotices ?? true,
    ...(o.handoffChannel ? { handoffChannel: o.handoffChannel } : {}),
    ...(o.slackUsergroup ? { slackUsergroup: o.slackUsergroup.replace(/^@/, '') } : {}),
    overrides: (o.overrides ?? []).map((ov, i) => {
      if (!ids.has(ov.contact)) fail(`${key}.overrides[${i}].contact`, `no contact "${ov.contact}"`);
      const from =
        instant(ov.from, o.timeZone) ?? fail(`${key}.overrides[${i}].from`, `"${ov.from}" is not a date-time such as 2026-12-24T09:00`);
      const to = instant(ov.to, o.timeZone) ?? fail(`${key}.overrides[${i}].to`, `"${ov.to}" is not a date-time such as 2026-12-26T09:00`);
      if (to <= from) fail(`${key}.overrides[${i}].to`, 'must be after from');
      return { from, to, contact: ov.contact };
    }),
  };
}

/** Routing per severity; what a severity leaves out comes from `base` (the plan's defaults, or the top level's for a team). */
function parseRouting(
  raw: RawRouting | undefined,
  key: string,
  base: Record<Severity, Route>,
  rotation: Rotation | null,
  known: { ids: Set<string>; roles: Set<string> },
  fail: Fail,
): Record<Severity, Route> {
  const routing = {} as Record<Severity, Route>;
  for (const s of SEVERITIES) {
    const r = raw?.[s];
    routing[s] = r ? parseRoute(r, `${key}.${s}`, base[s], rotation, known, fail) : base[s];
  }
  return routing;
}

/** One route; what it leaves out comes from `base`. */
function parseRoute(
  r: NonNullable<RawRouting['low']>,
  key: string,
  base: Route,
  rotation: Rotation | null,
  known: { ids: Set<string>; roles: Set<string> },
  fail: Fail,
): Route {
  const to = r.to?.map((text) => ({ channel: text.slice(0, text.indexOf(':')), target: text.slice(text.indexOf(':') + 1) }));
  if (r.notify) {
    checkTargets(`${key}.notify`, r.notify, known, fail);
    if (r.notify.includes(ONCALL) && !rotation) fail(`${key}.notify`, '"oncall" needs an oncall rotation');
  }
  return {
    channels: r.channels ?? base.channels,
    to: to ?? base.to,
    notify: r.notify ?? base.notify,
    email: r.email ?? base.email,
    ntfy: r.ntfy ?? base.ntfy,
  };
}

/** Escalation per severity; what a severity leaves out comes from `base`. */
function parseEscalation(
  raw: RawEscalation | undefined,
  key: string,
  base: Record<Severity, EscalationPolicy>,
  known: { ids: Set<string>; roles: Set<string> },
  fail: Fail,
): Record<Severity, EscalationPolicy> {
  const escalation = {} as Record<Severity, EscalationPolicy>;
  for (const s of SEVERITIES) {
    const e = raw?.[s];
    const steps = e?.steps?.map((step, i) => {
      checkTargets(`${key}.${s}.steps[${i}].notify`, step.notify, known, fail);
      return { afterMs: parseDuration(step.after)!, notify: step.notify };
    });
    steps?.forEach((step, i) => {
      if (i > 0 && step.afterMs <= steps[i - 1]!.afterMs) fail(`${key}.${s}.steps[${i}].after`, 'must be later than the step before');
    });
    escalation[s] = {
      steps: steps ?? base[s].steps,
      repeatMs: e?.repeat !== undefined ? parseDuration(e.repeat)! : base[s].repeatMs,
      maxReminders: e?.maxReminders ?? base[s].maxReminders,
    };
  }
  return escalation;
}

/** Notification rules per severity; a severity left out keeps `base`'s (the plan's defaults, or the top level's for a team). */
function parseRules(raw: RawRules | undefined, base: NotificationRules): NotificationRules {
  const rules = { ...base };
  for (const s of SEVERITIES) {
    const steps = raw?.[s];
    if (steps) rules[s] = ordered(steps.map((step) => ({ method: step.method, afterMs: parseDuration(step.after)! })));
  }
  return rules;
}

/** An ISO date-time; without an offset it is read as wall time in `timeZone`. */
function instant(text: string, timeZone: string): number | undefined {
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(text)) return parseOffsetDateTime(text);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  if (!isCalendarDate(y, mo, d) || h > 23 || mi > 59) return undefined;
  return instantOf({ year: y, month: mo, day: d, hour: h, minute: mi }, timeZone);
}

/** The config key of the route an incident of `team` and `severity` is paged by (`routing.critical`, `teams[0].routing.high`). */
export function routeKey(paging: PagingConfig, team: string | null, severity: Severity): string {
  const i = team === null ? -1 : paging.teams.findIndex((t) => t.id === team);
  return i < 0 ? `routing.${severity}` : `teams[${i}].routing.${severity}`;
}

/**
 * The severities that must reach someone: a Critical or High that pages nobody is an outage of the
 * pager itself (issue 19, point 3).
 */
export const MUST_PAGE: readonly Severity[] = ['critical', 'high'];

/**
 * The routes of `MUST_PAGE` severities, the top level's and each team's, that can reach nobody: no
 * room (Slack channel or `to:`), nobody with an e-mail address to notify (or `email: false`), and no
 * escalation step naming anyone with one (steps page by e-mail). Each names its keys, for the
 * loader's refusal in production and its warning elsewhere. A channel that is routed to but not
 * configured is another check's (config/env.ts pagingProblems, `doctor`).
 */
export function routesReachingNobody(paging: PagingConfig): string[] {
  const policies: [string, PagingPolicy][] = [['', paging], ...paging.teams.map((t, i): [string, PagingPolicy] => [`teams[${i}].`, t])];
  const reachable = (notify: string[], policy: PagingPolicy) =>
    notify.some((target) =>
      target === ONCALL
        ? (policy.rotation?.members ?? []).some((id) => paging.contacts.some((c) => c.id === id && c.email))
        : paging.contacts.some((c) => (c.id === target || c.roles.includes(target)) && c.email),
    );
  const out: string[] = [];
  for (const [prefix, policy] of policies) {
    for (const severity of MUST_PAGE) {
      const route = policy.routing[severity];
      const steps = policy.escalation[severity].steps;
      if (route.channels.length || route.to.length) continue;
      if (route.email && reachable(route.notify, policy)) continue;
      if (steps.some((s) => reachable(s.notify, policy))) continue;
      out.push(
        `${prefix}routing.${severity} and ${prefix}escalation.${severity}: a ${severity} incident would page nobody ` +
          '(no channel, nobody with an e-mail address to notify, no escalation step)',
      );
    }
  }
  return out;
}

/**
 * The config keys whose pages go to `channel` ('slack', 'email', or any `to:` room's channel): the
 * top level's and each team's routing, their escalation steps (which page by e-mail, and in the
 * route's rooms), and the drill route. `doctor` names them when that channel is not configured.
 */
export function routesUsing(paging: PagingConfig, channel: string): string[] {
  const rooms = (r: Route) => (channel === 'slack' && r.channels.length > 0) || r.to.some((room) => room.channel === channel);
  const mails = (r: Route) => channel === 'email' && r.email && r.notify.length > 0;
  const out: string[] = [];
  const policies: [string, PagingPolicy][] = [['', paging], ...paging.teams.map((t, i): [string, PagingPolicy] => [`teams[${i}].`, t])];
  for (const [prefix, policy] of policies) {
    for (const s of SEVERITIES) {
      // What a team inherits from the top level is the very same object: named once, at the top.
      const route = policy.routing[s];
      const inherited = prefix !== '' && route === paging.routing[s];
      if (!inherited && (rooms(route) || mails(route))) out.push(`${prefix}routing.${s}`);
      const steps = policy.escalation[s].steps;
      if (channel === 'email' && !(prefix !== '' && steps === paging.escalation[s].steps))
        steps.forEach((step, i) => step.notify.length && out.push(`${prefix}escalation.${s}.steps[${i}]`));
    }
  }
  if (rooms(paging.drill) || mails(paging.drill)) out.push('drill');
  return out;
}
