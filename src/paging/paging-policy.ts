import type { Contact, PagingConfig, Route } from './paging-config.js';
import { ONCALL } from './paging-config.js';
import { formatDuration } from '../incidents/duration.js';
import type { Incident, IncidentChange, TimelineEntry } from '../incidents/model.js';
import { describeTarget, type PageEvent, type PageRequest } from '../incidents/page.js';
import { shiftAt } from './oncall.js';

/** The people `notify` names at `now`: contact ids, roles, and `oncall` (whoever is on call then). */
export function resolveTargets(notify: string[], paging: PagingConfig, now: number): Contact[] {
  const out = new Map<string, Contact>();
  for (const target of notify) {
    let ids: string[];
    if (target === ONCALL) ids = paging.rotation ? [shiftAt(paging.rotation, now).contact] : [];
    else ids = paging.contacts.filter((c) => c.id === target || c.roles.includes(target)).map((c) => c.id);
    for (const id of ids) {
      const c = paging.contacts.find((x) => x.id === id);
      if (c) out.set(c.id, c);
    }
  }
  return [...out.values()];
}

function pages(at: number, event: PageEvent, incident: Incident, route: Route, people: Contact[], note: string, email = route.email): PageRequest[] {
  const mentions = people.flatMap((p) => (p.slack ? [p.slack] : []));
  const recipients = people.flatMap((p) => (p.email ? [p.email] : []));
  const out: PageRequest[] = route.channels.map((target) => ({ channel: 'slack', target, event, severity: incident.severity, mentions, recipients: [], note, at }));
  if (email && recipients.length) out.push({ channel: 'email', target: recipients.join(', '), event, severity: incident.severity, mentions: [], recipients, note, at });
  return out;
}

/** When the incident's next escalation step or reminder is due, or null when there is none. */
function nextEscalation(incident: Incident, paging: PagingConfig, now: number): number | null {
  const policy = paging.escalation[incident.severity];
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
export function withPages(change: IncidentChange | null, paging: PagingConfig, now: number, unconfigured: Unconfigured = NONE): IncidentChange | null {
  if (!change) return null;
  const incident = { ...change.incident };
  const route = paging.routing[incident.severity];
  const kinds = new Set(change.timeline.map((t) => t.kind));
  const out: PageRequest[] = [];
  const routed = () => resolveTargets(route.notify, paging, now);

  if (kinds.has('opened')) {
    out.push(...pages(now, 'opened', incident, route, routed(), ''));
    incident.nextEscalationAt = nextEscalation(incident, paging, now);
  } else if (kinds.has('severity_raised')) {
    out.push(...pages(now, 'severity_raised', incident, route, routed(), change.timeline.find((t) => t.kind === 'severity_raised')!.detail));
    if (incident.status === 'open') {
      const next = nextEscalation(incident, paging, now);
      incident.nextEscalationAt = next === null ? incident.nextEscalationAt : Math.min(next, incident.nextEscalationAt ?? next);
    }
  }
  if (kinds.has('resolved')) {
    const t = change.timeline.find((x) => x.kind === 'resolved')!;
    out.push(...pages(now, 'resolved', incident, route, [], t.detail, false));
    incident.nextEscalationAt = null;
  } else if (kinds.has('acknowledged')) {
    const t = change.timeline.find((x) => x.kind === 'acknowledged')!;
    out.push(...pages(now, 'acknowledged', incident, route, [], t.detail, false));
    incident.nextEscalationAt = null;
  } else if (kinds.has('sla_breached') && incident.status === 'open') {
    out.push(...pages(now, 'sla_breached', incident, route, routed(), `No acknowledgement by ${new Date(incident.respondBy).toISOString()}`, false));
    // A missed deadline always takes the next escalation step, now.
    incident.nextEscalationAt = now;
  }
  return recordUnconfigured({ ...change, incident, pages: [...(change.pages ?? []), ...out] }, unconfigured, now);
}

/**
 * The escalation sweep's decision for an open incident whose next step is due: page the step's
 * targets (or, after the last step, remind everyone paged so far), then schedule the next one.
 * Acknowledging or resolving clears the schedule, so nothing is due for those.
 */
export function escalate(incident: Incident, paging: PagingConfig, now: number, unconfigured: Unconfigured = NONE): IncidentChange | null {
  if (incident.status !== 'open' || incident.nextEscalationAt === null || incident.nextEscalationAt > now) return null;
  const policy = paging.escalation[incident.severity];
  const route = paging.routing[incident.severity];
  const next = { ...incident };
  const timeline: TimelineEntry[] = [];
  const out: PageRequest[] = [];
  const step = policy.steps[incident.escalationStep];
  if (step) {
    const people = resolveTargets(step.notify, paging, now);
    const detail = `Escalated (step ${incident.escalationStep + 1} of ${policy.steps.length}, ${formatDuration(now - incident.openedAt)} without acknowledgement): paging ${names(people)}`;
    timeline.push({ at: now, kind: 'escalated', detail });
    out.push(...pages(now, 'escalated', next, route, people, detail, true));
    next.escalationStep += 1;
  } else if (incident.reminders < policy.maxReminders) {
    const people = resolveTargets([...route.notify, ...policy.steps.flatMap((s) => s.notify)], paging, now);
    const detail = `Reminder ${incident.reminders + 1} of ${policy.maxReminders}: still unacknowledged after ${formatDuration(now - incident.openedAt)}; paging ${names(people)}`;
    timeline.push({ at: now, kind: 'reminder', detail });
    out.push(...pages(now, 'reminder', next, route, people, detail));
    next.reminders += 1;
  }
  // Steps that fell due while the service was down come one per sweep, not all at once.
  next.nextEscalationAt = nextEscalation(next, paging, now);
  return recordUnconfigured({ incident: next, alerts: [], timeline, pages: out }, unconfigured, now);
}

/** Channels that cannot send, with the reason ("Slack is not configured (SLACK_BOT_TOKEN unset)"). */
export type Unconfigured = ReadonlyMap<PageRequest['channel'], string>;
const NONE: Unconfigured = new Map();

/**
 * Pages for a channel that is not configured are decided all the same, but recorded at once as not
 * sent (outbox and timeline), instead of waiting in the outbox for a channel that cannot send.
 */
function recordUnconfigured(change: IncidentChange, unconfigured: Unconfigured, now: number): IncidentChange {
  if (!unconfigured.size || !change.pages?.length) return change;
  const timeline = [...change.timeline];
  const pages = change.pages.map((p) => {
    const reason = unconfigured.get(p.channel);
    if (!reason) return p;
    timeline.push({ at: now, kind: 'page_failed', detail: `${describeTarget(p)}: not sent, ${reason}` });
    return { ...p, notSent: reason };
  });
  return { ...change, timeline, pages };
}

function names(people: Contact[]): string {
  return people.length ? people.map((p) => p.name).join(', ') : 'nobody (no contact matches)';
}
