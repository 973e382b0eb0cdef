import { REPORT_LIMITS, type ReportInput } from '../incidents/report.js';
import type { IncidentRecords } from '../store/store.js';

/**
 * What the report of incident `id` is made from, read in bounded pieces whatever the incident
 * holds: the timeline's first and last entries and their count, the first alerts and the alerts'
 * summary, the checklist's rows, the latest review and the public updates. Undefined when there is no such incident.
 */
export async function readReportInput(store: IncidentRecords, id: number): Promise<ReportInput | undefined> {
  const { timelineFirst, timelineLast, alerts, alertNames } = REPORT_LIMITS;
  const incident = await store.incidentHead(id, { offset: 0, limit: alerts });
  if (!incident) return undefined;
  const [entries, first, last, summary, steps, review, updates] = await Promise.all([
    store.timelineCount(id),
    store.timelineHead(id, timelineFirst),
    store.timelinePage(id, { limit: timelineLast }),
    store.alertSummary(id, alertNames),
    store.checklistState(id),
    store.timelinePage(id, { limit: 1, kinds: ['review'] }),
    store.timelinePage(id, { limit: REPORT_LIMITS.publicUpdates, kinds: ['status_update'] }),
  ]);
  // A short timeline is read whole by the two reads: the entries they share are shown once.
  const shared = Math.max(0, first.length + last.entries.length - entries);
  const r = review.entries[0];
  return {
    incident,
    timeline: { first, omitted: Math.max(0, entries - first.length - last.entries.length), last: last.entries.slice(shared) },
    alerts: { shown: incident.alerts, ...summary },
    steps,
    review: r?.kind === 'review' ? { rootCause: r.rootCause, impact: r.impact, prevention: r.prevention, actor: r.actor, at: r.at } : null,
    publicUpdates: updates.entries.flatMap((e) => (e.kind === 'status_update' ? [e] : [])),
  };
}
