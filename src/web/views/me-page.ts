import type { Person } from '../../people/person.js';
import { ROLE_WORDS } from '../../people/role.js';
import type { ApiTokenRecord, SessionRecord } from '../../store/store.js';
import { html } from '../html.js';
import { iso, relative } from './format.js';
import { hidden, layout, type PageContext } from './layout.js';
import { meContactSections, type MeContactView } from './me-contact.js';

/** What /me shows. */
export interface MeView {
  person: Person;
  sessions: SessionRecord[];
  /** The digest of this browser's session, to mark it. */
  current: string | undefined;
  tokens: ApiTokenRecord[];
  /** A token just made: shown this once. */
  newToken?: { label: string; token: string } | undefined;
  message?: string | undefined;
  /** Your numbers, rules, failed pages and the vCard (me-contact.ts). */
  phone?: MeContactView | undefined;
}

const VIA: Record<Person['via'], string> = {
  oidc: 'your identity provider',
  proxy: 'the authenticating proxy',
  form: 'the shared API token (a local trial)',
  'personal-token': 'a personal API token',
  'api-token': 'API_TOKEN',
  slack: 'Slack',
};

/** /me: who you are, your role, your sessions (end any) and your personal API tokens (make, revoke). */
export function mePage(ctx: PageContext, v: MeView): string {
  const p = v.person;
  const when = (ms: number) => html`<time datetime="${iso(ms)}">${relative(ms, ctx.now)}</time>`;
  const role = p.role
    ? html`<strong>${p.role}</strong>: you can ${ROLE_WORDS[p.role]}${p.role === 'viewer' ? '' : html` (and everything before it)`}.`
    : html`<strong>none</strong>. <span class="error">The config does not give you a role, so you cannot read incidents yet.</span> Ask an admin to add your e-mail address to a contact in the config (with its <code>access</code>), or to map one of your identity-provider groups under <code>people.groups</code>.`;
  const sessions = v.sessions.map(
    (
      s,
    ) => html`<li class="row"><span><strong>${s.userAgent ? shortAgent(s.userAgent) : 'A browser'}</strong>${s.idHash === v.current ? html` <span class="kept">(this browser)</span>` : ''}<br>
<span class="meta">signed in ${when(s.createdAt)} through ${VIA[s.via]} · ends ${when(s.expiresAt)}</span></span>
<form method="post" action="/me/sessions/end" class="inline">${hidden(ctx.csrf)}<input type="hidden" name="session" value="${s.idHash}"><button type="submit" class="small">End</button></form></li>`,
  );
  const tokens = v.tokens.map(
    (t) => html`<li class="row"><span><strong>${t.label}</strong> <code>${t.prefix}_…</code><br>
<span class="meta">made ${when(t.createdAt)} · ${t.lastUsedAt === null ? 'never used' : html`last used ${when(t.lastUsedAt)}`}</span></span>
<form method="post" action="/me/tokens/${t.id}/revoke" class="inline">${hidden(ctx.csrf)}<button type="submit" class="small">Revoke</button></form></li>`,
  );
  const made = v.newToken
    ? html`<div class="notice" role="status"><p><strong>Your new token "${v.newToken.label}"</strong>. Copy it now: it is shown only this once, and only a digest of it is kept.</p>
<p><code class="secret">${v.newToken.token}</code></p>
<p class="meta">Use it as <code>Authorization: Bearer &lt;token&gt;</code>, for example <code>curl -H "Authorization: Bearer $TRIAGE_TOKEN" ${'<service>'}/api/incidents</code>.</p></div>`
    : '';
  return layout(
    'You',
    ctx,
    html`<h1>${p.name}</h1>
${v.message ? html`<p class="kept" role="status">${v.message}</p>` : ''}
<dl class="labels"><dt>E-mail</dt><dd>${p.email ?? '—'}</dd><dt>Contact</dt><dd>${p.contact ?? 'not a contact of the config'}</dd><dt>Signed in through</dt><dd>${VIA[p.via]}</dd></dl>
<p>Role: ${role}</p>
${v.phone ? meContactSections(ctx, v.phone) : ''}
<h2 id="sessions">Sessions</h2>
${sessions.length ? html`<ul class="rows">${sessions}</ul>` : html`<p class="muted">No sessions in the store${p.via === 'proxy' ? ': the authenticating proxy keeps yours' : ''}.</p>`}
<h2 id="tokens">Personal API tokens</h2>
<p class="meta">For the CLI and curl: a token acts as you, with your role, until you revoke it.</p>
${made}
${tokens.length ? html`<ul class="rows">${tokens}</ul>` : html`<p class="muted">No tokens.</p>`}
${
  p.role
    ? html`<form method="post" action="/me/tokens" class="stack">${hidden(ctx.csrf)}<label for="label">Name of a new token</label><input id="label" name="label" required maxlength="100" placeholder="laptop CLI"><button type="submit" class="primary">Make a token</button></form>`
    : ''
}`,
  );
}

/** The browser and system of a User-Agent, roughly, for the list of sessions. */
function shortAgent(ua: string): string {
  const browser = /(Firefox|Edg|Chrome|Safari)\/[\d.]+/.exec(ua)?.[1] ?? 'A browser';
  const system = /(Android|iPhone|iPad|Windows|Mac OS X|Linux)/.exec(ua)?.[1];
  const name = browser === 'Edg' ? 'Edge' : browser;
  return system ? `${name} on ${system === 'Mac OS X' ? 'macOS' : system}` : name;
}
