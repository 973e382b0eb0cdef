import { drillOf } from '../incidents/drill.js';
import {
  addressOn,
  ONCALL,
  policyFor,
  routeKey,
  type EscalationPolicy,
  type Contact,
  type PagingConfig,
  type PagingPolicy,
  type Route,
} from './paging-config.js';
import type { Incident, IncidentChange } from '../incidents/model.js';
import type { PageRequest } from '../incidents/page.js';
import { SYSTEM, type EntryOf, type PageEvent, type PagedPerson, type TimelineEntry } from '../incidents/timeline.js';
import { overridesOf, shiftAt, type RuntimeOverride } from './oncall.js';
import { pageTarget } from '../outbox/page.js';
import { reachOn, type PersonSettings } from './contact-methods.js';
import { effectiveRules, personalSteps } from './notification-rules.js';

/** What paging decisions read besides the config and the time. */
export interface PagingFacts {
  /** Channels that cannot send, and why. */
  unconfigured?: Unconfigured;
  /** On-call overrides made at run time (any rotation's; each rotation picks its own). */
  overrides?: readonly RuntimeOverride[];
  /** Channels that are told of a saved post-incident review too (outgoing webhooks); none unless told. */
  takesReviews?: (channel: PageRequest['channel']) => boolean;
  /** What people keep in the store: their own numbers and rules, and the methods that failed for good. */
  people?: ReadonlyMap<string, PersonSettings>;
}

/**
 * The people `notify` names at `now`: contact ids, roles, and `oncall` (whoever is on call then in
 * `policy`'s rotation: a team's, or the top level's).
 */
export function resolveTargets(
  notify: string[],
  paging: PagingConfig,
  now: number,
  policy: PagingPolicy = paging,
  overrides: readonly RuntimeOverride[] = [],
): Contact[] {
  const out = new Map<string, Contact>();
  for (const target of notify) {
    let ids: string[];
    if (target === ONCALL) {
      // An override whose contact a reload removed is passed over: the rotation pages instead of nobody.
      const own = overridesOf(overrides, policy.rotationOwner).filter((o) => paging.contacts.some((c) => c.id === o.contact));
      ids = policy.rotation ? [shiftAt(policy.rotation, now, own).contact] : [];
    } else ids = paging.contacts.filter((c) => c.id === target || c.roles.includes(target)).map((c) => c.id);
    for (const id of ids) {
      const c = paging.contacts.find((x) => x.id === id);
      if (c) out.set(c.id, c);
    }
  }
  return [...out.values()];
}

/**
 * The pages of one event: one to each room of the route (Slack's channels, then the `to:` rooms),
 * mentioning the people paged by their address on that channel; when `email`, one e-mail to all of
 * them; when `push`, one ntfy push to each one's own topic.
 */
function pages(
  at: number,
  event: PageEvent,
  incident: Incident,
  route: Route,
  people: Contact[],
  cause: TimelineEntry | null,
  email = route.email,
  push = route.ntfy,
): PageRequest[] {
  const addresses = (channel: string) => people.flatMap((p) => addressOn(p, channel) ?? []);
  const rooms = [...route.channels.map((target) => ({ channel: 'slack', target })), ...route.to];
  const out: PageRequest[] = rooms.map(({ channel, target }) => ({
    channel,
    target,
    event,
    severity: incident.severity,
    mentions: addresses(channel),
    recipients: [],
    cause,
    at,
  }));
  const recipients = addresses('email');
  if (email && recipients.length)
    out.push({ channel: 'email', target: recipients.join(', '), event, severity: incident.severity, mentions: [], recipients, cause, at });
  // A topic is one person's phone: one push each, the person named as its recipient.
  if (push)
    for (const p of people) {
      const topic = addressOn(p, 'ntfy');
      if (topic)
        out.push({ channel: 'ntfy', target: topic, event, severity: incident.severity, mentions: [], recipients: [p.id], cause, at });
    }
  return out;
}

/**
 * The pages of each person's notification rules for one event (a text now, a call in a minute),
 * each due at its own time: their own rules when they set some, the team's otherwise. A method
 * the person has no address for is passed over (the others reach them); one that failed for good
 * (a STOP reply) is recorded as not sent, saying why.
 */
function personalPages(
  at: number,
  event: PageEvent,
  incident: Incident,
  policy: PagingPolicy,
  people: Contact[],
  cause: TimelineEntry | null,
  facts: PagingFacts,
): PageRequest[] {
  const out: PageRequest[] = [];
  for (const person of people) {
    const settings = facts.people?.get(person.id);
    for (const { step, lastOfMethod } of personalSteps(effectiveRules(policy.rules, settings?.rules), incident.severity)) {
      const reach = reachOn(person, step.method, settings);
      if (!reach) continue;
      out.push({
        channel: step.method,
        target: reach.address ?? person.id,
        event,
        severity: incident.severity,
        mentions: [],
        // The timeline and the incident page name the person behind the number.
        recipients: [person.name],
        cause,
        at: at + step.afterMs,
        personal: { contact: person.id, lastOfMethod },
        ...('skipped' in reach ? { notSent: reach.skipped } : {}),
      });
    }
  }
  return out;
}

/**
 * The route and escalation an incident is paged by: its team's (or the top level's) for its
 * severity; for a drill that is not live, the drill route, and every escalation step and reminder
 * pages the drill's people instead (the person running it, with fire --to), never the real ones.
 */
function pagingOf(incident: Incident, paging: PagingConfig): { policy: PagingPolicy; route: Route; escalation: EscalationPolicy } {
  const policy = policyFor(paging, incident.team);
  const route = policy.routing[incident.severity];
  const escalation = policy.escalation[incident.severity];
  const drill = drillOf(incident.groupLabels);
  if (!drill || drill.live) return { policy, route, escalation };
  const notify = drill.notify ? [drill.notify] : paging.drill.notify;
  return {
    policy,
    route: { ...paging.drill, notify },
    escalation: { ...escalation, steps: escalation.steps.map((s) => ({ ...s, notify })) },
  };
}

/** The first entry of `kind` in a change's timeline. */
function entryOf<K extends TimelineEntry['kind']>(timeline: TimelineEntry[], kind: K): EntryOf<K> | undefined {
  return timeline.find((t): t is EntryOf<K> => t.kind === kind);
}

/** When the incident's next escalation step or reminder is due, or null when there is none. */
function nextEscalation(incident: Incident, paging: PagingConfig, now: number): number | null {
  const policy = pagingOf(incident, paging).escalation;
  const step = policy.steps[incident.escalationStep];
  if (step) return Math.max(now, incident.openedAt + step.afterMs);
  if (incident.reminders < policy.maxReminders) return Math.max(now + policy.repeatMs, incident.respondBy);
  return null;
}

/**
 * Adds to a committed-to-be change the pages it calls for and the escalation schedule, both pure
 * functions of the change, the config and the time. Called inside the store transaction, so the
 * pages reach the outbox together with the change that caused them.
 */
export function withPages(
  change: IncidentChange | null,
  paging: PagingConfig,
  now: number,
  facts: PagingFacts = {},
): IncidentChange | null {
  if (!change) return null;
  const incident = { ...change.incident };
  const { policy, route } = pagingOf(incident, paging);
  const out: PageRequest[] = [];
  const routed = () => resolveTargets(route.notify, paging, now, policy, facts.overrides);
  const raised = entryOf(change.timeline, 'severity_raised');
  const resolved = entryOf(change.timeline, 'resolved');
  const acknowledged = entryOf(change.timeline, 'acknowledged');
  const breached = entryOf(change.timeline, 'sla_breached');
  const silenceEnding = entryOf(change.timeline, 'silence_ending');
  const silenced = entryOf(change.timeline, 'silenced');
  const review = entryOf(change.timeline, 'review');

  const timeline = [...change.timeline];
  if (entryOf(change.timeline, 'opened')) {
    const people = routed();
    out.push(
      ...pages(now, 'opened', incident, route, people, null),
      ...personalPages(now, 'opened', incident, policy, people, null, facts),
    );
    incident.nextEscalationAt = nextEscalation(incident, paging, now);
    // Nothing to send now and no escalation step that could: said in the timeline (and counted),
    // rather than an incident that silently pages nobody.
    const { escalation } = pagingOf(incident, paging);
    const laterSomeone = escalation.steps.some((s) => resolveTargets(s.notify, paging, now, policy, facts.overrides).some((c) => c.email));
    if (!out.length && !laterSomeone) {
      const key = drillOf(incident.groupLabels)?.live === false ? 'drill' : routeKey(paging, incident.team, incident.severity);
      timeline.push({ at: now, actor: SYSTEM, kind: 'unpaged', route: key });
    }
  } else if (raised) {
    const people = routed();
    out.push(
      ...pages(now, 'severity_raised', incident, route, people, raised),
      ...personalPages(now, 'severity_raised', incident, policy, people, raised, facts),
    );
    if (incident.status === 'open') {
      const next = nextEscalation(incident, paging, now);
      incident.nextEscalationAt = next === null ? incident.nextEscalationAt : Math.min(next, incident.nextEscalationAt ?? next);
    }
  }
  if (resolved) {
    out.push(...pages(now, 'resolved', incident, route, [], resolved, false));
    incident.nextEscalationAt = null;
  } else if (acknowledged) {
    out.push(...pages(now, 'acknowledged', incident, route, [], acknowledged, false));
    incident.nextEscalationAt = null;
  } else if (breached && incident.status === 'open') {
    out.push(...pages(now, 'sla_breached', incident, route, routed(), breached, false));
    // A missed deadline always takes the next escalation step, now.
    incident.nextEscalationAt = now;
  }
  // Told to the incident's channels as an update, mentioning nobody.
  if (silenceEnding && incident.status !== 'resolved') out.push(...pages(now, 'silence_ending', incident, route, [], silenceEnding, false));
  // A silence made (from the page, the API or a Slack button) is told the same way: who, what and until when.
  if (silenced && incident.status !== 'resolved') out.push(...pages(now, 'silenced', incident, route, [], silenced, false));
  // A saved review interests systems (a status page, a ticket), not people: only the rooms whose channel takes it.
  if (review && facts.takesReviews)
    out.push(
      ...pages(
        now,
        'review',
        incident,
        { ...route, channels: [], to: route.to.filter((r) => facts.takesReviews!(r.channel)) },
        [],
        review,
        false,
        false,
      ),
    );
  return recordUnconfigured({ ...change, incident, timeline, pages: [...(change.pages ?? []), ...out] }, facts.unconfigured ?? NONE, now);
}

/**
 * The escalation sweep's decision for an open incident whose next step is due: page the step's
 * targets (or, after the last step, remind everyone paged so far), then schedule the next one.
 * Acknowledging or resolving clears the schedule, so nothing is due for those.
 */
export function escalate(incident: Incident, paging: PagingConfig, now: number, facts: PagingFacts = {}): IncidentChange | null {
  if (incident.status !== 'open' || incident.nextEscalationAt === null || incident.nextEscalationAt > now) return null;
  const { policy: team, escalation: policy, route } = pagingOf(incident, paging);
  const next = { ...incident };
  const timeline: TimelineEntry[] = [];
  const out: PageRequest[] = [];
  const step = policy.steps[incident.escalationStep];
  const unackedMs = now - incident.openedAt;
  if (step) {
    // The step's people, and whoever is on call now when the route pages the on-call: mentioned in
    // Slack at opening, they get the step's e-mail as well (an override's on-call included).
    const oncall = route.notify.includes(ONCALL) ? [ONCALL] : [];
    const people = resolveTargets([...step.notify, ...oncall], paging, now, team, facts.overrides);
    const entry: TimelineEntry = {
      at: now,
      actor: SYSTEM,
      kind: 'escalated',
      step: incident.escalationStep + 1,
      steps: policy.steps.length,
      unackedMs,
      paged: paged(people),
    };
    timeline.push(entry);
    out.push(
      ...pages(now, 'escalated', next, route, people, entry, true, true),
      ...personalPages(now, 'escalated', next, team, people, entry, facts),
    );
    next.escalationStep += 1;
  } else if (incident.reminders < policy.maxReminders) {
    const people = resolveTargets([...route.notify, ...policy.steps.flatMap((s) => s.notify)], paging, now, team, facts.overrides);
    const entry: TimelineEntry = {
      at: now,
      actor: SYSTEM,
      kind: 'reminder',
      reminder: incident.reminders + 1,
      maxReminders: policy.maxReminders,
      unackedMs,
      paged: paged(people),
    };
    timeline.push(entry);
    out.push(...pages(now, 'reminder', next, route, people, entry));
    next.reminders += 1;
  }
  // Steps that fell due while the service was down come one per sweep, not all at once.
  next.nextEscalationAt = nextEscalation(next, paging, now);
  return recordUnconfigured({ incident: next, alerts: [], timeline, pages: out }, facts.unconfigured ?? NONE, now);
}

/**
 * Why a channel cannot send ("Slack is not configured (SLACK_BOT_TOKEN unset)", or no such
 * channel), or undefined when it can.
 */
export type Unconfigured = (channel: PageRequest['channel']) => string | undefined;
const NONE: Unconfigured = () => undefined;

/**
 * Pages for a channel that is not configured are decided all the same, but recorded at once as not
 * sent (outbox and timeline), instead of waiting in the outbox for a channel that cannot send.
 */
function recordUnconfigured(change: IncidentChange, unconfigured: Unconfigured, now: number): IncidentChange {
  if (!change.pages?.length || change.pages.every((p) => !p.notSent && !unconfigured(p.channel))) return change;
  const timeline = [...change.timeline];
  const pages = change.pages.map((p) => {
    const reason = p.notSent ?? unconfigured(p.channel);
    if (!reason) return p;
    timeline.push({ at: now, actor: SYSTEM, kind: 'page_failed', ...pageTarget(p), outcome: 'skipped', reason });
    return { ...p, notSent: reason };
  });
  return { ...change, timeline, pages };
}

function paged(people: Contact[]): PagedPerson[] {
  return people.map((p) => ({ id: p.id, name: p.name }));
}

/**
 * What a call's or text's outcome does to its incident: the entry in the timeline, and, for an
 * unanswered last call of a person's rules (or 5 pressed), the next escalation step due now
 * rather than at its time. An incident acknowledged or resolved meanwhile, or past its last step
 * and reminder, only records the outcome.
 */
export function phoneOutcome(incident: Incident, entry: EntryOf<'phone'>, escalateNow: boolean, now: number): IncidentChange {
  const next = { ...incident };
  const moves = escalateNow && incident.status === 'open' && incident.nextEscalationAt !== null && incident.nextEscalationAt > now;
  if (moves) next.nextEscalationAt = now;
  return { incident: next, alerts: [], timeline: [{ ...entry, at: now, ...(moves ? { escalating: true } : {}) }] };
}
