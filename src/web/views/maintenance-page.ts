import type { MaintenancePreview, WindowView } from '../../service/maintenance-service.js';
import { matcherText } from '../../service/silence-service.js';
import { html, type Html } from '../html.js';
import { iso, relative } from './format.js';
import { hidden, layout, type PageContext } from './layout.js';
import { zoned } from './oncall-page.js';

/** The new-window form's fields as typed (shown again after a preview or a refusal). */
export interface WindowForm {
  title: string;
  description: string;
  starts: string;
  ends: string;
  zone: string;
  matchers: string;
  public: boolean;
  publicText: string;
}

/** What /maintenance shows. */
export interface MaintenanceView {
  windows: WindowView[];
  /** Why Alertmanager's view of the silences is missing. */
  alertmanagerError?: string | undefined;
  /** Whether the viewer may make and cancel windows (the responder role). */
  mayChange: boolean;
  form: WindowForm;
  /** The zones the form offers. */
  zones: readonly string[];
  /** The zone times are shown in. */
  timeZone: string;
  preview?: MaintenancePreview | undefined;
  /** A refusal of the form, said above it. */
  error?: string | undefined;
  notice?: string | undefined;
}

/** /maintenance: the current and upcoming windows, and the form for a new one with its preview. */
export function maintenancePage(ctx: PageContext, v: MaintenanceView): string {
  const at = zoned(v.timeZone);
  const time = (ms: number) => html`<time datetime="${iso(ms)}" data-zone="${v.timeZone}">${at(ms)}</time>`;
  const item = (w: WindowView) =>
    html`<li class="window ${w.state}"><strong>${w.title}</strong> <span class="badge">${w.state === 'active' ? 'in progress' : 'upcoming'}</span>${
      w.public ? html` <span class="badge public">public</span>` : ''
    }<br>${time(w.startsAt)} – ${time(w.endsAt)} <span class="muted">(${
      w.state === 'active' ? `ends ${relative(w.endsAt, ctx.now)}` : `starts ${relative(w.startsAt, ctx.now)}`
    })</span>
<div class="matchers">${w.matchers.map((g) => html`<code>${matcherText(g)}</code> `)}</div>
<div class="muted">Planned by <strong>${w.createdBy}</strong>${w.description ? html`: ${w.description}` : ''}</div>${
      w.public && w.publicText ? html`<div class="public-text"><span class="muted">On the status page:</span> ${w.publicText}</div>` : ''
    }${
      w.expiredInAlertmanager.length
        ? html`<p class="warn">Expired in Alertmanager by someone else (silence ${w.expiredInAlertmanager.join(', ')}): these alerts are not muted.</p>`
        : ''
    }${
      v.mayChange
        ? html`<form method="post" action="/maintenance/${w.id}/cancel" class="inline">${hidden(ctx.csrf)}<button type="submit" class="small">${
            w.state === 'active' ? 'End now' : 'Cancel'
          }</button></form>`
        : ''
    }</li>`;

  const list = v.windows.length
    ? html`<ul class="windows">${v.windows.map(item)}</ul>`
    : html`<p class="muted">No maintenance window is planned.</p>`;

  const body = html`<h1>Maintenance windows</h1>
${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
<p class="muted">A window is a silence in Alertmanager for a time to come: the alerts it matches are not sent while it runs. Times in ${v.timeZone}.</p>
${v.alertmanagerError ? html`<p class="warn">Alertmanager did not answer, so whether these silences are still in place is not known: ${v.alertmanagerError}</p>` : ''}
<section id="windows"><h2>Current and upcoming</h2>${list}</section>
<section id="new"><h2>New window</h2>${v.mayChange ? newForm(ctx, v) : html`<p class="muted">Responders plan maintenance windows; viewers see them.</p>`}</section>`;
  return layout('Maintenance windows', ctx, body);
}

function newForm(ctx: PageContext, v: MaintenanceView): Html {
  const f = v.form;
  return html`${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="/maintenance" class="stack window-form">${hidden(ctx.csrf)}
<label for="w-title">Title</label><input id="w-title" name="title" required maxlength="200" value="${f.title}">
<div class="when">
<div><label for="w-starts">Starts</label><input id="w-starts" name="starts" type="datetime-local" required value="${f.starts}"></div>
<div><label for="w-ends">Ends</label><input id="w-ends" name="ends" type="datetime-local" required value="${f.ends}"></div>
</div>
<label for="w-zone">Time zone of these times</label><select id="w-zone" name="zone">${v.zones.map(
    (z) => html`<option${z === f.zone ? html` selected` : ''}>${z}</option>`,
  )}</select>
<label for="w-matchers">Matchers</label>
<textarea id="w-matchers" name="matchers" rows="4" required aria-describedby="w-matchers-help" spellcheck="false">${f.matchers}</textarea>
<p id="w-matchers-help" class="muted">One a line, as in Alertmanager: <code>service="db"</code>, <code>instance=~"db-[12]"</code>. An alert is muted when all the lines hold; a blank line starts another group (another silence).</p>
<label for="w-description">Description (internal)</label><textarea id="w-description" name="description" rows="2" maxlength="2000">${f.description}</textarea>
<div class="choice"><input type="checkbox" id="w-public" name="public" value="on"${f.public ? html` checked` : ''}><label for="w-public">Show on the public status page (its title and the words below; never the matchers, the description or who planned it)</label></div>
<label for="w-public-text">Public text</label><textarea id="w-public-text" name="publicText" rows="2" maxlength="1000">${f.publicText}</textarea>
<div class="actions"><button type="submit" name="intent" value="preview" formaction="/maintenance#preview">Preview what it matches</button><button type="submit" name="intent" value="create" class="primary">Plan window</button></div>
</form>${v.preview ? previewBlock(v.preview) : ''}`;
}

function previewBlock(p: MaintenancePreview): Html {
  const alerts = p.alerts
    ? p.alerts.total
      ? html`<p>${p.alerts.total} alert${p.alerts.total === 1 ? '' : 's'} in Alertmanager now${
          p.alerts.total > p.alerts.shown.length ? html`, the first ${p.alerts.shown.length} shown` : ''
        }:</p><ul class="preview-alerts">${p.alerts.shown.map(
          (a) =>
            html`<li><code>${matcherText(Object.entries(a.labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })))}</code>${
              a.state === 'suppressed' ? html` <span class="muted">(already silenced or inhibited)</span>` : ''
            }</li>`,
        )}</ul>`
      : html`<p>No alert in Alertmanager matches now.</p>`
    : html`<p class="warn">Alertmanager did not answer, so its alerts are not shown: ${p.alertmanagerError ?? ''}</p>`;
  const incidents = p.incidents.length
    ? html`<ul class="preview-incidents">${p.incidents.map(
        (i) =>
          html`<li><a href="/incidents/${i.id}">#${i.id} ${i.title}</a> <span class="badge sev-${i.severity}">${i.severity}</span> <span class="muted">${i.status}, ${i.matched} firing alert${
            i.matched === 1 ? '' : 's'
          } matched</span></li>`,
      )}</ul>`
    : html`<p>No open incident has a firing alert these matchers match.</p>`;
  return html`<section id="preview" class="preview" aria-live="polite"><h3>What it would match now</h3>
<p class="muted">${p.groups.length} silence${p.groups.length === 1 ? '' : 's'}: ${p.groups.map((g) => html`<code>${matcherText(g)}</code> `)}</p>
<h4>Alerts</h4>${alerts}<h4>Open incidents</h4>${incidents}</section>`;
}
