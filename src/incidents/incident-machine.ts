import { DRILL_PREFIX, drillOf } from './drill.js';
import type { Classifier } from '../classify/classifier.js';
import type { Labels } from '../classify/matcher.js';
import { isMoreSevere, type Severity } from '../classify/severity.js';
import type { Alert, GroupNotification, IncidentState, IncidentChange, IncomingAlert, Incident } from './model.js';
import { incidentKey } from './model.js';
import { actorFields, ALERTMANAGER, SYSTEM, type ChecklistState, type EntryOf, type Responder, type TimelineEntry } from './timeline.js';
import type { Review } from './checklist.js';

/** Response time promised for each severity, in milliseconds. */
export type SlaPolicy = Readonly<Record<Severity, number>>;

/** Which team a group belongs to, from label sets in order of precedence; null when none. */
export type TeamRouter = (labelSets: Labels[]) => string | null;

/** What the incident state machine needs besides the state: the time, the classifier, the SLA and the team router. */
export interface DecisionContext {
  now: number;
  classify: Classifier;
  sla: SlaPolicy;
  teamOf?: TeamRouter;
}

/** Raised for a transition that the incident's state does not allow (e.g. acknowledging a resolved incident). */
export class TransitionConflict extends Error {
  override name = 'TransitionConflict';
}

const TITLE_MAX = 200;

/**
 * Applies one Alertmanager notification to the group's active incident (or to none).
 * `previous` is the group's most recently resolved incident: a firing alert it already saw,
 * with the same startsAt, is a late re-delivery (repeat_interval, HA peer, retry), not a re-fire.
 * Returns null when nothing changes, which is what makes re-deliveries harmless.
 */
export function applyNotification(
  active: IncidentState | null,
  previous: IncidentState | null,
  n: GroupNotification,
  ctx: DecisionContext,
): IncidentChange | null {
  return active ? updateIncident(active, n, ctx) : openIncident(previous, n, ctx);
}

function openIncident(previous: IncidentState | null, n: GroupNotification, ctx: DecisionContext): IncidentChange | null {
  const fresh = n.alerts.filter((a) => !seenBefore(previous, a));
  const firing = fresh.filter((a) => a.status === 'firing');
  if (firing.length === 0) return previous ? settleAlerts(previous, n, ctx.now) : null;

  const alerts = fresh.map((a) => classified(a, ctx));
  const worst = mostSevere(alerts.filter((a) => a.status === 'firing'))!;
  const { now } = ctx;
  const incident: Incident = {
    id: null,
    key: incidentKey(n.receiver, n.groupKey),
    receiver: n.receiver,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    externalUrl: n.externalUrl,
    source: n.source ?? 'alertmanager',
    title: titleOf(n, firing),
    severity: worst.severity,
    rule: worst.rule,
    // Decided once: an incident keeps its team through config reloads.
    team: ctx.teamOf?.([n.commonLabels, ...fresh.map((a) => a.labels)]) ?? null,
    status: 'open',
    openedAt: now,
    respondBy: now + ctx.sla[worst.severity],
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    slaBreached: false,
    breachedAt: null,
    escalationStep: 0,
    reminders: 0,
    nextEscalationAt: null,
  };
  const timeline: TimelineEntry[] = [
    {
      at: now,
      actor: ALERTMANAGER,
      kind: 'opened',
      severity: worst.severity,
      rule: worst.rule,
      firing: firing.length,
      respondBy: incident.respondBy,
      slaMs: ctx.sla[worst.severity],
    },
  ];
  noteTruncation(n, now, timeline);
  return { incident, alerts, timeline };
}

function updateIncident(state: IncidentState, n: GroupNotification, ctx: DecisionContext): IncidentChange | null {
  const { now } = ctx;
  const incident: Incident = { ...state.incident };
  const current = new Map(state.alerts);
  const changed = new Map<string, Alert>();
  const timeline: TimelineEntry[] = [];
  const newlyFiring: Alert[] = [];
  const alertEntries: Alert[] = [];

  for (const a of n.alerts) {
    const known = current.get(a.fingerprint);
    let next: Alert | undefined;
    if (!known) {
      next = classified(a, ctx);
      if (a.status === 'firing') newlyFiring.push(next);
      alertEntries.push(next);
    } else if (known.status === 'firing' && a.status === 'resolved' && a.startsAt >= known.startsAt) {
      next = { ...known, status: 'resolved', endsAt: a.endsAt ?? now };
      alertEntries.push(next);
    } else if (a.status === 'firing' && a.startsAt > known.startsAt && !(a.startsAtReceived && known.status === 'firing')) {
      // A new active period for the same series: a re-fire (or a newer startsAt for a firing one).
      next = { ...classified(a, ctx) };
      if (known.status === 'resolved') {
        newlyFiring.push(next);
        alertEntries.push(next);
      }
    }
    // Anything else is a re-delivery or stale news: same status, or a resolved alert "firing" again
    // with the startsAt it resolved with.
    if (next) {
      current.set(next.fingerprint, next);
      changed.set(next.fingerprint, next);
    }
  }

  timeline.push(...alertEntriesOf(alertEntries, now));

  const worst = mostSevere(newlyFiring);
  if (worst && isMoreSevere(worst.severity, incident.severity)) {
    const from = incident.severity;
    incident.severity = worst.severity;
    incident.rule = worst.rule;
    let tightenedTo: { respondBy: number; slaMs: number } | undefined;
    if (incident.status === 'open' && !incident.slaBreached) {
      const tightened = Math.min(incident.respondBy, now + ctx.sla[worst.severity]);
      if (tightened < incident.respondBy) {
        incident.respondBy = tightened;
        tightenedTo = { respondBy: tightened, slaMs: ctx.sla[worst.severity] };
      }
    }
    timeline.push({
      at: now,
      actor: ALERTMANAGER,
      kind: 'severity_raised',
      from,
      to: worst.severity,
      rule: worst.rule,
      fingerprint: worst.fingerprint,
      ...tightenedTo,
    });
  }

  // Only alongside a real change: a re-delivery must leave the history as it was.
  if (changed.size > 0) noteTruncation(n, now, timeline);

  if (changed.size > 0 && [...current.values()].every((a) => a.status === 'resolved')) {
    timeline.push(...checkBreach(incident, now));
    incident.status = 'resolved';
    incident.resolvedAt = now;
    incident.resolvedBy = ALERTMANAGER;
    timeline.push({ at: now, actor: ALERTMANAGER, kind: 'resolved', by: ALERTMANAGER, via: ALERTMANAGER, alerts: current.size });
  }

  if (timeline.length === 0 && changed.size === 0) return null;
  return { incident, alerts: [...changed.values()], timeline };
}

/**
 * Alertmanager's "resolved" for alerts of an incident a person resolved while they still fired:
 * the alerts are marked resolved (so the report stops listing them as firing), and nothing reopens.
 */
function settleAlerts(previous: IncidentState, n: GroupNotification, now: number): IncidentChange | null {
  const alerts: Alert[] = [];
  const timeline: TimelineEntry[] = [];
  for (const a of n.alerts) {
    const known = previous.alerts.get(a.fingerprint);
    if (known?.status !== 'firing' || a.status !== 'resolved' || a.startsAt < known.startsAt) continue;
    const settled: Alert = { ...known, status: 'resolved', endsAt: a.endsAt ?? now };
    alerts.push(settled);
  }
  timeline.push(...alertEntriesOf(alerts, now));
  return alerts.length ? { incident: previous.incident, alerts, timeline } : null;
}

/**
 * Marks the incident breached when its deadline passed without a response. The entry is dated at
 * the deadline itself, so a deadline that passed while the service was down is still reported
 * at the time it was missed.
 */
export function checkBreach(incident: Incident, now: number): TimelineEntry[] {
  if (incident.status !== 'open' || incident.slaBreached || now < incident.respondBy) return [];
  incident.slaBreached = true;
  incident.breachedAt = incident.respondBy;
  return [
    {
      at: incident.respondBy,
      actor: SYSTEM,
      kind: 'sla_breached',
      severity: incident.severity,
      respondBy: incident.respondBy,
      lateMs: now - incident.respondBy,
    },
  ];
}

/** The scheduler's decision for an incident whose deadline may have passed. */
export function sweepBreach(incident: Incident, now: number): IncidentChange | null {
  const next = { ...incident };
  const timeline = checkBreach(next, now);
  return timeline.length ? { incident: next, alerts: [], timeline } : null;
}

/** An acknowledgement by a person. Idempotent: acknowledging twice changes nothing. */
export function acknowledge(incident: Incident, who: Responder, note: string | undefined, now: number): IncidentChange | null {
  if (incident.status === 'resolved') throw new TransitionConflict(`incident ${incident.id} is already resolved`);
  if (incident.status === 'acknowledged') return null;
  const next = { ...incident };
  const timeline = checkBreach(next, now);
  next.status = 'acknowledged';
  next.acknowledgedAt = now;
  next.acknowledgedBy = who.name;
  timeline.push({ at: now, ...actorFields(who), kind: 'acknowledged', by: who.name, via: who.via, ...(note ? { note } : {}) });
  return { incident: next, alerts: [], timeline };
}

/**
 * A resolution by a person. Resolving counts as the response when nobody acknowledged first.
 * Idempotent: resolving a resolved incident changes nothing.
 */
export function resolve(incident: Incident, who: Responder, note: string | undefined, now: number): IncidentChange | null {
  if (incident.status === 'resolved') return null;
  const next = { ...incident };
  const timeline = checkBreach(next, now);
  if (next.acknowledgedAt === null) {
    next.acknowledgedAt = now;
    next.acknowledgedBy = who.name;
    timeline.push({ at: now, ...actorFields(who), kind: 'acknowledged', by: who.name, via: who.via, whenResolving: true });
  }
  next.status = 'resolved';
  next.resolvedAt = now;
  next.resolvedBy = who.name;
  timeline.push({ at: now, ...actorFields(who), kind: 'resolved', by: who.name, via: who.via, ...(note ? { note } : {}) });
  return { incident: next, alerts: [], timeline };
}

/** A note by a person; notes, ticks and reviews are allowed after resolution too (the plan's post-incident steps). */
export function addNote(incident: Incident, who: Responder, text: string, now: number): IncidentChange {
  return { incident, alerts: [], timeline: [{ at: now, ...actorFields(who), kind: 'note', text }] };
}

/** A silence made, expired or ending soon, as a timeline entry (the silence itself lives in Alertmanager). */
export function noteSilence(
  incident: Incident,
  who: Responder | typeof SYSTEM,
  entry:
    | Omit<EntryOf<'silenced'>, 'at' | 'actor'>
    | Omit<EntryOf<'silence_expired'>, 'at' | 'actor'>
    | Omit<EntryOf<'silence_ending'>, 'at' | 'actor'>,
  now: number,
): IncidentChange {
  return { incident, alerts: [], timeline: [{ ...entry, at: now, ...(who === SYSTEM ? { actor: SYSTEM } : actorFields(who)) }] };
}

/** A checklist step ticked, unticked or marked a problem; each is kept, so the timeline is the Verification Log. */
export function markStep(
  incident: Incident,
  who: Responder,
  step: string,
  state: ChecklistState,
  note: string | undefined,
  now: number,
): IncidentChange {
  return { incident, alerts: [], timeline: [{ at: now, ...actorFields(who), kind: 'checklist', step, state, ...(note ? { note } : {}) }] };
}

/** The post-incident fields saved; null when they are what the last save already said. */
export function saveReview(
  incident: Incident,
  who: Responder,
  review: Review,
  previous: Review | null,
  now: number,
): IncidentChange | null {
  if (previous && previous.rootCause === review.rootCause && previous.impact === review.impact && previous.prevention === review.prevention)
    return null;
  return { incident, alerts: [], timeline: [{ at: now, ...actorFields(who), kind: 'review', ...review }] };
}

function seenBefore(previous: IncidentState | null, a: IncomingAlert): boolean {
  const old = previous?.alerts.get(a.fingerprint);
  // Without a startsAt of its own, an alert still firing in the resolved incident is the same one again.
  return (
    old !== undefined && (a.startsAt <= old.startsAt || (a.startsAtReceived === true && a.status === 'firing' && old.status === 'firing'))
  );
}

function classified(a: IncomingAlert, ctx: DecisionContext): Alert {
  const { severity, rule } = ctx.classify(a.labels);
  // Field by field rather than a spread: one object shape for every alert, which a 100-alert webhook builds 100 of.
  return {
    fingerprint: a.fingerprint,
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt: a.status === 'resolved' ? (a.endsAt ?? ctx.now) : null,
    generatorUrl: a.generatorUrl,
    ...(a.links ? { links: a.links } : {}),
    severity,
    rule,
  };
}

function mostSevere(alerts: Alert[]): Alert | undefined {
  let worst: Alert | undefined;
  for (const a of alerts) if (!worst || isMoreSevere(a.severity, worst.severity)) worst = a;
  return worst;
}

/** Above this many alerts changed by one notification, they get one summary entry instead of one each. */
export const ALERT_ENTRIES_MAX = 10;

/**
 * The timeline entries of the alerts one notification changed: one each, or, for more than
 * ALERT_ENTRIES_MAX, one that counts them (an alert storm of 40,000 must not write 40,000 entries
 * that every read of the incident then carries). The alerts themselves are all kept, paged.
 */
function alertEntriesOf(alerts: readonly Alert[], now: number): TimelineEntry[] {
  if (alerts.length <= ALERT_ENTRIES_MAX) return alerts.map((a) => alertEntry(a, now));
  const byName = new Map<string, number>();
  let firing = 0;
  for (const a of alerts) {
    if (a.status === 'firing') firing++;
    const name = a.labels['alertname'] ?? a.fingerprint;
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  const alertnames = [...byName]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, 5)
    .map(([alertname, count]) => ({ alertname, count }));
  return [{ at: now, actor: ALERTMANAGER, kind: 'alerts_changed', firing, resolved: alerts.length - firing, alertnames }];
}

function alertEntry(a: Alert, now: number): TimelineEntry {
  const alertname = a.labels['alertname'] ?? a.fingerprint;
  return a.status === 'firing'
    ? { at: now, actor: ALERTMANAGER, kind: 'alert_firing', fingerprint: a.fingerprint, alertname, severity: a.severity, rule: a.rule }
    : { at: now, actor: ALERTMANAGER, kind: 'alert_resolved', fingerprint: a.fingerprint, alertname };
}

function noteTruncation(n: GroupNotification, now: number, timeline: TimelineEntry[]): void {
  if (n.truncatedAlerts > 0) {
    timeline.push({ at: now, actor: ALERTMANAGER, kind: 'alerts_truncated', count: n.truncatedAlerts });
  }
}

function titleOf(n: GroupNotification, firing: IncomingAlert[]): string {
  const summary = n.commonAnnotations['summary'] ?? (firing.length === 1 ? firing[0]!.annotations['summary'] : undefined);
  const name = n.groupLabels['alertname'] ?? n.commonLabels['alertname'] ?? firing[0]?.labels['alertname'] ?? 'Alert';
  const others = Object.entries(n.groupLabels)
    .filter(([k]) => k !== 'alertname' && !k.startsWith('drill'))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  let title = summary ? `${name}: ${summary}` : others ? `${name} (${others})` : name;
  if (!summary && firing.length > 1) title += ` - ${firing.length} alerts`;
  if (drillOf(n.groupLabels) && !title.startsWith(DRILL_PREFIX)) title = DRILL_PREFIX + title;
  return title.length > TITLE_MAX ? `${title.slice(0, TITLE_MAX - 1)}…` : title;
}
