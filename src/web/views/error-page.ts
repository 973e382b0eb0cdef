import { html } from '../html.js';
import { layout, type PageContext } from './layout.js';

/** An error page for a person: the status and what to do. */
export function errorPage(ctx: PageContext, status: number, message: string): string {
  return layout(
    `Error ${status}`,
    ctx,
    html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Cannot do that'}</h1><p class="error" role="alert">${message}</p><p><a href="/incidents">Back to the incidents</a></p>`,
  );
}
