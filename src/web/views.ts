import type { Severity } from '../classify/severity.js';
import { checklistStatus, latestReview, type ChecklistSection } from '../incidents/checklist.js';
import { formatDuration } from '../incidents/duration.js';
import type { Alert, Incident, IncidentStatus, IncidentWithDetails } from '../incidents/model.js';
import type { TimelineEntry } from '../incidents/timeline.js';
import { channelLabel, describeEntry } from '../incidents/timeline-text.js';
import { html, link, safeHref, type Html } from './html.js';
import type { Viewer } from './session.js';

// The pages, as functions of their data: no I/O here, so tests can render them directly.

const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };
const STATUS_LABEL: Record<IncidentStatus, string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const iso = (ms: number) => new Date(ms).toISOString();

/** "in 4m" or "12m ago"; rounded to the minute past an hour, so it reads at a glance. */
export function relative(ms: number, now: number): string {
  const d = ms - now;
  const abs = Math.abs(d) < 60_000 ? `${Math.max(0, Math.round(Math.abs(d) / 1000))}s` : formatDuration(Math.round(Math.abs(d) / 60_000) * 60_000);
  return d >= 0 ? `in ${abs}` : `${abs} ago`;
}

/** What decided the severity, in words: a rule's name, or the alert's own label. */
export function decidedBy(rule: string): string {
  if (rule.startsWith('label:')) return `the alert's label ${rule.slice('label:'.length)}`;
  if (rule === 'default') return 'the default severity (no rule matched)';
  if (rule === 'explicit-label') return 'the triage_severity label';
  return `rule ${rule}`;
}

/** The deadline as the list and the page show it: a countdown, "breached", or kept. */
export function deadline(i: Incident, now: number): Html {
  if (i.slaBreached || (i.acknowledgedAt === null && i.status !== 'resolved' && now >= i.respondBy)) {
    return html`<span class="breached">breached</span>`;
  }
  if (i.acknowledgedAt !== null) return html`<span class="kept">responded</span>`;
  return html`<time class="countdown" datetime="${iso(i.respondBy)}" data-deadline="${i.respondBy}">${relative(i.respondBy, now)}</time>`;
}

/**
 * The address of Alertmanager's silence form for one alert, with its labels as equality matchers;
 * undefined when the incident's externalURL is not http(s).
 */
export function silenceUrl(externalUrl: string, labels: Record<string, string>): string | undefined {
  const base = safeHref(externalUrl);
  if (!base) return undefined;
  const matchers = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `${base.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${matchers.join(',')}}`)}`;
}

/** What every page shares: where the page is, who is signed in, and the CSRF token for its forms. */
export interface PageContext {
  viewer?: Viewer | undefined;
  csrf: string;
  now: number;
  /** Sign-out is offered only with the built-in sign-in; behind a proxy it is the proxy's. */
  canSignOut: boolean;
}

/** Where the page's script asks for the version of what it shows, and the version it was rendered at. */
interface LiveCheck {
  url: string;
  version: string;
}

function layout(title: string, ctx: PageContext, body: Html, live?: LiveCheck): string {
  const nav = ctx.viewer
    ? html`<nav><a href="/incidents">Incidents</a><span class="who">Signed in as ${ctx.viewer.name}</span>${
        ctx.canSignOut ? html`<form method="post" action="/sign-out" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Sign out</button></form>` : ''
      }</nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · alert-triage</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body${live ? html` data-live-url="${live.url}" data-live-version="${live.version}"` : ''}>${nav}<main>${body}</main></body></html>`.value;
}

function hidden(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

/** The sign-in page: the built-in form, or a word about the proxy. */
export function signInPage(ctx: PageContext, opts: { proxy: boolean; next: string; error?: string; name?: string; openTrial?: boolean }): string {
  if (opts.proxy) {
    return layout('Sign in', ctx, html`<h1>Sign in</h1><p>This service signs people in through an authenticating proxy. Open it through the proxy's address.</p>`);
  }
  return layout(
    'Sign in',
    ctx,
    html`<h1>Sign in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
${opts.openTrial ? html`<p class="warn">API_TOKEN is not set: any token signs in (a local trial).</p>` : ''}
<form method="post" action="/sign-in" class="stack">${hidden(ctx.csrf)}<input type="hidden" name="next" value="${opts.next}">
<label for="name">Your name</label><input id="name" name="name" required maxlength="200" autocomplete="name" value="${opts.name ?? ''}">
<label for="token">API token</label><input id="token" name="token" type="password" required maxlength="1000" autocomplete="current-password">
<button type="submit">Sign in</button></form>`,
  );
}

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
export function listPage(ctx: PageContext, incidents: Incident[], q: ListQuery, hasNext: boolean, version: string): string {
  const option = (value: string, label: string, current: string | undefined) => html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const rows = incidents.map(
    (i) => html`<li class="incident sev-${i.severity}"><a href="/incidents/${i.id}"><span class="sev">${SEVERITY_LABEL[i.severity]}</span> <span class="title">${i.title}</span></a>
<span class="meta"><span class="status">${STATUS_LABEL[i.status]}</span> · opened <time datetime="${iso(i.openedAt)}">${relative(i.openedAt, ctx.now)}</time> · deadline ${deadline(i, ctx.now)}</span></li>`,
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

function labelList(labels: Record<string, string>): Html {
  const entries = Object.entries(labels);
  if (!entries.length) return html`<p class="muted">none</p>`;
  return html`<dl class="labels">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${k.endsWith('_url') ? link(v, v) : v}</dd>`)}</dl>`;
}

function alertItem(a: Alert, externalUrl: string, now: number): Html {
  const silence = silenceUrl(externalUrl, a.labels);
  return html`<li class="alert"><h3>${a.labels['alertname'] ?? a.fingerprint} <span class="status">${a.status}</span></h3>
<p>Started <time datetime="${iso(a.startsAt)}">${utc(a.startsAt)}</time> (${relative(a.startsAt, now)})${a.endsAt !== null ? html`, ended ${utc(a.endsAt)}` : ''}; ${SEVERITY_LABEL[a.severity]} by ${decidedBy(a.rule)}</p>
<h4>Labels</h4>${labelList(a.labels)}<h4>Annotations</h4>${labelList(a.annotations)}
<p class="links">${a.generatorUrl ? html`Source: ${link(a.generatorUrl, 'generator URL')}` : ''}${safeHref(a.generatorUrl) ? '' : a.generatorUrl ? html` <code>${a.generatorUrl}</code>` : ''}${
    silence ? html` · <a href="${silence}" rel="noopener noreferrer">Silence in Alertmanager</a>` : ''
  }</p></li>`;
}

const PAGING_KINDS = new Set<TimelineEntry['kind']>(['paged', 'page_failed', 'page_retrying', 'escalated', 'reminder']);

function pagingItem(e: TimelineEntry): Html {
  let outcome = '';
  if (e.kind === 'paged') outcome = e.outcome === 'folded' ? 'in a digest' : 'delivered';
  else if (e.kind === 'page_failed') outcome = e.outcome === 'skipped' ? 'not sent' : 'failed';
  else if (e.kind === 'page_retrying') outcome = 'retrying';
  else outcome = 'paging';
  const who =
    e.kind === 'paged' || e.kind === 'page_failed' || e.kind === 'page_retrying'
      ? `${channelLabel(e.channel)} ${e.target}${e.recipients.length && e.recipients.join(', ') !== e.target ? ` (${e.recipients.join(', ')})` : ''}`
      : e.kind === 'escalated' || e.kind === 'reminder'
        ? e.paged.map((p) => p.name).join(', ') || 'nobody'
        : '';
  return html`<li class="page-${outcome.replace(' ', '-')}"><time datetime="${iso(e.at)}">${utc(e.at)}</time> <strong>${who}</strong>: ${outcome}<br><span class="muted">${describeEntry(e)}</span></li>`;
}

const STATE_MARK = { done: '✅', problem: '⚠️', undone: '' } as const;

function checklistBlock(incident: IncidentWithDetails, sections: ChecklistSection[], csrf: string): Html {
  const status = checklistStatus(incident.timeline);
  let n = 0;
  return html`${sections.map(
    (s) => html`<h3>${s.section}</h3><ul class="checklist">${s.steps.map((step) => {
      n += 1;
      const st = status.get(step);
      const done = st?.state === 'done';
      const id = `step-${n}`;
      return html`<li class="step ${st?.state ?? 'undone'}"><form method="post" action="/incidents/${incident.id}/checklist" class="step-form">${hidden(csrf)}<input type="hidden" name="step" value="${step}">
<input type="checkbox" id="${id}" name="done" value="on"${done ? html` checked` : ''} data-autosubmit><label for="${id}">${step}</label> <button type="submit" class="small">Update</button></form>
${st && st.state !== 'undone' ? html`<p class="by">${STATE_MARK[st.state]} ${st.state === 'done' ? 'done' : 'problem'} by ${st.actor}, <time datetime="${iso(st.at)}">${utc(st.at)}</time>${st.note ? html`: ${st.note}` : ''}</p>` : ''}
<details><summary>Report a problem</summary><form method="post" action="/incidents/${incident.id}/checklist" class="stack">${hidden(csrf)}<input type="hidden" name="step" value="${step}"><input type="hidden" name="problem" value="on">
<label for="${id}-problem">Problem with this step</label><input id="${id}-problem" name="note" required maxlength="2000"><button type="submit">Mark as a problem</button></form></details></li>`;
    })}</ul>`,
  )}`;
}

/** Everything /incidents/:id shows. */
export interface IncidentView {
  incident: IncidentWithDetails & { alertCount: number };
  checklist: ChecklistSection[];
  /** The team's name, when a team's matchers selected the incident. */
  team?: string | undefined;
}

/** /incidents/:id: what fired, the deadline, who was paged, the alerts, the timeline, the checklist, the notes, the review. */
export function incidentPage(ctx: PageContext, view: IncidentView, version: string): string {
  const { incident: i, checklist } = view;
  const review = latestReview(i.timeline);
  const notes = i.timeline.filter((e) => e.kind === 'note');
  const paging = i.timeline.filter((e) => PAGING_KINDS.has(e.kind));
  const csrf = ctx.csrf;
  const actions = html`${i.status === 'open' ? html`<form method="post" action="/incidents/${i.id}/ack" class="inline">${hidden(csrf)}<button type="submit" class="primary">Acknowledge</button></form>` : ''}${
    i.status !== 'resolved' ? html`<form method="post" action="/incidents/${i.id}/resolve" class="inline">${hidden(csrf)}<button type="submit">Resolve</button></form>` : ''
  }`;
  const body = html`<p><a href="/incidents">← All incidents</a></p>
<header id="summary" data-live class="sev-${i.severity}"><h1>${i.title}</h1>
<p class="sev">${SEVERITY_LABEL[i.severity]} <span class="muted">decided by ${decidedBy(i.rule)}</span>${view.team ? html` · team ${view.team}` : ''}</p>
<p><span class="status">${STATUS_LABEL[i.status]}</span>${i.acknowledgedBy ? html` · acknowledged by ${i.acknowledgedBy} ${relative(i.acknowledgedAt!, ctx.now)}` : ''}${
    i.resolvedBy ? html` · resolved by ${i.resolvedBy} ${relative(i.resolvedAt!, ctx.now)}` : ''
  }</p>
<p>Opened <time datetime="${iso(i.openedAt)}">${utc(i.openedAt)}</time> (${relative(i.openedAt, ctx.now)}). Respond by <time datetime="${iso(i.respondBy)}">${utc(i.respondBy)}</time>: ${deadline(i, ctx.now)}</p>
<div class="actions">${actions}</div></header>
<section id="paging" data-live><h2>Who was paged</h2>${paging.length ? html`<ul class="paging">${paging.map(pagingItem)}</ul>` : html`<p class="muted">Nobody has been paged yet.</p>`}</section>
<section id="checklist"><h2>Checklist</h2><div id="checklist-steps" data-live>${checklistBlock(i, checklist, csrf)}</div></section>
<section id="notes"><h2>Notes</h2><div id="note-list" data-live>${
    notes.length ? html`<ul class="notes">${notes.map((n) => html`<li><time datetime="${iso(n.at)}">${utc(n.at)}</time> <strong>${n.actor}</strong>: ${n.kind === 'note' ? n.text : ''}</li>`)}</ul>` : html`<p class="muted">No notes yet.</p>`
  }</div>
<form method="post" action="/incidents/${i.id}/notes" class="stack">${hidden(csrf)}<label for="note">Note</label><textarea id="note" name="text" required maxlength="4000" rows="3"></textarea><button type="submit">Add note</button></form></section>
<section id="review"><h2>Post-incident review</h2><div id="review-saved" data-live>${
    review ? html`<p class="muted">Saved by ${review.actor}, ${utc(review.at)}</p>` : html`<p class="muted">Not written yet.</p>`
  }</div>
<form method="post" action="/incidents/${i.id}/review" class="stack">${hidden(csrf)}
<label for="root-cause">Root cause</label><textarea id="root-cause" name="rootCause" maxlength="10000" rows="3">${review?.rootCause ?? ''}</textarea>
<label for="impact">Impact</label><textarea id="impact" name="impact" maxlength="10000" rows="3">${review?.impact ?? ''}</textarea>
<label for="prevention">Lessons and prevention</label><textarea id="prevention" name="prevention" maxlength="10000" rows="3">${review?.prevention ?? ''}</textarea>
<button type="submit">Save</button></form></section>
<section id="alerts" data-live><h2>Alerts (${i.alertCount})</h2><ul class="alerts">${i.alerts.map((a) => alertItem(a, i.externalUrl, ctx.now))}</ul>${
    i.alertCount > i.alerts.length ? html`<p class="muted">Showing the first ${i.alerts.length} of ${i.alertCount}; the API has them all.</p>` : ''
  }</section>
<section id="timeline" data-live><h2>Timeline</h2><ol class="timeline">${i.timeline.map(
    (e) => html`<li class="kind-${e.kind}"><time datetime="${iso(e.at)}">${utc(e.at)}</time> <strong>${e.actor}</strong> ${describeEntry(e)}</li>`,
  )}</ol></section>`;
  return layout(i.title, ctx, body, { url: `/incidents/${i.id}/live`, version });
}

/** An error page for a person: the status and what to do. */
export function errorPage(ctx: PageContext, status: number, message: string): string {
  return layout(`Error ${status}`, ctx, html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Cannot do that'}</h1><p class="error" role="alert">${message}</p><p><a href="/incidents">Back to the incidents</a></p>`);
}
