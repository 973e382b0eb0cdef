import {
  SETTABLE_STATUSES,
  STATE_LABEL,
  STATUS_LABEL,
  UPDATE_STATES,
  type ComponentState,
  type PublicIncident,
  type PublicUpdate,
  type StatusComponent,
} from '../../incidents/status-page.js';
import type { EntryOf } from '../../incidents/timeline.js';
import { html, type Html } from '../html.js';
import { iso, utc } from './format.js';
import { hidden } from './layout.js';
import { publicIncidentBlock } from './status-page.js';

/** What the incident page's "Status page" section shows and offers. */
export interface PublicUpdateView {
  components: readonly StatusComponent[];
  /** The updates posted so far, newest first. */
  posted: EntryOf<'status_update'>[];
  /** What the form is filled with: the proposal (matching components, or the closing update), or what was typed. */
  draft: PublicUpdate;
  /** Why the draft is what it is, for the person ("proposed from the matching components"). */
  proposal?: string | undefined;
  /** Subscribers can be e-mailed. */
  canNotify: boolean;
  /** May post (a responder). */
  mayPost: boolean;
}

function componentFields(components: readonly StatusComponent[], chosen: readonly ComponentState[]): Html {
  if (!components.length) return html`<p class="muted">No component is configured (statusPage.components): the update names none.</p>`;
  const by = new Map(chosen.map((c) => [c.id, c.status]));
  return html`<fieldset><legend>Components (a person confirms each; nothing is set by itself)</legend>${components.map((c) => {
    const current = by.get(c.id);
    return html`<label for="pc-${c.id}">${c.name}${c.group ? html` <span class="muted">(${c.group})</span>` : ''}</label><select id="pc-${c.id}" name="c.${c.id}"><option value=""${current ? '' : html` selected`}>Not affected</option>${SETTABLE_STATUSES.map(
      (s) => html`<option value="${s}"${current === s ? html` selected` : ''}>${STATUS_LABEL[s]}</option>`,
    )}</select>`;
  })}</fieldset>`;
}

/** The form that previews (and, from the preview, posts) a public update. */
export function publicUpdateForm(incidentId: number, csrf: string, view: PublicUpdateView, posting: boolean): Html {
  const d = view.draft;
  return html`<form method="post" action="/incidents/${incidentId}/status-updates" class="stack public-update-form">${hidden(csrf)}
${view.proposal ? html`<p class="proposal" role="status">${view.proposal}</p>` : ''}
<label for="pu-state">Where it stands</label><select id="pu-state" name="state">${UPDATE_STATES.map(
    (s) => html`<option value="${s}"${d.state === s ? html` selected` : ''}>${STATE_LABEL[s]}</option>`,
  )}</select>
<label for="pu-title">Public title (what users read; not the alert's name)</label><input id="pu-title" name="title" required maxlength="200" value="${d.title}">
<label for="pu-message">Update for users</label><textarea id="pu-message" name="message" required maxlength="5000" rows="4">${d.message}</textarea>
${componentFields(view.components, d.components)}
${
  view.canNotify
    ? html`<div class="choice"><input type="checkbox" id="pu-notify" name="notify" value="on" checked><label for="pu-notify">E-mail it to the subscribers</label></div>`
    : html`<p class="muted">Subscribers are not e-mailed: the status page's e-mail is not configured.</p>`
}
<p class="buttons"><button type="submit" name="action" value="preview"${posting ? '' : html` class="primary"`}>Preview</button>${
    posting ? html` <button type="submit" name="action" value="post" class="primary">Post to the status page</button>` : ''
  }</p></form>`;
}

/** The incident page's "Status page" section: what was posted, and the form. */
export function publicUpdateSection(incidentId: number, csrf: string, view: PublicUpdateView): Html {
  const posted = view.posted.length
    ? html`<ul class="public-updates">${view.posted.map(
        (u) =>
          html`<li><time datetime="${iso(u.at)}">${utc(u.at)}</time> <strong>${STATE_LABEL[u.state]}</strong> by ${u.actor}: ${u.title}${
            u.subscribers ? html` <span class="muted">(e-mailed to ${u.subscribers})</span>` : ''
          }</li>`,
      )}</ul>`
    : html`<p class="muted">Nothing posted yet: users see no incident.</p>`;
  return html`<section id="status-page"><h2>Status page</h2>${posted}<p><a href="/status">Open the public status page</a></p>${
    view.mayPost ? publicUpdateForm(incidentId, csrf, view, false) : html`<p class="muted">Posting needs the responder role.</p>`
  }</section>`;
}

/** The preview: the public incident exactly as /status will show it once posted, then the form to post it or change it. */
export function previewBody(incidentId: number, csrf: string, view: PublicUpdateView, preview: PublicIncident): Html {
  return html`<p><a href="/incidents/${incidentId}#status-page">← Back to the incident</a></p>
<h1>Preview of the public update</h1>
<p class="muted">This is what users will see on /status (and receive by e-mail). Nothing is public until you post it.</p>
<div class="public-preview" id="public-preview">${publicIncidentBlock(preview, view.components)}</div>
${publicUpdateForm(incidentId, csrf, view, true)}`;
}
