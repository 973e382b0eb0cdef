import type { Severity } from '../../classify/severity.js';
import type { Incident, IncidentStatus } from '../../incidents/model.js';
import { html } from '../html.js';
import { deadline, iso, relative, SEVERITY_LABEL, STATUS_LABEL } from './format.js';
import { layout, type PageContext } from './layout.js';

/** The filters and page of the incident list. */
export interface ListQuery {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  page: number;
}

/** The query string of a list page, for links and the live check. */
export function listSearch(q: ListQuery, page = q.page): string {
  const p = new URLSearchParams();
  if (q.status) p.set('status', q.status);
  if (q.severity) p.set('severity', q.severity);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** /incidents: newest first, filters, pages. */
export function listPage(
  ctx: PageContext,
  incidents: Incident[],
  q: ListQuery,
  hasNext: boolean,
  version: string,
  /** Team names by id, for the teams of the config in force. */
  teamNames: ReadonlyMap<string, string> = new Map(),
): string {
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const rows = incidents.map(
    (
      i,
    ) => html`<li class="incident sev-${i.severity}"><a href="/incidents/${i.id}"><span class="badge sev-${i.severity}">${SEVERITY_LABEL[i.severity]}</span> <span class="number">#${i.id}</span> <span class="title">${i.title}</span></a>
<span class="meta"><span class="status">${STATUS_LABEL[i.status]}</span>${i.team !== null ? html` · team ${teamNames.get(i.team) ?? i.team}` : ''} · opened <time datetime="${iso(i.openedAt)}">${relative(i.openedAt, ctx.now)}</time> · deadline ${deadline(i, ctx.now)}</span></li>`,
  );
  const body = html`<h1>Incidents</h1>
<form method="get" action="/incidents" class="filters">
<label for="status">Status</label><select id="status" name="status">${option('', 'Any', q.status ?? '')}${(['open', 'acknowledged', 'resolved'] as const).map((s) => option(s, STATUS_LABEL[s], q.status))}</select>
<label for="severity">Severity</label><select id="severity" name="severity">${option('', 'Any', q.severity ?? '')}${(['critical', 'high', 'medium', 'low'] as const).map((s) => option(s, SEVERITY_LABEL[s], q.severity))}</select>
<button type="submit">Filter</button></form>
<div id="incident-list" data-live>${rows.length ? html`<ul class="incidents">${rows}</ul>` : html`<p>No incidents${q.status || q.severity ? ' match these filters' : ''}.</p>`}</div>
<nav class="pages">${q.page > 1 ? html`<a href="/incidents${listSearch(q, q.page - 1)}" rel="prev">Newer</a>` : ''} <span>Page ${q.page}</span> ${
    hasNext ? html`<a href="/incidents${listSearch(q, q.page + 1)}" rel="next">Older</a>` : ''
  }</nav>`;
  return layout('Incidents', ctx, body, { url: `/incidents/live${listSearch(q)}`, version });
}
