import type { ChecklistSection, Review, StepStatus } from '../../incidents/checklist.js';
import type { Alert, AlertSource } from '../../incidents/model.js';
import type { TimelineEntry } from '../../incidents/timeline.js';
import type { IncidentHead, TimelinePage } from '../../store/store.js';
import { formatCursor } from '../../http/timeline-cursor.js';
import { ALERTS_SHOWN } from '../incident-reads.js';
import { channelLabel, describeEntry } from '../../incidents/timeline-text.js';
import { html, link, safeHref, type Html } from '../html.js';
import { decidedBy, deadline, iso, relative, SEVERITY_LABEL, STATUS_LABEL, utc } from './format.js';
import { hidden, layout, type PageContext } from './layout.js';
import type { IncidentSilence } from '../../service/silence-service.js';
import { publicUpdateSection, type PublicUpdateView } from './public-update-form.js';

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

function labelList(labels: Record<string, string>): Html {
  const entries = Object.entries(labels);
  if (!entries.length) return html`<p class="muted">none</p>`;
  return html`<dl class="labels">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${k.endsWith('_url') ? link(v, v) : v}</dd>`)}</dl>`;
}

/** Grafana's values of the alert's queries and expressions when it was evaluated. */
function valuesList(a: Alert): Html {
  const values = Object.entries(a.links?.values ?? {});
  if (!values.length) return html``;
  return html`<h4>Values</h4><dl class="labels">${values.map(([k, v]) => html`<dt>${k}</dt><dd>${v === null ? 'no value' : String(v)}</dd>`)}</dl>`;
}

/** Who sent the incident's first notification, in words. */
export const SOURCE_LABEL: Record<AlertSource, string> = { alertmanager: 'Alertmanager', grafana: 'Grafana Alerting', other: 'a webhook' };

function alertItem(a: Alert, externalUrl: string, now: number, source: AlertSource): Html {
  const silence = silenceUrl(externalUrl, a.labels);
  return html`<li class="alert"><h3>${a.labels['alertname'] ?? a.fingerprint} <span class="status">${a.status}</span></h3>
<p>Started <time datetime="${iso(a.startsAt)}">${utc(a.startsAt)}</time> (${relative(a.startsAt, now)})${a.endsAt !== null ? html`, ended ${utc(a.endsAt)}` : ''}; ${SEVERITY_LABEL[a.severity]} by ${decidedBy(a.rule)}</p>
<h4>Labels</h4>${labelList(a.labels)}<h4>Annotations</h4>${labelList(a.annotations)}
${valuesList(a)}<p class="links">${a.generatorUrl ? html`Source: ${link(a.generatorUrl, 'generator URL')}` : ''}${safeHref(a.generatorUrl) ? '' : a.generatorUrl ? html` <code>${a.generatorUrl}</code>` : ''}${
    a.links?.dashboardUrl ? html` · ${link(a.links.dashboardUrl, 'Dashboard')}` : ''
  }${a.links?.panelUrl ? html` · ${link(a.links.panelUrl, 'Panel')}` : ''}${
    a.links?.silenceUrl
      ? html` · ${link(a.links.silenceUrl, source === 'grafana' ? 'Silence in Grafana' : 'Silence')}`
      : silence
        ? html` · <a href="${silence}" rel="noopener noreferrer">Silence in Alertmanager</a>`
        : ''
  }</p></li>`;
}

function pagingItem(e: TimelineEntry): Html {
  let outcome = '';
  // A call is placed, not delivered: whether it was answered shows in its own entries.
  if (e.kind === 'paged') outcome = e.outcome === 'folded' ? 'in a digest' : e.channel === 'voice' ? 'placed' : 'delivered';
  else if (e.kind === 'page_failed') outcome = e.outcome === 'skipped' ? 'not sent' : e.outcome === 'stopped' ? 'stopped' : 'failed';
  else if (e.kind === 'page_retrying') outcome = 'retrying';
  else if (e.kind === 'unpaged') outcome = 'not sent';
  else if (e.kind === 'phone') outcome = e.outcome === 'key_pressed' ? `key ${e.digit ?? ''} pressed` : e.outcome.replace('_', ' ');
  else outcome = 'paging';
  const who =
    e.kind === 'paged' || e.kind === 'page_failed' || e.kind === 'page_retrying'
      ? `${channelLabel(e.channel)} ${e.target}${e.recipients.length && e.recipients.join(', ') !== e.target ? ` (${e.recipients.join(', ')})` : ''}`
      : e.kind === 'phone'
        ? `${channelLabel(e.channel)} ${e.to} (${e.name ?? e.contact})`
        : e.kind === 'escalated' || e.kind === 'reminder'
          ? e.paged.map((p) => p.name).join(', ') || 'nobody'
          : e.kind === 'unpaged'
            ? 'Nobody'
            : '';
  return html`<li class="page-${outcome.replace(/[^a-z0-9]+/g, '-')}"><time datetime="${iso(e.at)}">${utc(e.at)}</time> <strong>${who}</strong>: ${outcome}<br><span class="muted">${describeEntry(e)}</span></li>`;
}

const STATE_MARK = { done: '✅', problem: '⚠️', undone: '' } as const;

/**
 * The checklist, one <details> per section with only the current one open: the first section with
 * a step not done yet (none once all are done). The boxes belong to one form and its one "Save
 * checklist" button, which saves only what the viewer changed since the page was rendered (`was`),
 * so that it never undoes a tick someone else made meanwhile. With the script, a box is sent as
 * soon as it changes and the button is hidden. "Report a problem" is a form of its own per step.
 */
function checklistBlock(
  incident: IncidentHead,
  status: ReadonlyMap<string, StepStatus>,
  sections: ChecklistSection[],
  csrf: string,
  readOnly: boolean,
): Html {
  const current = sections.findIndex((s) => s.steps.some((step) => status.get(step)?.state !== 'done'));
  if (readOnly) return checklistReadOnly(status, sections, current);
  const formId = 'checklist-save';
  let n = 0;
  return html`${sections.map((s, k) => {
    const done = s.steps.filter((step) => status.get(step)?.state === 'done').length;
    return html`<details class="section"${k === current ? html` open` : ''}><summary><span class="section-name">${s.section}</span> <span class="muted">${done} of ${s.steps.length} done</span></summary><ul class="checklist">${s.steps.map(
      (step) => {
        n += 1;
        const st = status.get(step);
        const ticked = st?.state === 'done';
        const id = `step-${n}`;
        return html`<li class="step ${st?.state ?? 'undone'}"><div class="step-row"><input type="hidden" form="${formId}" name="shown" value="${step}">${ticked ? html`<input type="hidden" form="${formId}" name="was" value="${step}">` : ''}<input type="checkbox" id="${id}" form="${formId}" name="done" value="${step}"${ticked ? html` checked` : ''} data-step="${step}"><label for="${id}">${step}</label></div>
${st && st.state !== 'undone' ? html`<p class="by">${STATE_MARK[st.state]} ${st.state === 'done' ? 'done' : 'problem'} by ${st.actor}, <time datetime="${iso(st.at)}">${utc(st.at)}</time>${st.note ? html`: ${st.note}` : ''}</p>` : ''}
<details class="problem"><summary>Report a problem</summary><form method="post" action="/incidents/${incident.id}/checklist" class="stack">${hidden(csrf)}<input type="hidden" name="step" value="${step}"><input type="hidden" name="problem" value="on">
<label for="${id}-problem">Problem with this step</label><input id="${id}-problem" name="note" required maxlength="2000"><button type="submit">Mark as a problem</button></form></details></li>`;
      },
    )}</ul></details>`;
  })}<form id="${formId}" method="post" action="/incidents/${incident.id}/checklist/save" class="nojs" data-step-action="/incidents/${incident.id}/checklist">${hidden(csrf)}<button type="submit">Save checklist</button></form>`;
}

/** The checklist for someone who may not tick it: each step's state in words, no box, no form. */
function checklistReadOnly(status: ReadonlyMap<string, StepStatus>, sections: ChecklistSection[], current: number): Html {
  return html`${sections.map((s, k) => {
    const done = s.steps.filter((step) => status.get(step)?.state === 'done').length;
    return html`<details class="section"${k === current ? html` open` : ''}><summary><span class="section-name">${s.section}</span> <span class="muted">${done} of ${s.steps.length} done</span></summary><ul class="checklist">${s.steps.map(
      (step) => {
        const st = status.get(step);
        const state = st?.state ?? 'undone';
        return html`<li class="step ${state}"><div class="step-row"><span class="step-state">${state === 'undone' ? 'Not done' : state === 'done' ? '✅ Done' : '⚠️ Problem'}:</span> <span>${step}</span></div>
${st && st.state !== 'undone' ? html`<p class="by">by ${st.actor}, <time datetime="${iso(st.at)}">${utc(st.at)}</time>${st.note ? html`: ${st.note}` : ''}</p>` : ''}</li>`;
      },
    )}</ul></details>`;
  })}`;
}

/** Everything /incidents/:id shows: each part bounded, whatever the length of the timeline (web/incident-reads.ts). */
export interface IncidentView {
  incident: IncidentHead;
  /** The first alert shown (incident.alerts starts there), from 0. */
  alertsFrom: number;
  /** One page of the timeline: the newest, or the one before the cursor `before`. */
  timeline: TimelinePage;
  before?: string | undefined;
  /** The newest notes and pages sent. */
  notes: TimelinePage;
  paging: TimelinePage;
  review: (Review & { actor: string; at: number }) | null;
  /** Each checklist step's latest mark. */
  steps: ReadonlyMap<string, StepStatus>;
  checklist: ChecklistSection[];
  /** The team's name, when a team's matchers selected the incident. */
  team?: string | undefined;
  /** The on-call page of the incident's team (its own rotation's, else the top level's). */
  oncallHref?: string | undefined;
  /** Its silences in Alertmanager, or why they could not be read; absent when silences are not offered. */
  silences?: { list: IncidentSilence[]; maySilence: boolean } | { error: string; maySilence: boolean } | undefined;
  /** The status page section: what was posted publicly, and the form; absent when the service has no status page. */
  publicUpdates?: PublicUpdateView | undefined;
  /**
   * Why the person reading may not act on the incident (web/permissions.ts), when they may not: the
   * page is then read-only, saying so in this line, with no button that would only answer 403.
   */
  readOnly?: string | undefined;
}

/** What happens to a silence when the incident resolves, in words (only those made here are expired then). */
function whenResolved(s: IncidentSilence): string {
  if (!s.madeHere) return 'made in Alertmanager, not from this page: it stays until its end';
  if (s.madeHere.untilResolved) return 'until the incident resolves: expired then';
  return s.madeHere.keepAfterResolve ? 'kept after the incident resolves (chosen when it was made)' : 'expired when the incident resolves';
}

function silencesBlock(i: IncidentHead, view: NonNullable<IncidentView['silences']>, csrf: string, now: number): Html {
  const list =
    'error' in view
      ? html`<p class="problem" role="status">Alertmanager did not answer, so the silences cannot be shown: ${view.error}</p>`
      : view.list.length
        ? html`<ul class="silences">${view.list.map(
            (s) =>
              html`<li class="silence"><code>${s.matchers}</code><br>${s.state === 'pending' ? 'starts ' : ''}by <strong>${s.createdBy}</strong>, until ${
                s.madeHere?.untilResolved
                  ? 'the incident resolves'
                  : html`<time datetime="${iso(s.endsAt)}">${utc(s.endsAt)}</time> (${relative(s.endsAt, now)})`
              }<br><span class="muted">${whenResolved(s)}</span>${
                view.maySilence
                  ? html`<form method="post" action="/incidents/${i.id}/silences/${s.id}/expire">${hidden(csrf)}<button type="submit" class="small">Expire now</button></form>`
                  : ''
              }</li>`,
          )}</ul>`
        : html`<p class="muted">No silence in Alertmanager matches this incident's alerts.</p>`;
  if (!view.maySilence || i.status === 'resolved') return list;
  const groupText = Object.entries(i.groupLabels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  const firing = i.alerts.filter((a) => a.status === 'firing');
  return html`${list}<form method="post" action="/incidents/${i.id}/silences" class="stack silence-form">${hidden(csrf)}
<fieldset><legend>Make a silence (in Alertmanager)</legend>
<div class="choice"><input type="radio" id="silence-group" name="scope" value="group" checked${groupText ? '' : html` disabled`}><label for="silence-group">The whole group${groupText ? html` <code>{${groupText}}</code>` : ' (it has no group labels)'}</label></div>
${
  firing.length
    ? html`<div class="choice"><input type="radio" id="silence-one" name="scope" value="alert"${groupText ? '' : html` checked`}><label for="silence-one">One alert:</label></div>
<label for="silence-alert">Which alert</label><select id="silence-alert" name="fingerprint">${firing.map(
        (a) =>
          html`<option value="${a.fingerprint}">${a.labels['alertname'] ?? a.fingerprint} ${Object.entries(a.labels)
            .filter(([k]) => k !== 'alertname')
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}</option>`,
      )}</select>`
    : ''
}
<div class="choice"><input type="checkbox" id="silence-keep" name="keep" value="on"><label for="silence-keep">Keep it after the incident resolves (otherwise it is expired when the incident resolves)</label></div>
<p class="silence-buttons">Silence for <button type="submit" name="length" value="1h">1 h</button> <button type="submit" name="length" value="4h">4 h</button> <button type="submit" name="length" value="24h">24 h</button> <button type="submit" name="length" value="resolved">until resolved</button></p>
</fieldset></form>`;
}

/** /incidents/:id: what fired, the deadline, who was paged, the alerts, the timeline, the checklist, the notes, the review. */
export function incidentPage(ctx: PageContext, view: IncidentView, version: string): string {
  const { incident: i, checklist, review } = view;
  const notes = view.notes.entries;
  const paging = view.paging.entries;
  const csrf = ctx.csrf;
  const readOnly = view.readOnly !== undefined;
  const actions = readOnly
    ? html``
    : html`${i.status === 'open' ? html`<form method="post" action="/incidents/${i.id}/ack" class="inline">${hidden(csrf)}<button type="submit" class="primary">Acknowledge</button></form>` : ''}${
        i.status !== 'resolved'
          ? html`<form method="post" action="/incidents/${i.id}/resolve" class="inline">${hidden(csrf)}<button type="submit">Resolve</button></form>`
          : ''
      }`;
  const body = html`<p><a href="/incidents">← All incidents</a></p>
<header id="summary" data-live class="sev-${i.severity}"><h1>${i.title}</h1>
<p class="sev">${SEVERITY_LABEL[i.severity]} <span class="muted">decided by ${decidedBy(i.rule)}</span>${view.team ? html` · team ${view.team}` : ''} · <a href="${view.oncallHref ?? '/oncall'}">who is on call for ${view.team ? 'this team' : 'incidents'}</a> · from ${SOURCE_LABEL[i.source]}</p>
<p><span class="status">${STATUS_LABEL[i.status]}</span>${i.acknowledgedBy ? html` · acknowledged by ${i.acknowledgedBy} ${relative(i.acknowledgedAt!, ctx.now)}` : ''}${
    i.resolvedBy ? html` · resolved by ${i.resolvedBy} ${relative(i.resolvedAt!, ctx.now)}` : ''
  }</p>
<p>Opened <time datetime="${iso(i.openedAt)}">${utc(i.openedAt)}</time> (${relative(i.openedAt, ctx.now)}). Respond by <time datetime="${iso(i.respondBy)}">${utc(i.respondBy)}</time>: ${deadline(i, ctx.now)}</p>
<div class="actions">${actions}<a class="link-button" href="/incidents/${i.id}/report">Report</a></div>${
    readOnly ? html`<p class="read-only" role="note">${view.readOnly} <a href="/me">Your role</a></p>` : ''
  }</header>
<section id="paging" data-live><h2>Who was paged</h2>${paging.length ? html`<ul class="paging">${paging.map(pagingItem)}</ul>${view.paging.older ? html`<p class="muted">The latest ${paging.length}; earlier pages are in the timeline.</p>` : ''}` : html`<p class="muted">Nobody has been paged yet.</p>`}</section>
<section id="alerts" data-live><h2>Alerts (${i.alertCount})</h2>${alertRange(view)}<ul class="alerts">${i.alerts.map((a) => alertItem(a, i.externalUrl, ctx.now, i.source))}</ul>${alertPages(view)}</section>
${view.silences ? html`<section id="silences"><h2>Silences</h2>${silencesBlock(i, view.silences, csrf, ctx.now)}</section>` : ''}
<section id="checklist"><h2>Checklist</h2><div id="checklist-steps" data-live>${checklistBlock(i, view.steps, checklist, csrf, readOnly)}</div></section>
${view.publicUpdates ? publicUpdateSection(i.id, csrf, view.publicUpdates) : ''}
<section id="notes"><h2>Notes</h2><div id="note-list" data-live>${
    notes.length
      ? html`<ul class="notes">${notes.map((n) => html`<li><time datetime="${iso(n.at)}">${utc(n.at)}</time> <strong>${n.actor}</strong>: ${n.kind === 'note' ? n.text : ''}</li>`)}</ul>${
          view.notes.older ? html`<p class="muted">The newest ${notes.length} notes; older ones are in the timeline.</p>` : ''
        }`
      : html`<p class="muted">No notes yet.</p>`
  }</div>
${
  readOnly
    ? ''
    : html`<form method="post" action="/incidents/${i.id}/notes" class="stack">${hidden(csrf)}<label for="note">Note</label><textarea id="note" name="text" required maxlength="4000" rows="3"></textarea><button type="submit">Add note</button></form>`
}</section>
<section id="review"><h2>Post-incident review</h2><div id="review-saved" data-live>${
    review ? html`<p class="muted">Saved by ${review.actor}, ${utc(review.at)}</p>` : html`<p class="muted">Not written yet.</p>`
  }${readOnly && review ? reviewText(review) : ''}</div>
${
  readOnly
    ? ''
    : html`<form method="post" action="/incidents/${i.id}/review" class="stack">${hidden(csrf)}
<label for="root-cause">Root cause of the incident</label><textarea id="root-cause" name="rootCause" maxlength="10000" rows="3">${review?.rootCause ?? ''}</textarea>
<label for="impact">Impact</label><textarea id="impact" name="impact" maxlength="10000" rows="3">${review?.impact ?? ''}</textarea>
<label for="prevention">Lessons and prevention</label><textarea id="prevention" name="prevention" maxlength="10000" rows="3">${review?.prevention ?? ''}</textarea>
<button type="submit">Save review</button></form>`
}</section>
<section id="timeline" data-live><h2>Timeline</h2><p class="muted">${view.before === undefined ? 'Newest first.' : 'Older entries, newest first.'}</p>${timelineBlock(view)}</section>`;
  return layout(i.title, ctx, body, { url: `/incidents/${i.id}/live`, version });
}

/** A saved review as text, for someone who may not edit it. */
function reviewText(review: Review): Html {
  const part = (title: string, text: string) => html`<h3>${title}</h3><p class="review-text">${text || '—'}</p>`;
  return html`${part('Root cause of the incident', review.rootCause)}${part('Impact', review.impact)}${part('Lessons and prevention', review.prevention)}`;
}

/** An incident page's address with its windows: `before` (the timeline's cursor) and `alerts` (the first alert shown). */
function pageUrl(id: number, q: { before?: string | null; alerts?: number }, anchor: string): string {
  const params = new URLSearchParams();
  if (q.before) params.set('before', q.before);
  if (q.alerts) params.set('alerts', String(q.alerts));
  const query = params.toString();
  return `/incidents/${id}${query ? `?${query}` : ''}#${anchor}`;
}

/** Which alerts are shown of how many, when not all of them. */
function alertRange(view: IncidentView): Html {
  const { incident: i, alertsFrom } = view;
  if (i.alertCount <= i.alerts.length && alertsFrom === 0) return html``;
  const shown = i.alerts.length ? `${alertsFrom + 1}–${alertsFrom + i.alerts.length}` : 'none';
  return html`<p class="muted">Showing alerts ${shown} of ${i.alertCount}.</p>`;
}

/** Links to the next and previous alerts, the timeline's page kept. */
function alertPages(view: IncidentView): Html {
  const { incident: i, alertsFrom } = view;
  if (i.alertCount <= i.alerts.length && alertsFrom === 0) return html``;
  const before = view.before ?? null;
  const previous = alertsFrom > 0 ? Math.max(0, alertsFrom - ALERTS_SHOWN) : undefined;
  const next = alertsFrom + i.alerts.length < i.alertCount ? alertsFrom + ALERTS_SHOWN : undefined;
  return html`<p class="pages">${
    previous !== undefined
      ? html`<a href="${pageUrl(i.id, { before, alerts: previous }, 'alerts')}" rel="prev">Previous ${ALERTS_SHOWN} alerts</a>`
      : ''
  }${next !== undefined ? html`<a href="${pageUrl(i.id, { before, alerts: next }, 'alerts')}" rel="next">Next ${Math.min(ALERTS_SHOWN, i.alertCount - next)} alerts</a>` : ''}</p>`;
}

/** The timeline's page, newest first, with "Show older" while older entries exist and "Newest" on an older page. */
function timelineBlock(view: IncidentView): Html {
  const { incident: i, timeline, alertsFrom } = view;
  const newest = view.before === undefined;
  const entries = [...timeline.entries].reverse();
  const older = formatCursor(timeline.older);
  return html`${
    entries.length
      ? html`<ol class="timeline">${entries.map(
          (e) =>
            html`<li class="kind-${e.kind}"><time datetime="${iso(e.at)}">${utc(e.at)}</time> <strong>${e.actor}</strong> ${describeEntry(e)}</li>`,
        )}</ol>`
      : html`<p class="muted">No entries.</p>`
  }<p class="pages">${
    newest ? '' : html`<a href="${pageUrl(i.id, { alerts: alertsFrom }, 'timeline')}">Newest entries</a>`
  }${older ? html`<a href="${pageUrl(i.id, { before: older, alerts: alertsFrom }, 'timeline')}" rel="next" data-older>Show older entries</a>` : ''}</p>`;
}
