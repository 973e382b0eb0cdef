import type { Clock } from '../clock.js';
import type { ChecklistConfig } from '../incidents/checklist.js';
import type { PagingConfig } from '../paging/paging-config.js';
import type { IncidentService } from '../service/incident-service.js';
import type { SilenceService } from '../service/silence-service.js';
import type { IncidentStore } from '../store/store.js';
import type { WebAuth } from './session.js';

/** What the incident pages need; every plugin of src/web/plugins/ gets the same options. */
export interface WebRoutesOptions {
  service: IncidentService;
  store: IncidentStore;
  /** Silences in Alertmanager from the page. */
  silences?: SilenceService;
  clock: Clock;
  /** The config in force, read per request so a reload applies at once. */
  settings: () => { paging: PagingConfig; checklists: ChecklistConfig };
  /** Signs the session and CSRF cookies (SESSION_SECRET); never logged or shown. */
  sessionSecret: string;
  /** The built-in sign-in checks this token (API_TOKEN); without it any token signs in (local trial). */
  apiToken: string | undefined;
  auth: WebAuth;
  /** PUBLIC_URL: https makes the cookies Secure, and its origin is the one state-changing requests may come from. */
  publicUrl: string | undefined;
  /** How long a built-in session lasts. */
  sessionTtlMs?: number;
}

/** True when the pages are served over https (PUBLIC_URL says so): Secure cookies, HSTS. */
export const servedOverHttps = (opts: Pick<WebRoutesOptions, 'publicUrl'>): boolean => opts.publicUrl?.startsWith('https:') ?? false;

/** The session and CSRF cookies' attributes. */
export const cookieBase = (opts: Pick<WebRoutesOptions, 'publicUrl'>) =>
  ({ path: '/', httpOnly: true, sameSite: 'lax', secure: servedOverHttps(opts), signed: true }) as const;
