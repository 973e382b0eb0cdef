import type { FastifyInstance } from 'fastify';
import errorPages from './plugins/error-pages.js';
import incidentActions from './plugins/incident-actions.js';
import incidentPages from './plugins/incident-pages.js';
import incidentSilences from './plugins/incident-silences.js';
import liveUpdates from './plugins/live-updates.js';
import maintenancePages from './plugins/maintenance-pages.js';
import me from './plugins/me.js';
import meContact from './plugins/me-contact.js';
import oidcSignIn from './plugins/oidc.js';
import oncallPages from './plugins/oncall-pages.js';
import security from './plugins/security.js';
import session from './plugins/session.js';
import staticAssets from './plugins/static-assets.js';
import statusUpdates from './plugins/status-updates.js';
import type { WebRoutesOptions } from './web-options.js';

export type { WebRoutesOptions } from './web-options.js';

/**
 * The incident pages for people: /, /incidents, /incidents/:id and their forms, sign-in and
 * sign-out, the stylesheet and the script. Registered in its own scope: cookies, form bodies,
 * security headers and CSRF checks apply here only, and the API keeps its bearer tokens.
 *
 * The order matters: the error pages first (every route below uses them), then the origin and
 * CSRF checks, then who is signed in (its redirect comes after the origin check), then the routes.
 */
export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions) {
  await app.register(errorPages, opts);
  await app.register(security, opts);
  await app.register(session, opts);
  await app.register(staticAssets);
  await app.register(oidcSignIn, opts);
  await app.register(incidentPages, opts);
  await app.register(incidentActions, opts);
  await app.register(incidentSilences, opts);
  await app.register(statusUpdates, opts);
  await app.register(liveUpdates, opts);
  await app.register(me, opts);
  await app.register(meContact, opts);
  await app.register(oncallPages, opts);
  await app.register(maintenancePages, opts);
}
