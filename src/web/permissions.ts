import type { Viewer } from './session.js';

/**
 * Who may silence alerts in Alertmanager from an incident (and expire those silences): the one
 * place that decides it. Until people have roles, every signed-in viewer is a responder; when they
 * do, this is where the responder role is required, and the page hides the forms for everyone else.
 */
export function maySilence(viewer: Viewer | undefined): boolean {
  return viewer !== undefined;
}
