import { createHash } from 'node:crypto';
import type { Incident } from '../incidents/model.js';
import { latestReview } from '../incidents/checklist.js';
import { parseCursor } from '../http/timeline-cursor.js';
import type { IncidentStore } from '../store/store.js';
import type { ListQuery } from './views/incident-list.js';
import type { ListQs } from './schemas.js';

// What the pages and their live checks read from the store, and the version of what they show.

const PAGE_SIZE = 50;

/** The list's query string as the view takes it: "Any" ('') is no filter. */
export const listArgs = (q: ListQs): ListQuery => ({ status: q.status || undefined, severity: q.severity || undefined, page: q.page ?? 1 });

/** One page of the list, newest first. */
export async function fetchList(store: IncidentStore, q: ListQuery) {
  // One more than a page tells whether an older page exists, without counting them all.
  const rows = await store.listIncidents({
    status: q.status,
    severity: q.severity,
    limit: PAGE_SIZE + 1,
    offset: (q.page - 1) * PAGE_SIZE,
  });
  return { incidents: rows.slice(0, PAGE_SIZE), hasNext: rows.length > PAGE_SIZE };
}

// A page carries the version of what it shows, and the script compares the live URL's answer
// against that: a change committed between the page's render and the script's first poll is
// still seen as a change.
const stamp = (parts: unknown) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);

/** The version of a list page. */
export const listVersion = (incidents: Incident[], hasNext: boolean) =>
  stamp([hasNext, incidents.map((i) => [i.id, i.status, i.severity, i.slaBreached, i.title])]);

/** The timeline entries an incident page shows at a time, and the notes and pages sent it lists. */
export const TIMELINE_SHOWN = 50;
export const NOTES_SHOWN = 20;
export const PAGING_SHOWN = 20;
export const ALERTS_SHOWN = 100;

const PAGING_KINDS = ['paged', 'page_failed', 'page_retrying', 'escalated', 'reminder'] as const;

/**
 * What an incident page shows, each part read on its own and bounded, whatever the length of the
 * timeline: the incident with one window of alerts, one page of the timeline (the newest, or the
 * one before `before`), the newest notes and pages sent, the latest review and the checklist's
 * marks. Its version is the store's (IncidentHead.version), which the live poll reads alone.
 */
export async function fetchIncident(store: IncidentStore, id: number, q: { before?: string | undefined; alerts?: number | undefined }) {
  const alertsFrom = q.alerts ?? 0;
  const incident = await store.incidentHead(id, { offset: alertsFrom, limit: ALERTS_SHOWN });
  if (!incident) return undefined;
  const [timeline, notes, paging, review, steps] = await Promise.all([
    store.timelinePage(id, { before: parseCursor(q.before), limit: TIMELINE_SHOWN }),
    store.timelinePage(id, { limit: NOTES_SHOWN, kinds: ['note'] }),
    store.timelinePage(id, { limit: PAGING_SHOWN, kinds: PAGING_KINDS }),
    store.timelinePage(id, { limit: 1, kinds: ['review'] }),
    store.checklistState(id),
  ]);
  return { incident, alertsFrom, timeline, notes, paging, review: latestReview(review.entries), steps, before: q.before };
}
