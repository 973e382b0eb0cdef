import type { Clock } from '../clock.js';
import type { ChecklistConfig } from '../incidents/checklist.js';
import type { SlaPolicy } from '../incidents/incident-machine.js';
import type { PagingConfig } from '../paging/paging-config.js';
import type { ContactService } from '../service/contact-service.js';
import type { IncidentService } from '../service/incident-service.js';
import type { OncallService } from '../service/oncall-service.js';
import type { SilenceService } from '../service/silence-service.js';
import type { StatusService } from '../service/status-service.js';
import type { MaintenanceService } from '../service/maintenance-service.js';
import type { IncidentStore } from '../store/store.js';
import type { AttemptLimiters } from '../http/attempt-limiter.js';
import type { PeopleConfig } from '../people/people-config.js';
import type { WebAuth } from './session.js';

/** What the incident pages need; every plugin of src/web/plugins/ gets the same options. */
export interface WebRoutesOptions {
  service: IncidentService;
  /** The rotations' schedules and changes (the /oncall pages). */
  oncall: OncallService;
  store: IncidentStore;
  /** The status page: public updates posted from the incident page. */
  status?: StatusService;
  /** Each person's own numbers and notification rules (the /me sections about being reached). */
  contacts?: ContactService;
  /** Silences in Alertmanager from the page. */
  silences?: SilenceService;
  /** Maintenance windows (the /maintenance page). */
  maintenance?: MaintenanceService;
  clock: Clock;
  /** The config in force, read per request so a reload applies at once. */
  settings: () => {
    paging: PagingConfig;
    checklists: ChecklistConfig;
    people: PeopleConfig;
    sla: SlaPolicy;
    /** The status page's components (maintenance windows name those they affect). */
    statusPage?: { components: readonly { id: string; name: string }[] };
  };
  /** Signs the session and CSRF cookies (SESSION_SECRET); never logged or shown. */
  sessionSecret: string;
  /** The built-in sign-in checks this token (API_TOKEN); without it any token signs in (local trial). */
  apiToken: string | undefined;
  auth: WebAuth;
  /** PUBLIC_URL: https makes the cookies Secure, and its origin is the one state-changing requests may come from. */
  publicUrl: string | undefined;
  /** How long a session lasts (every way of signing in). */
  sessionTtlMs?: number;
  /** The failed sign-in counters (shared with the API's bearer tokens' in one app). */
  limiters: AttemptLimiters;
  /** The built-in form with the shared API_TOKEN; false in production unless WEB_TOKEN_SIGN_IN=on. */
  tokenForm?: boolean;
  /** OpenID Connect sign-in, when OIDC_ISSUER is set. */
  oidc?: OidcSettings | undefined;
}

/** OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET; the redirect is PUBLIC_URL/auth/callback. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked for (default `openid email profile`; add `groups` where the provider wants it). */
  scopes?: string | undefined;
  /** Plain-http issuers (a test or a local provider): openid-client refuses them unless told. */
  allowInsecureIssuer?: boolean | undefined;
  /**
   * OIDC_END_SESSION (default on): sign-out also ends the provider's session when the provider
   * advertises an end_session_endpoint (RP-initiated logout), so that the next sign-in asks again.
   */
  endSession?: boolean | undefined;
}

/** True when the pages are served over https (PUBLIC_URL says so): Secure cookies, HSTS. */
export const servedOverHttps = (opts: Pick<WebRoutesOptions, 'publicUrl'>): boolean => opts.publicUrl?.startsWith('https:') ?? false;

/** The session and CSRF cookies' attributes. */
export const cookieBase = (opts: Pick<WebRoutesOptions, 'publicUrl'>) =>
  ({ path: '/', httpOnly: true, sameSite: 'lax', secure: servedOverHttps(opts), signed: true }) as const;
