import { SEVERITIES, type Severity } from '../../classify/severity.js';
import { formatDuration } from '../../incidents/duration.js';
import { methodWord } from '../../paging/contact-methods.js';
import { ROUTED_METHODS, type RuleStep } from '../../paging/notification-rules.js';
import { MAX_STEPS, stepsInWords, type ContactView, type NumberView } from '../../service/contact-service.js';
import { html, type Html } from '../html.js';
import { iso, relative } from './format.js';
import { hidden, type PageContext } from './layout.js';

// /me's sections about being reached: your numbers (add, verify by a code, remove), your
// notification rules, the calls and texts that did not reach you lately, and the vCard of the
// numbers pages come from. Kept apart from the rest of /me (me-page.ts), which only places them.

/** What the sections show. */
export interface MeContactView {
  /** undefined: the person is no contact of the config, so nothing pages them by phone. */
  view: ContactView | undefined;
  /** The responder role: may change their own. */
  canChange: boolean;
  /** What the last change did, or why it was refused. */
  message?: string | undefined;
  error?: string | undefined;
  /** What was typed in the add form, shown again after a refusal. */
  typed?: string | undefined;
}

const SEVERITY_WORD: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

const STATE_WORD = { paged: 'paged', waiting: 'waiting for the code', failed: 'not paged: failed' } as const;

/** The sections, each under its own heading (ids phone, rules, failures, dnd). */
export function meContactSections(ctx: PageContext, v: MeContactView): Html {
  const when = (ms: number) => html`<time datetime="${iso(ms)}">${relative(ms, ctx.now)}</time>`;
  const status = v.error
    ? html`<p class="error" role="alert" id="phone-status">${v.error}</p>`
    : v.message
      ? html`<p class="kept" role="status" id="phone-status">${v.message}</p>`
      : '';
  if (!v.view)
    return html`<h2 id="phone">Calls and texts</h2>
<p class="muted">You are not a contact of the config, so pages never call or text you. Ask an admin to add you under <code>contacts</code> in the config.</p>`;
  const c = v.view;
  return html`<h2 id="phone">Your numbers</h2>
<p class="meta">Pages call and text these numbers as your notification rules say. A number you add is paged once you type back the code texted to it.</p>
${status}
${c.numbers.length ? html`<ul class="rows me-numbers">${c.numbers.map((n) => numberRow(ctx, v, n, when))}</ul>` : html`<p class="muted">No number yet: pages reach you in Slack and by e-mail only.</p>`}
${v.canChange ? addForm(ctx, v) : html`<p class="muted">Adding a number needs the responder role.</p>`}
<h2 id="rules">Your notification rules</h2>
${rulesSection(ctx, v)}
<h2 id="failures">Calls and texts that did not reach you</h2>
${
  c.failures.length
    ? html`<ul class="rows me-failures">${c.failures.map(
        (f) => html`<li class="row"><span><strong>${methodWord(f.method).replace(/s$/, '')} to ${f.address}</strong>: ${f.what}<br>
<span class="meta">${when(f.at)}${f.incidentIds.length ? html` · ${f.incidentIds.slice(0, 5).map((id, i) => html`${i ? ', ' : ''}<a href="/incidents/${id}">incident ${id}</a>`)}` : ''}</span></span></li>`,
      )}</ul>`
    : html`<p class="muted">None in the last 7 days.</p>`
}
<h2 id="dnd">Let pages through Do Not Disturb</h2>
${
  c.from
    ? html`<p>Pages come from ${[...new Set([c.from.sms, c.from.voice])].map((n, i) => html`${i ? ' and ' : ''}<strong>${n}</strong>`)}. Save them as a contact, then allow it through Do Not Disturb (iPhone: Focus → People, or the contact's Emergency Bypass; Android: Do Not Disturb → People → starred contacts).</p>
<p><a class="link-button" href="/me/pages-contact.vcf" download>Download the contact card (vCard)</a></p>`
    : html`<p class="muted">Calls and texts are not configured on this service (${c.noCodes ?? 'no Twilio number'}).</p>`
}`;
}

function numberRow(ctx: PageContext, v: MeContactView, n: NumberView, when: (ms: number) => Html): Html {
  const methods = n.methods.map(
    (m) =>
      html`<li><strong>${methodWord(m.method)}</strong>: <span class="${m.state === 'failed' ? 'error' : m.state === 'waiting' ? 'warn' : 'ok'}">${STATE_WORD[m.state]}</span>${m.failed ? html` (${m.failed.reason}, ${when(m.failed.at)})` : ''}${m.pending ? html` <span class="meta">(the code ends ${when(m.pending.expiresAt)}, ${m.pending.triesLeft} tries left)</span>` : ''}</li>`,
  );
  const waiting = n.methods.some((m) => m.state === 'waiting');
  const failed = n.methods.some((m) => m.state === 'failed');
  const id = n.address.slice(1);
  const forms = !v.canChange
    ? ''
    : n.source === 'config'
      ? failed
        ? html`<p class="meta">Set by an admin in the config. After a STOP, text START from this phone to ${v.view?.from?.sms ?? 'the pages’ number'} to be paged again; otherwise ask an admin.</p>`
        : html`<p class="meta">Set by an admin in the config.</p>`
      : html`${
          waiting
            ? html`<form method="post" action="/me/numbers/verify#phone" class="stack me-code">${hidden(ctx.csrf)}<input type="hidden" name="number" value="${n.address}">
<label for="code-${id}">Code texted to ${n.address}</label><input id="code-${id}" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required><button type="submit" class="primary">Verify</button></form>`
            : ''
        }<div class="actions">${
          waiting || failed
            ? html`<form method="post" action="/me/numbers/resend#phone" class="inline">${hidden(ctx.csrf)}<input type="hidden" name="number" value="${n.address}"><button type="submit" class="small"${n.resendAt ? ' disabled' : ''}>Send a new code</button></form>`
            : ''
        }<form method="post" action="/me/numbers/remove#phone" class="inline">${hidden(ctx.csrf)}<input type="hidden" name="number" value="${n.address}"><button type="submit" class="small">Remove</button></form></div>${
          n.resendAt ? html`<p class="meta">A new code can be sent ${when(n.resendAt)}.</p>` : ''
        }`;
  return html`<li class="row me-number"><div><strong>${n.address}</strong> <span class="meta">${n.source === 'config' ? '(from the config)' : '(yours)'}</span><ul>${methods}</ul>${forms}</div></li>`;
}

function addForm(ctx: PageContext, v: MeContactView): Html {
  if (v.view?.noCodes) return html`<p class="muted">No number can be added: ${v.view.noCodes}.</p>`;
  return html`<form method="post" action="/me/numbers#phone" class="stack me-add">${hidden(ctx.csrf)}
<label for="number">Add a phone number</label>
<input id="number" name="number" type="tel" inputmode="tel" autocomplete="tel" required maxlength="40" placeholder="+33612345678" aria-describedby="number-help" value="${v.typed ?? ''}">
<span class="meta" id="number-help">With + and the country code. A code is texted to it.</span>
<fieldset class="me-uses"><legend>Use it for</legend>
<label class="choice"><input type="checkbox" name="sms" value="on" checked> texts</label>
<label class="choice"><input type="checkbox" name="voice" value="on" checked> calls</label></fieldset>
<button type="submit" class="primary">Text me a code</button></form>`;
}

function rulesSection(ctx: PageContext, v: MeContactView): Html {
  const c = v.view!;
  const top = c.teams[0]!;
  const others = c.teams.slice(1);
  const summary = html`<dl class="labels me-rules-now">${SEVERITIES.map((s) => {
    const mine = c.mine?.[s];
    return html`<dt>${SEVERITY_WORD[s]}</dt><dd>${mine ? html`<strong>yours</strong>: ${stepsInWords(mine)}` : html`the team’s: ${stepsInWords(top.rules[s])}`}</dd>`;
  })}</dl>${
    others.length
      ? html`<p class="meta">Teams with rules of their own: ${others.map((t, i) => html`${i ? '; ' : ''}${t.team}: Critical ${stepsInWords(t.rules.critical)}`)}. Your rules replace every team’s for the severities you set.</p>`
      : ''
  }
<p class="meta">Steps count from the page (the incident opening, its severity raised, an escalation step reaching you). Acknowledging anywhere stops the steps not yet sent. Slack and e-mail come with the room’s page whatever you choose. A Critical keeps every call and text of the team’s rules, no later: you may add steps or bring them sooner, never fewer.</p>`;
  if (!v.canChange) return summary;
  const options = (chosen: string) =>
    html`<option value=""${chosen ? '' : ' selected'}>—</option>${c.methods.map((m) => html`<option value="${m}"${m === chosen ? ' selected' : ''}>${methodWord(m).replace(/s$/, '')}${ROUTED_METHODS.has(m) ? ' (with the room)' : ''}</option>`)}`;
  const fieldset = (s: Severity) => {
    const mine = c.mine?.[s];
    const shown: (RuleStep | undefined)[] = [...(mine ?? top.rules[s])];
    // Two blank rows to add steps (three at least), at most MAX_STEPS in all.
    const rows = Math.min(MAX_STEPS, Math.max(3, shown.length + 2));
    while (shown.length < rows) shown.push(undefined);
    return html`<fieldset class="me-severity"><legend>${SEVERITY_WORD[s]}</legend>
<label class="choice"><input type="radio" name="${s}_use" value="team"${mine ? '' : ' checked'}> the team’s (${stepsInWords(top.rules[s])})</label>
<label class="choice"><input type="radio" name="${s}_use" value="mine"${mine ? ' checked' : ''}> mine:</label>
${shown.map(
  (
    step,
    i,
  ) => html`<div class="me-step"><label for="${s}-m${i}">Step ${i + 1}</label><select id="${s}-m${i}" name="${s}_method_${i}">${options(step?.method ?? '')}</select>
<label for="${s}-a${i}">after</label><input id="${s}-a${i}" name="${s}_after_${i}" value="${step ? formatDuration(step.afterMs) : ''}" maxlength="12" placeholder="0s" inputmode="text"></div>`,
)}</fieldset>`;
  };
  return html`${summary}<form method="post" action="/me/rules#rules" class="me-rules">${hidden(ctx.csrf)}
${SEVERITIES.map(fieldset)}
<p class="meta">A time such as 0s (at once), 30s, 1m or 5m. Leave a step's method at — to drop it.</p>
<button type="submit" class="primary">Save my rules</button></form>`;
}
