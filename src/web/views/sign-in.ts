import { html } from '../html.js';
import { hidden, layout, type PageContext } from './layout.js';

/** The sign-in page: the built-in form, or a word about the proxy. */
export function signInPage(
  ctx: PageContext,
  opts: { proxy: boolean; next: string; error?: string; name?: string; openTrial?: boolean; oidc?: boolean; form?: boolean },
): string {
  if (opts.proxy) {
    return layout(
      'Sign in',
      ctx,
      html`<h1>Sign in</h1><p>This service signs people in through an authenticating proxy. Open it through the proxy's address.</p>`,
    );
  }
  const oidc = opts.oidc
    ? html`<p><a class="button" href="/auth/sign-in?next=${encodeURIComponent(opts.next)}">Sign in with your identity provider</a></p>`
    : html``;
  if (opts.form === false)
    return layout(
      'Sign in',
      ctx,
      html`<h1>Sign in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}${oidc}`,
    );
  return layout(
    'Sign in',
    ctx,
    html`<h1>Sign in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}${oidc}
${opts.openTrial ? html`<p class="warn">API_TOKEN is not set: any token signs in (a local trial).</p>` : ''}
<form method="post" action="/sign-in" class="stack">${hidden(ctx.csrf)}<input type="hidden" name="next" value="${opts.next}">
<label for="name">Your name</label><input id="name" name="name" required maxlength="200" autocomplete="name" value="${opts.name ?? ''}">
<label for="token">API token</label><input id="token" name="token" type="password" required maxlength="1000" autocomplete="current-password">
<button type="submit">Sign in</button></form>`,
  );
}

/** After sign-out here, when the identity provider's sign-out is on another origin than its issuer: a link to it. */
export function signedOutPage(ctx: PageContext, providerSignOut: string): string {
  return layout(
    'Signed out',
    ctx,
    html`<h1>Signed out</h1><p>You are signed out of alert-triage.</p>
<p><a class="button" href="${providerSignOut}">Sign out at your identity provider too</a></p>
<p class="meta">Until you do, the next sign-in here may go through without asking for your password.</p>
<p><a href="/sign-in">Sign in again</a></p>`,
  );
}
