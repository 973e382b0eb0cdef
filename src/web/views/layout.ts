import { html, type Html } from '../html.js';
import type { Person } from '../../people/person.js';
import type { Viewer } from '../session.js';

// The pages, as functions of their data: no I/O here, so tests can render them directly.

/** What every page shares: where the page is, who is signed in, and the CSRF token for its forms. */
export interface PageContext {
  viewer?: Viewer | undefined;
  /** The person acting (their role decides which forms a page offers). */
  person?: Person | undefined;
  csrf: string;
  now: number;
  /** Sign-out is offered only with the built-in sign-in; behind a proxy it is the proxy's. */
  canSignOut: boolean;
}

/** Where the page's script asks for the version of what it shows, and the version it was rendered at. */
export interface LiveCheck {
  url: string;
  version: string;
}

/** The page around a body: the head (stylesheet and script from /static/, no inline code), the navigation, and the live check. */
export function layout(title: string, ctx: PageContext, body: Html, live?: LiveCheck, styles: readonly string[] = []): string {
  const nav = ctx.viewer
    ? html`<nav><a href="/incidents">Incidents</a><a href="/oncall">On call</a><a href="/maintenance">Maintenance</a><a href="/status">Status page</a><span class="who">Signed in as <a href="/me">${ctx.viewer.name}</a></span>${
        ctx.canSignOut
          ? html`<form method="post" action="/sign-out" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Sign out</button></form>`
          : ''
      }</nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · alert-triage</title><link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="/static/app.css">${styles.map((s) => html`<link rel="stylesheet" href="${s}">`)}<script src="/static/app.js" defer></script></head>
<body${live ? html` data-live-url="${live.url}" data-live-version="${live.version}"` : ''}>${nav}<main>${body}</main></body></html>`.value;
}

/** The CSRF token field every form carries. */
export function hidden(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}
