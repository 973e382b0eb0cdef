import { createHash } from 'node:crypto';
import type { Incident, IncidentWithDetails } from '../incidents/model.js';
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

/** The version of an incident page. */
export const incidentVersion = (i: IncidentWithDetails & { alertCount: number }) => {
  const last = i.timeline.at(-1);
  return stamp([i.status, i.severity, i.slaBreached, i.alertCount, i.timeline.length, last?.at, last?.kind]);
};
