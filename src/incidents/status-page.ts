import { createHash } from 'node:crypto';
import { parseMatcher, type Labels, type Matcher } from '../classify/matcher.js';
import type { Severity } from '../classify/severity.js';
import type { Incident, IncidentChange } from './model.js';
import type { PageRequest } from './page.js';
import { STATE_LABEL, type ComponentState, type ComponentStatus, type UpdateState, worse } from './public-status.js';
import type { RawStatusPage } from './status-schema.js';
import { actorOf, type EntryOf, type Responder, type TimelineEntry } from './timeline.js';

// The public side of an incident (docs/status-page.md), as pure functions: the components and what
// an incident proposes for them, the update a person posts (a typed timeline entry, the checklist
// tick and the subscribers' e-mails in the same decision), and what /status shows from the
// updates alone. Nothing here reads labels, annotations, notes or names into what is public: the
// public text is only what a person wrote in the update form.

export {
  COMPONENT_STATUSES,
  SETTABLE_STATUSES,
  STATE_LABEL,
  STATUS_LABEL,
  UPDATE_STATES,
  worse,
  type ComponentState,
  type ComponentStatus,
  type UpdateState,
} from './public-status.js';

export interface StatusComponent {
  id: string;
  name: string;
  group: string | null;
  description: string | null;
  /** Empty: no incident is tied to it by its labels (a person may still name it in an update). */
  matchers: Matcher[];
}

export interface StatusPageConfig {
  title: string;
  components: StatusComponent[];
  updatedStep: string;
  notifiedStep: string;
}

export const DEFAULT_STATUS_PAGE: StatusPageConfig = {
  title: 'Status',
  components: [],
  updatedStep: 'Status page updated',
  notifiedStep: 'Users notified (if applicable)',
};

/** The section as the service uses it; a bad matcher or a repeated id is reported through `fail` with its key. */
export function parseStatusPage(raw: RawStatusPage | undefined, fail: (key: string, message: string) => never): StatusPageConfig {
  const seen = new Set<string>();
  const components = (raw?.components ?? []).map((c, i) => {
    if (seen.has(c.id)) fail(`statusPage.components[${i}].id`, `the id "${c.id}" appears twice`);
    seen.add(c.id);
    const matchers = (c.matchers ?? []).map((m, k) => {
      try {
        return parseMatcher(m);
      } catch (err) {
        return fail(`statusPage.components[${i}].matchers[${k}]`, (err as Error).message);
      }
    });
    return { id: c.id, name: c.name, group: c.group ?? null, description: c.description ?? null, matchers };
  });
  return {
    title: raw?.title ?? DEFAULT_STATUS_PAGE.title,
    components,
    updatedStep: raw?.updatedStep ?? DEFAULT_STATUS_PAGE.updatedStep,
    notifiedStep: raw?.notifiedStep ?? DEFAULT_STATUS_PAGE.notifiedStep,
  };
}

/** How bad an incident of each severity is for the components it touches: a proposal, never applied by itself. */
const PROPOSED: Record<Severity, ComponentStatus> = {
  critical: 'major_outage',
  high: 'partial_outage',
  medium: 'degraded_performance',
  low: 'degraded_performance',
};

/**
 * The statuses an incident proposes for the components its alerts match (every matcher of the
 * component met by one alert's labels, or by the group's labels): the incident's severity says how
 * bad. A person confirms or changes them in the update form.
 */
export function proposeComponents(
  components: readonly StatusComponent[],
  incident: Pick<Incident, 'severity' | 'groupLabels'>,
  labelSets: readonly Labels[],
): ComponentState[] {
  const sets = [incident.groupLabels, ...labelSets];
  return components
    .filter((c) => c.matchers.length > 0 && sets.some((l) => c.matchers.every((m) => m.matches(l))))
    .map((c) => ({ id: c.id, status: PROPOSED[incident.severity] }));
}

/** What a person posts: the public title, where the incident stands, what users read, and the components. */
export interface PublicUpdate {
  state: UpdateState;
  title: string;
  message: string;
  components: ComponentState[];
}

/** A subscriber who is to receive an update by e-mail: their id only (the address stays in its table). */
export interface UpdateRecipient {
  id: number;
  /** Only these components' updates; null: every update. */
  components: readonly string[] | null;
}

/** The outbox channel of subscribers' e-mails (notify/status-email/). */
export const STATUS_EMAIL_CHANNEL = 'status-email';
/** One target for every subscriber: the channel's pace is the pace of the whole list, across replicas. */
export const SUBSCRIBERS_TARGET = 'subscribers';
/**
 * The confirmation e-mails' own target, paced as the list is: during an outage, when people come to
 * subscribe, a confirmation does not wait behind an update to thousands of subscribers.
 */
export const CONFIRMATIONS_TARGET = 'confirmations';

/** Whether a subscriber is told of an update: one for every component, or one naming a component the update names. */
export function wantsUpdate(r: UpdateRecipient, update: Pick<PublicUpdate, 'components'>): boolean {
  if (r.components === null || update.components.length === 0) return true;
  return update.components.some((c) => r.components!.includes(c.id));
}

/**
 * A public update posted by a person: its timeline entry, the tick of the checklist's "Status page
 * updated" step (when the incident's checklist has it), and one outbox page per subscriber who
 * wants it, all in one decision. Subscribers' e-mails are the lowest priority in the outbox, so a
 * page to a responder is never queued behind them.
 */
export function postStatusUpdate(
  incident: Incident,
  who: Responder,
  update: PublicUpdate,
  opts: { recipients: readonly UpdateRecipient[]; updatedStep: string | null; notify: boolean },
  now: number,
): IncidentChange {
  const actor = actorOf(who);
  const recipients = opts.notify ? opts.recipients.filter((r) => wantsUpdate(r, update)) : [];
  const entry: EntryOf<'status_update'> = {
    at: now,
    actor,
    kind: 'status_update',
    state: update.state,
    title: update.title,
    message: update.message,
    components: update.components,
    subscribers: recipients.length,
  };
  const timeline: TimelineEntry[] = [entry];
  if (opts.updatedStep)
    timeline.push({
      at: now,
      actor,
      kind: 'checklist',
      step: opts.updatedStep,
      state: 'done',
      note: `${STATE_LABEL[update.state]} update posted`,
    });
  const pages: PageRequest[] = recipients.map((r) => ({
    channel: STATUS_EMAIL_CHANNEL,
    target: SUBSCRIBERS_TARGET,
    event: 'status_update',
    severity: 'low',
    mentions: [],
    recipients: [],
    cause: entry,
    at: now,
    subscriber: r.id,
  }));
  return { incident, alerts: [], timeline, ...(pages.length ? { pages } : {}) };
}

/** A public update as the store keeps it for /status: no actor, no label, nothing but what was written for the public. */
export interface StatusUpdateRecord {
  incidentId: number;
  at: number;
  state: UpdateState;
  title: string;
  message: string;
  components: ComponentState[];
}

/** The public record of a status_update entry. */
export function statusUpdateRecord(incidentId: number, e: EntryOf<'status_update'>): StatusUpdateRecord {
  return { incidentId, at: e.at, state: e.state, title: e.title, message: e.message, components: e.components };
}

/** An incident as the public sees it: an id that says nothing of the internal numbering, the latest title and state, its updates newest first. */
export interface PublicIncident {
  publicId: string;
  title: string;
  state: UpdateState;
  startedAt: number;
  /** When its resolved update came; null while it is active. */
  resolvedAt: number | null;
  /** The components it affects now (those of its latest update). */
  components: ComponentState[];
  updates: Omit<StatusUpdateRecord, 'incidentId'>[];
}

/** The public id of an incident: not its number, so the page does not tell how many incidents there were. */
export function publicIdOf(incidentId: number, firstAt: number): string {
  return createHash('sha256').update(`${incidentId}:${firstAt}`).digest('hex').slice(0, 12);
}

/** The public incidents of a set of updates, most recent first. */
export function publicIncidents(records: readonly StatusUpdateRecord[]): PublicIncident[] {
  const byIncident = new Map<number, StatusUpdateRecord[]>();
  for (const r of records) {
    const list = byIncident.get(r.incidentId);
    if (list) list.push(r);
    else byIncident.set(r.incidentId, [r]);
  }
  const out: PublicIncident[] = [];
  for (const [id, list] of byIncident) {
    list.sort((a, b) => a.at - b.at);
    const first = list[0]!;
    const last = list.at(-1)!;
    out.push({
      publicId: publicIdOf(id, first.at),
      title: last.title,
      state: last.state,
      startedAt: first.at,
      resolvedAt: last.state === 'resolved' ? last.at : null,
      components: last.state === 'resolved' ? [] : last.components,
      updates: [...list].reverse().map(({ incidentId: _, ...u }) => u),
    });
  }
  return out.sort((a, b) => (b.updates[0]?.at ?? 0) - (a.updates[0]?.at ?? 0));
}

/** A window of scheduled maintenance the public may see (issue 22's windows, when marked public). */
export interface PublicMaintenance {
  title: string;
  /** What users are told of it, when anything. */
  text?: string | undefined;
  startsAt: number;
  endsAt: number;
  /** The components under maintenance; empty: not tied to any. */
  components: string[];
}

export interface ComponentDay {
  /** Midnight UTC of the day. */
  day: number;
  worst: ComponentStatus;
  /** Time in partial or major outage that day. */
  downMs: number;
}

export interface ComponentView {
  component: StatusComponent;
  status: ComponentStatus;
  days: ComponentDay[];
  /** Share of the window not in partial or major outage, 0..1. */
  uptime: number;
}

const DAY = 86_400_000;
const DOWN: ReadonlySet<ComponentStatus> = new Set(['partial_outage', 'major_outage']);

/**
 * Each component's status now (the worst an active public incident gives it, or maintenance under
 * way), and one bar per UTC day for the last `days` days: the worst status of the day and the time
 * down. An update's statuses hold until the incident's next update; a resolved update ends them.
 */
export function componentViews(
  components: readonly StatusComponent[],
  incidents: readonly PublicIncident[],
  maintenance: readonly PublicMaintenance[],
  now: number,
  days = 90,
): ComponentView[] {
  const today = Math.floor(now / DAY) * DAY;
  const from = today - (days - 1) * DAY;
  const spans = new Map<string, { from: number; to: number; status: ComponentStatus }[]>();
  const add = (id: string, a: number, b: number, status: ComponentStatus) => {
    if (b <= a || status === 'operational') return;
    const list = spans.get(id);
    if (list) list.push({ from: a, to: b, status });
    else spans.set(id, [{ from: a, to: b, status }]);
  };
  for (const inc of incidents) {
    const ups = [...inc.updates].reverse();
    ups.forEach((u, i) => {
      if (u.state === 'resolved') return;
      // The latest update of an active incident holds until a later one: open-ended.
      const end = ups[i + 1]?.at ?? Infinity;
      for (const c of u.components) add(c.id, u.at, end, c.status);
    });
  }
  for (const m of maintenance) for (const id of m.components) add(id, m.startsAt, m.endsAt, 'maintenance');
  return components.map((component) => {
    const list = spans.get(component.id) ?? [];
    let status: ComponentStatus = 'operational';
    for (const s of list) if (s.from <= now && now < s.to) status = worse(status, s.status);
    const bars: ComponentDay[] = [];
    for (let d = from; d <= today; d += DAY) {
      let worst: ComponentStatus = 'operational';
      const down: [number, number][] = [];
      for (const s of list) {
        const a = Math.max(s.from, d);
        const b = Math.min(s.to, d + DAY, now);
        if (b <= a) continue;
        worst = worse(worst, s.status);
        if (DOWN.has(s.status)) down.push([a, b]);
      }
      bars.push({ day: d, worst, downMs: unionLength(down) });
    }
    const span = now - from;
    const downMs = bars.reduce((n, b) => n + b.downMs, 0);
    return { component, status, days: bars, uptime: span > 0 ? Math.max(0, 1 - downMs / span) : 1 };
  });
}

/** The length of a union of intervals (overlapping incidents count once). */
function unionLength(spans: [number, number][]): number {
  spans.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/**
 * The update a resolved incident proposes: state resolved, the last public title, every component
 * back to operational; null when there is no public incident yet or its closing update is posted.
 */
export function closingProposal(latest: Pick<StatusUpdateRecord, 'state' | 'title' | 'components'> | null): PublicUpdate | null {
  if (!latest || latest.state === 'resolved') return null;
  return {
    state: 'resolved',
    title: latest.title,
    message: 'This incident has been resolved.',
    components: latest.components.map((c) => ({ id: c.id, status: 'operational' })),
  };
}
