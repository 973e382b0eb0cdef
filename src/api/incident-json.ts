import type { Alert, Incident } from '../incidents/model.js';
import type { IncidentHead, TimelinePage } from '../store/store.js';
import { formatCursor } from '../http/timeline-cursor.js';
import type { TimelineEntry } from '../incidents/timeline.js';
import { describeEntry } from '../incidents/timeline-text.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public JSON form of an incident (times as ISO 8601 UTC). */
export function incidentJson(i: Incident) {
  return {
    id: i.id,
    key: i.key,
    title: i.title,
    severity: i.severity,
    rule: i.rule,
    team: i.team,
    status: i.status,
    openedAt: iso(i.openedAt),
    respondBy: iso(i.respondBy),
    acknowledgedAt: iso(i.acknowledgedAt),
    acknowledgedBy: i.acknowledgedBy,
    resolvedAt: iso(i.resolvedAt),
    resolvedBy: i.resolvedBy,
    slaBreached: i.slaBreached,
    escalation: { step: i.escalationStep, reminders: i.reminders, nextAt: iso(i.nextEscalationAt) },
    receiver: i.receiver,
    groupKey: i.groupKey,
    groupLabels: i.groupLabels,
    externalUrl: i.externalUrl,
    source: i.source,
  };
}

function alertJson(a: Alert) {
  return {
    fingerprint: a.fingerprint,
    status: a.status,
    severity: a.severity,
    rule: a.rule,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: iso(a.startsAt),
    endsAt: iso(a.endsAt),
    generatorUrl: a.generatorUrl,
    // Grafana's silence, dashboard and panel URLs and its values, when the sender gave them.
    links: a.links ?? {},
  };
}

/**
 * An incident with one page of its alerts and the newest page of its timeline, for GET /api/incidents/:id:
 * `alertCount` is the whole count and `alertsPage.nextOffset` the next page's alertsOffset (null on the last);
 * `timelinePage.older` the cursor of the older entries (GET /api/incidents/:id/timeline?before=…; null when none).
 */
export function incidentDetailsJson(
  i: IncidentHead,
  page: { offset: number; limit: number },
  timeline: TimelinePage,
  timelineLimit: number,
) {
  const next = page.offset + i.alerts.length;
  return {
    ...incidentJson(i),
    version: i.version,
    alertCount: i.alertCount,
    alertsPage: { offset: page.offset, limit: page.limit, nextOffset: next < i.alertCount ? next : null },
    alerts: i.alerts.map(alertJson),
    ...timelinePageJson(timeline, timelineLimit),
  };
}

/** A page of the timeline, its entries in time order, and the cursor of the older ones (null when none). */
export function timelinePageJson(page: TimelinePage, limit: number) {
  return { timelinePage: { limit, older: formatCursor(page.older) }, timeline: page.entries.map(timelineJson) };
}

// Entry fields that are instants; they are shown as ISO 8601 like every other time.
const INSTANTS = new Set(['respondBy', 'nextAttemptAt', 'endsAt']);

/** One timeline entry: its kind, actor and typed fields, plus `detail`, the entry in words (what clients read before). */
export function timelineJson(t: TimelineEntry) {
  const fields = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, INSTANTS.has(k) && typeof v === 'number' ? iso(v) : v]));
  return { ...fields, at: iso(t.at), detail: describeEntry(t) };
}
