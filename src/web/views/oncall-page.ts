import { zonedTime } from '../../incidents/timeline-text.js';
import type { OncallLogEntry, OncallRequest } from '../../paging/oncall.js';
import type { CalendarFeed } from '../../store/store.js';
import { html, type Html } from '../html.js';
import { iso, relative } from './format.js';
import { hidden, layout, type PageContext } from './layout.js';

/** One shift as the page shows it. */
export interface ShiftView {
  contact: string;
  name: string;
  from: number;
  until: number;
  override: boolean;
  /** A run-time override's id, who made it and whose shift it took over. */
  overrideId?: number | undefined;
  by?: string | undefined;
  covers?: string | undefined;
  coversName?: string | undefined;
}

/** A rotation the viewer can go to. */
export interface RotationLink {
  name: string;
  href: string;
  current: boolean;
}

/** A calendar feed as its section shows it; the URL only right after it was made (the token is not kept). */
export interface FeedView {
  feed: CalendarFeed;
  label: string;
}

/** What /oncall and /oncall/:team show. */
export interface OncallView {
  rotations: RotationLink[];
  /** '' for the top level's rotation, else the team id: the forms' `rotation` field. */
  rotationId: string;
  name: string;
  timeZone: string;
  current: ShiftView;
  /** The shifts from now for `weeks` weeks. */
  shifts: ShiftView[];
  weeks: number;
  /** The viewer's contact id, when the viewer is a contact (only contacts can take shifts). */
  me?: string | undefined;
  /** Everyone who can be put on call, for "Cover for…" and swaps. */
  contacts: { id: string; name: string }[];
  /** Requests the viewer made or is asked to answer. */
  requests: (OncallRequest & { contactName: string; askedName: string })[];
  log: OncallLogEntry[];
  nameOf: (contact: string) => string;
  feeds: FeedView[];
  /** A feed's secret URL, shown once after it was made. */
  newFeedUrl?: string | undefined;
  /** A change just made or refused, said at the top. */
  notice?: string | undefined;
}

/** "Mon 30 Nov, 09:00" in `timeZone` (the page names the zone). */
export function zoned(timeZone: string): (ms: number) => string {
  return zonedTime(timeZone, { year: false, zone: false });
}

/** /oncall and /oncall/:team: who is on call now and until when, the next shifts, the changes, the feeds. */
export function oncallPage(ctx: PageContext, v: OncallView): string {
  const at = zoned(v.timeZone);
  // The browser's own time is added beside each by /static/app.js when its zone differs.
  const time = (ms: number) => html`<time datetime="${iso(ms)}" data-zone="${v.timeZone}">${at(ms)}</time>`;
  const csrf = ctx.csrf;
  const rotationField = html`<input type="hidden" name="rotation" value="${v.rotationId}">`;
  const shiftFields = (s: ShiftView) =>
    html`${hidden(csrf)}${rotationField}<input type="hidden" name="from" value="${s.from}"><input type="hidden" name="until" value="${s.until}"><input type="hidden" name="covers" value="${s.contact}">`;
  const taken = (s: ShiftView) =>
    s.override
      ? html` <span class="badge">override${s.by ? html`, taken by ${s.by}` : ''}${s.coversName ? html` for ${s.coversName}` : ''}</span>`
      : '';
  const mine = v.me ? v.shifts.filter((s) => s.contact === v.me && s.from > ctx.now) : [];

  const actions = (s: ShiftView, isCurrent: boolean): Html => {
    const out: Html[] = [];
    if (v.me && s.contact !== v.me) {
      out.push(
        html`<form method="post" action="/oncall/take" class="inline">${shiftFields(s)}<button type="submit" class="small primary">Take this shift</button></form>`,
      );
      if (isCurrent)
        out.push(
          html`<form method="post" action="/oncall/tonight" class="inline">${hidden(csrf)}${rotationField}<input type="hidden" name="covers" value="${s.contact}"><button type="submit" class="small">I'll take tonight</button></form>`,
        );
      if (mine.length)
        out.push(
          html`<form method="post" action="/oncall/swap" class="inline swap">${hidden(csrf)}${rotationField}<input type="hidden" name="asked" value="${s.contact}"><input type="hidden" name="swapFrom" value="${s.from}"><input type="hidden" name="swapUntil" value="${s.until}"><label>Swap for my shift <select name="mine">${mine.map(
            (m) => html`<option value="${m.from}-${m.until}">${at(m.from)} – ${at(m.until)}</option>`,
          )}</select></label><button type="submit" class="small">Ask ${s.name} to swap</button></form>`,
        );
    }
    if (s.overrideId !== undefined && v.me !== undefined && (s.contact === v.me || s.covers === v.me))
      out.push(
        html`<form method="post" action="/oncall/overrides/${s.overrideId}/end" class="inline">${hidden(csrf)}${rotationField}<button type="submit" class="small">${s.from > ctx.now ? 'Cancel this override' : 'End this override now'}</button></form>`,
      );
    const others = v.contacts.filter((c) => c.id !== s.contact);
    if (ctx.viewer && others.length)
      out.push(
        html`<form method="post" action="/oncall/cover" class="inline cover">${shiftFields(s)}<label>Cover for ${s.name}: <select name="contact">${others.map(
          (c) => html`<option value="${c.id}">${c.name}</option>`,
        )}</select></label><button type="submit" class="small">${s.contact === v.me ? 'Hand over' : `Ask ${s.name}`}</button></form>`,
      );
    return html`<div class="shift-actions">${out}</div>`;
  };

  const shiftItem = (s: ShiftView, i: number) =>
    html`<li class="shift${s.override ? ' override' : ''}${s.contact === v.me ? ' mine' : ''}"><strong>${s.name}</strong>${taken(s)}<br>${time(s.from)} – ${time(s.until)}${
      i === 0 ? html` <span class="muted">(now)</span>` : ''
    }${actions(s, i === 0)}</li>`;

  const requestItem = (q: OncallView['requests'][number]) => {
    const what =
      q.kind === 'cover'
        ? html`${q.contactName} to cover ${q.askedName}'s shift ${time(q.from)} – ${time(q.to)}`
        : html`${q.askedName} takes ${q.contactName}'s shift ${time(q.from)} – ${time(q.to)}, ${q.contactName} takes ${q.askedName}'s ${time(q.swapFrom!)} – ${time(q.swapTo!)}`;
    const answer = (action: string, label: string, primary = false) =>
      html`<form method="post" action="/oncall/requests/${q.id}/${action}" class="inline">${hidden(csrf)}${rotationField}<button type="submit" class="small${primary ? ' primary' : ''}">${label}</button></form>`;
    return html`<li>${q.kind === 'swap' ? 'Swap' : 'Cover'}: ${what}. <span class="muted">Asked by ${q.requestedBy}.</span> ${
      q.asked === v.me ? html`${answer('accept', 'Accept', true)}${answer('decline', 'Decline')}` : answer('cancel', 'Cancel')
    }</li>`;
  };

  const body = html`<h1>On call: ${v.name}</h1>
${v.rotations.length > 1 ? html`<nav class="rotations" aria-label="Rotations">${v.rotations.map((r) => (r.current ? html`<strong>${r.name}</strong>` : html`<a href="${r.href}">${r.name}</a>`))}</nav>` : ''}
${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
<p class="muted">Times in ${v.timeZone}, the rotation's zone. <span id="viewer-zone"></span></p>
<section id="now"><h2>On call now</h2><p class="now"><strong>${v.current.name}</strong>${taken(v.current)} until ${time(v.current.until)} <span class="muted">(${relative(v.current.until, ctx.now)})</span></p></section>
<section id="requests"><h2>Requests</h2>${v.requests.length ? html`<ul class="requests">${v.requests.map(requestItem)}</ul>` : html`<p class="muted">No request waits for you.</p>`}</section>
<section id="shifts"><h2>Next ${v.weeks} weeks</h2><ul class="shifts">${v.shifts.map(shiftItem)}</ul>
<p><a href="?weeks=${Math.min(26, v.weeks + 4)}">Show four more weeks</a></p></section>
<section id="feeds"><h2>Calendar feeds</h2>${feedsBlock(v, csrf, rotationField)}</section>
<section id="log"><h2>Changes</h2>${
    v.log.length
      ? html`<ol class="log">${v.log.map((e) => html`<li>${time(e.at)} <strong>${e.actor}</strong> ${logWords(e, v.nameOf, at)}</li>`)}</ol>`
      : html`<p class="muted">No change made here yet.</p>`
  }</section>`;
  return layout(`On call: ${v.name}`, ctx, body);
}

function feedsBlock(v: OncallView, csrf: string, rotationField: Html): Html {
  const list = v.feeds.length
    ? html`<ul class="feeds">${v.feeds.map(
        (f) =>
          html`<li>${f.label} <form method="post" action="/oncall/feeds/${f.feed.id}/revoke" class="inline">${hidden(csrf)}${rotationField}<button type="submit" class="small">Revoke</button></form></li>`,
      )}</ul>`
    : html`<p class="muted">You have no calendar feed yet.</p>`;
  const made = v.newFeedUrl
    ? html`<p class="notice">Subscribe to this address in your calendar app; it is shown only now, so copy it: <code class="feed-url">${v.newFeedUrl}</code></p>`
    : '';
  const make = (scope: string, label: string) =>
    html`<form method="post" action="/oncall/feeds" class="inline">${hidden(csrf)}${rotationField}<input type="hidden" name="scope" value="${scope}"><button type="submit" class="small">${label}</button></form>`;
  return html`${made}${list}<div>${v.me ? make('contact', 'New feed of my shifts') : ''}${make('team', `New feed of all ${v.name} shifts`)}</div>`;
}

/** One on-call log entry in words. */
function logWords(e: OncallLogEntry, nameOf: (id: string) => string, at: (ms: number) => string): string {
  const d = e.data;
  const who = (k: string) => (typeof d[k] === 'string' ? nameOf(d[k]) : '');
  const span = typeof d['from'] === 'number' && typeof d['to'] === 'number' ? ` from ${at(d['from'])} to ${at(d['to'])}` : '';
  const covering = d['covers'] ? ` for ${who('covers')}` : '';
  switch (e.kind) {
    case 'override_added':
      return `put ${who('contact')} on call${covering}${span}.`;
    case 'override_ended':
      return `ended ${who('contact')}'s override${typeof d['endedAt'] === 'number' ? ` at ${at(d['endedAt'])}` : ''}.`;
    case 'override_removed':
      return `removed ${who('contact')}'s override${span}.`;
    case 'override_voided':
      return `made ${who('contact')}'s override${span} void: ${String(d['reason'] ?? '')}.`;
    case 'request_made':
      return `asked ${who('asked')} to accept a ${String(d['kind'])} with ${who('contact')}${span}.`;
    case 'request_accepted':
      return `accepted the ${String(d['kind'])} of ${who('contact')} and ${who('asked')}.`;
    case 'request_declined':
      return `declined the ${String(d['kind'])} of ${who('contact')} and ${who('asked')}.`;
    case 'request_cancelled':
      return `cancelled the ${String(d['kind'])} of ${who('contact')} and ${who('asked')}.`;
  }
}
