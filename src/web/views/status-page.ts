import {
  STATE_LABEL,
  STATUS_LABEL,
  worse,
  type ComponentStatus,
  type ComponentView,
  type PublicIncident,
  type PublicMaintenance,
  type StatusComponent,
} from '../../incidents/status-page.js';
import type { StatusSnapshot } from '../../service/status-service.js';
import { html, type Html } from '../html.js';

// The public status page and its forms: nothing here is given a label, an annotation, a note or a
// name; only the components from the config and what people wrote for the public. No script: the
// page works as plain HTML, and its only style is /status/status.css.

const iso = (ms: number) => new Date(ms).toISOString();
const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The page around a body: no script, the public stylesheet, the feeds announced. */
export function publicLayout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/status/status.css">
<link rel="alternate" type="application/atom+xml" title="${title} (Atom)" href="/status/feed.atom">
<link rel="alternate" type="application/rss+xml" title="${title} (RSS)" href="/status/feed.rss">
<link rel="alternate" type="application/json" title="${title} (JSON summary)" href="/status/summary.json"></head>
<body class="public"><main>${body}</main></body></html>`.value;
}

/** A text people wrote: paragraphs at blank lines, line breaks kept, every character escaped. */
function prose(text: string): Html {
  return html`${text.split(/\n{2,}/).map((p) => html`<p>${p.split('\n').map((line, i) => html`${i ? html`<br>` : ''}${line}`)}</p>`)}`;
}

const statusClass = (s: ComponentStatus) => `s-${s.replace(/_/g, '-')}`;

/**
 * One public incident as /status shows it: the title, what it affects now, and its updates newest
 * first. The incident page's preview renders the same function, so what a person previews is what
 * the public reads.
 */
export function publicIncidentBlock(i: PublicIncident, components: readonly StatusComponent[]): Html {
  const names = new Map(components.map((c) => [c.id, c.name]));
  return html`<article class="public-incident state-${i.state}" id="incident-${i.publicId}">
<h3 class="incident-title">${i.title}</h3>
${
  i.components.length
    ? html`<p class="affects">Affects: ${i.components.map(
        (c, n) =>
          html`${n ? ', ' : ''}<span class="${statusClass(c.status)}">${names.get(c.id) ?? c.id} (${STATUS_LABEL[c.status].toLowerCase()})</span>`,
      )}</p>`
    : ''
}
<ol class="updates">${i.updates.map(
    (u) =>
      html`<li class="update"><p class="update-head"><strong class="state">${STATE_LABEL[u.state]}</strong> <time datetime="${iso(u.at)}">${when(u.at)}</time></p><div class="update-body">${prose(u.message)}</div></li>`,
  )}</ol></article>`;
}

/** The overall status in one line: the worst component's, or the active incidents'. */
function overall(s: StatusSnapshot): { status: ComponentStatus; text: string } {
  let worst: ComponentStatus = 'operational';
  for (const c of s.components) worst = worse(worst, c.status);
  if (worst === 'operational' && s.active.length) return { status: 'degraded_performance', text: 'An incident is under way' };
  const text: Record<ComponentStatus, string> = {
    operational: 'All systems operational',
    maintenance: 'Scheduled maintenance under way',
    degraded_performance: 'Some systems are degraded',
    partial_outage: 'Partial outage',
    major_outage: 'Major outage',
  };
  return { status: worst, text: text[worst] };
}

/**
 * Uptime with two decimals, rounded down: a minute of outage in 90 days is 99.99%, never "100.00%"
 * beside a red bar.
 */
export function uptimePercent(uptime: number): string {
  return `${(Math.floor(uptime * 10_000) / 100).toFixed(2)}%`;
}

function bars(v: ComponentView): Html {
  return html`<div class="bars" role="img" aria-label="${`${v.component.name}: ${uptimePercent(v.uptime)} uptime over ${v.days.length} days`}">${v.days.map(
    (d) =>
      html`<span class="bar ${statusClass(d.worst)}" title="${`${day(d.day)}: ${STATUS_LABEL[d.worst]}${d.downMs ? `, ${Math.round(d.downMs / 60_000)} min down` : ''}`}"></span>`,
  )}</div><p class="bars-legend"><span>${v.days.length} days ago</span><span>${uptimePercent(v.uptime)} uptime</span><span>Today</span></p>`;
}

function componentList(views: readonly ComponentView[]): Html {
  const groups = new Map<string, ComponentView[]>();
  for (const v of views) {
    const key = v.component.group ?? '';
    const list = groups.get(key);
    if (list) list.push(v);
    else groups.set(key, [v]);
  }
  return html`${[...groups].map(
    ([group, list]) =>
      html`${group ? html`<h3 class="group">${group}</h3>` : ''}<ul class="components">${list.map(
        (v) =>
          html`<li class="component" id="component-${v.component.id}"><div class="component-head"><span class="name">${v.component.name}</span> <span class="component-status ${statusClass(v.status)}">${STATUS_LABEL[v.status]}</span></div>${
            v.component.description ? html`<p class="description">${v.component.description}</p>` : ''
          }${bars(v)}</li>`,
      )}</ul>`,
  )}`;
}

function maintenanceList(list: readonly PublicMaintenance[], components: readonly StatusComponent[], now: number): Html {
  const names = new Map(components.map((c) => [c.id, c.name]));
  return html`<ul class="maintenance">${list.map(
    (m) =>
      html`<li><strong>${m.title}</strong> ${m.startsAt <= now && m.endsAt > now ? html`<span class="s-maintenance">under way</span>` : ''}${
        m.text ? html`<br>${m.text}` : ''
      }<br><time datetime="${iso(m.startsAt)}">${when(m.startsAt)}</time> – <time datetime="${iso(m.endsAt)}">${when(m.endsAt)}</time>${
        m.components.length ? html`<br>Affects: ${m.components.map((c) => names.get(c) ?? c).join(', ')}` : ''
      }</li>`,
  )}</ul>`;
}

/** What the subscribe form offers: whether it is open, and the components one may choose. */
export interface SubscribeOffer {
  open: boolean;
  components: readonly StatusComponent[];
}

export function subscribeForm(offer: SubscribeOffer): Html {
  if (!offer.open) return html``;
  return html`<section id="subscribe"><h2>Get updates by e-mail</h2>
<form method="post" action="/status/subscribe" class="stack"><label for="sub-email">E-mail address</label><input id="sub-email" name="email" type="email" required maxlength="254" autocomplete="email">
${
  offer.components.length > 1
    ? html`<fieldset><legend>Only about (none chosen: every update)</legend>${offer.components.map(
        (c) =>
          html`<div class="choice"><input type="checkbox" id="sub-${c.id}" name="components" value="${c.id}"><label for="sub-${c.id}">${c.name}</label></div>`,
      )}</fieldset>`
    : ''
}<button type="submit">Subscribe</button><p class="muted">You will get an e-mail to confirm; nothing is sent before. Every e-mail has a one-click unsubscribe link.</p></form></section>`;
}

/** /status: the overall status, active incidents, maintenance, components with 90 days of bars, past incidents, the feeds and the subscribe form. */
export function statusPageHtml(s: StatusSnapshot, offer: SubscribeOffer): string {
  const all = overall(s);
  const config = offer.components;
  const body = html`<header class="status-header"><h1>${s.title}</h1>
<p class="overall ${statusClass(all.status)}">${all.text}</p>${
    s.stale
      ? html`<p class="stale">This page could not be refreshed; it shows the state as of <time datetime="${iso(s.at)}">${when(s.at)}</time>.</p>`
      : ''
  }</header>
${s.active.length ? html`<section id="active"><h2>Active incidents</h2>${s.active.map((i) => publicIncidentBlock(i, config))}</section>` : ''}
${s.maintenance.length ? html`<section id="maintenance"><h2>Scheduled maintenance</h2>${maintenanceList(s.maintenance, config, s.at)}</section>` : ''}
${s.components.length ? html`<section id="components"><h2>Components</h2>${componentList(s.components)}</section>` : ''}
<section id="past"><h2>Past incidents</h2>${
    s.past.length ? s.past.map((i) => publicIncidentBlock(i, config)) : html`<p class="muted">No incident in the last 90 days.</p>`
  }</section>
${subscribeForm(offer)}
<footer><p>Updated <time datetime="${iso(s.at)}">${when(s.at)}</time> · <a href="/status/feed.atom">Atom</a> · <a href="/status/feed.rss">RSS</a> · <a href="/status/summary.json">JSON</a></p></footer>`;
  return publicLayout(s.title, body);
}

/** A short page of the subscription's steps (check your inbox, confirm, unsubscribed), with an optional one-button form. */
export function statusMessagePage(title: string, heading: string, text: string, form?: { action: string; button: string }): string {
  return publicLayout(
    `${heading} · ${title}`,
    html`<h1>${heading}</h1><p>${text}</p>${
      form ? html`<form method="post" action="${form.action}"><button type="submit" class="primary">${form.button}</button></form>` : ''
    }<p><a href="/status">Back to ${title}</a></p>`,
  );
}

/** The stylesheet of the public pages, mobile first. */
export const STATUS_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9;overflow-wrap:anywhere}
main{max-width:50rem;margin:0 auto;padding:.75rem}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #d0d4da}
h3{font-size:1rem;margin:.75rem 0 .25rem}
a{color:#0a58ca}
.overall{padding:.75rem 1rem;border-radius:6px;font-weight:700;color:#fff;background:#2c6e2f}
.overall.s-degraded-performance{background:#8a5300}.overall.s-partial-outage{background:#c25400}.overall.s-major-outage{background:#b00020}.overall.s-maintenance{background:#1f5fa8}
.status-header .overall{color:#fff}
.stale{color:#8a5300;font-weight:600}
ul.components,ul.maintenance{list-style:none;padding:0}
li.component,article.public-incident,ul.maintenance li{background:#fff;border:1px solid #d0d4da;border-radius:6px;padding:.6rem .75rem;margin:.5rem 0}
.component-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem}
.name{font-weight:600}
.component-status{font-weight:600}
.s-operational{color:#2c6e2f}.s-degraded-performance{color:#8a5300}.s-partial-outage{color:#c25400}.s-major-outage{color:#b00020}.s-maintenance{color:#1f5fa8}
.description{color:#57606a;font-size:.9rem;margin:.25rem 0}
.bars{display:flex;gap:1px;height:2rem;margin-top:.5rem}
.bar{flex:1 1 0;min-width:1px;border-radius:1px;background:#3d9a4a}
.bar.s-degraded-performance{background:#e0a800}.bar.s-partial-outage{background:#e07000}.bar.s-major-outage{background:#b00020}.bar.s-maintenance{background:#1f5fa8}
.bars-legend{display:flex;justify-content:space-between;color:#57606a;font-size:.8rem;margin:.15rem 0 0}
article.public-incident{border-left:6px solid #b00020}
article.public-incident.state-monitoring{border-left-color:#1f5fa8}article.public-incident.state-identified{border-left-color:#c25400}article.public-incident.state-resolved{border-left-color:#2c6e2f}
.incident-title{margin-top:0}
.affects{font-size:.9rem;margin:.25rem 0}
ol.updates{list-style:none;padding:0;margin:0}
li.update{border-top:1px solid #eaecef;padding:.4rem 0}
li.update:first-child{border-top:0}
.update-head{margin:0;color:#57606a;font-size:.9rem}
.update-head .state{color:#1b1f24}
.update-body p{margin:.25rem 0}
form.stack{display:flex;flex-direction:column;gap:.35rem;max-width:32rem}
input,button{font:inherit;max-width:100%}
input[type=email]{width:100%;padding:.5rem;border:1px solid #8c959f;border-radius:4px}
fieldset{border:1px solid #d0d4da;border-radius:4px}
.choice{display:flex;gap:.5rem;align-items:center;min-height:44px}
.choice input{width:1.25rem;height:1.25rem}
button{padding:.5rem 1rem;border:1px solid #57606a;border-radius:4px;background:#fff;min-height:44px;cursor:pointer}
button.primary{background:#0a58ca;border-color:#0a58ca;color:#fff}
.muted{color:#57606a;font-size:.9rem}
footer{margin-top:2rem;color:#57606a;font-size:.9rem}
bdi{unicode-bidi:isolate}
`;
