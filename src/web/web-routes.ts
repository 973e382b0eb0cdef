import { createHash } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import { SEVERITIES, type Severity } from '../classify/severity.js';
import type { Clock } from '../clock.js';
import { checklistFor, type ChecklistConfig } from '../incidents/checklist.js';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus, type IncidentWithDetails } from '../incidents/model.js';
import { authorizationMatches } from '../http/auth.js';
import { errorHandler } from '../http/error-handler.js';
import { TransitionConflict } from '../incidents/incident-machine.js';
import type { Contact, PagingConfig } from '../paging/paging-config.js';
import type { ActionResult, IncidentService } from '../service/incident-service.js';
import type { IncidentStore } from '../store/store.js';
import { APP_CSS, APP_JS } from './assets.js';
import { decodeSession, encodeSession, trustedProxies, viewerFor, type Viewer, type WebAuth } from './session.js';
import { errorPage } from './views/error-page.js';
import { listPage, type ListQuery } from './views/incident-list.js';
import { incidentPage } from './views/incident-page.js';
import type { PageContext } from './views/layout.js';
import { signInPage } from './views/sign-in.js';

/** What the incident pages need. */
export interface WebRoutesOptions {
  service: IncidentService;
  store: IncidentStore;
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

const SESSION_COOKIE = 'triage_session';
const PAGE_SIZE = 50;
const ALERTS_SHOWN = 100;
const DEFAULT_TTL = 12 * 3600_000;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
const csrfField = { _csrf: { type: 'string', maxLength: 500 } } as const;
const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // An empty value is what the filter form sends for "Any".
    status: { type: 'string', enum: ['', ...INCIDENT_STATUSES] },
    severity: { type: 'string', enum: ['', ...SEVERITIES] },
    page: { type: 'integer', minimum: 1, maximum: 100_000, default: 1 },
  },
} as const;
type ListQs = { status?: IncidentStatus | ''; severity?: Severity | ''; page: number };

/** A path on this site to go back to after signing in; anything else (another host, `//x`) is refused. */
function localPath(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/incidents';
}

/**
 * The incident pages for people: /, /incidents, /incidents/:id and their forms, sign-in and
 * sign-out, the stylesheet and the script. Registered in its own scope: cookies, form bodies,
 * security headers and CSRF checks apply here only, and the API keeps its bearer tokens.
 */
export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions) {
  const { service, store, clock } = opts;
  const https = opts.publicUrl?.startsWith('https:') ?? false;
  const ownOrigin = opts.publicUrl ? new URL(opts.publicUrl).origin : undefined;
  const ttl = opts.sessionTtlMs ?? DEFAULT_TTL;
  const trusted = opts.auth.mode === 'proxy' ? trustedProxies(opts.auth.trusted) : () => false;
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'lax', secure: https, signed: true } as const;

  await app.register(cookie, { secret: opts.sessionSecret });
  // Room for three 10,000-character review fields even when every character is percent-encoded UTF-8.
  await app.register(formbody, { bodyLimit: 512 * 1024 });
  await app.register(csrf, { sessionPlugin: '@fastify/cookie', cookieOpts: cookieBase, getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // HSTS over plain HTTP means nothing, and on a trial at http://localhost it would only confuse.
    hsts: https,
    // Not no-referrer: under it Chromium sends `Origin: null` with the pages' own form posts, which
    // the origin check must refuse. same-origin still tells other sites (a generatorURL) nothing.
    referrerPolicy: { policy: 'same-origin' },
  });

  const viewers = new WeakMap<FastifyRequest, Viewer>();
  const contacts = (): readonly Contact[] => opts.settings().paging.contacts;

  function identify(req: FastifyRequest): Viewer | undefined {
    if (opts.auth.mode === 'proxy') {
      // The header is believed only from the proxy: anyone else could simply send it.
      if (!trusted(req.socket.remoteAddress)) return undefined;
      const value = req.headers[opts.auth.header.toLowerCase()];
      const who = (Array.isArray(value) ? value[0] : value)?.trim();
      return who ? viewerFor(contacts(), who) : undefined;
    }
    const raw = req.cookies[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = req.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null ? decodeSession(unsigned.value, clock.now()) : undefined;
  }

  const ctx = (req: FastifyRequest, reply: FastifyReply): PageContext => ({
    viewer: viewers.get(req),
    csrf: reply.generateCsrf(),
    now: clock.now(),
    canSignOut: opts.auth.mode === 'form',
  });
  const sendHtml = (reply: FastifyReply, body: string, code = 200) => reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

  // One error handler for the pages: a person gets a page that says what went wrong, not JSON.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err instanceof TransitionConflict ? 409 : (err.statusCode ?? (err.validation ? 400 : 500));
    if (status >= 500 || status < 400) return errorHandler(err, req, reply);
    const message = status === 403 ? 'This form has expired or did not come from this site. Go back, reload the page and try again.' : err.message;
    return sendHtml(reply, errorPage({ viewer: viewers.get(req), csrf: '', now: clock.now(), canSignOut: false }, status, message), status);
  });

  // A state-changing request from another origin is refused first, before anything else: a browser
  // always says where a form came from, and a cross-site post may not even carry the session cookie.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    const expected = ownOrigin ?? `${req.protocol}://${req.headers.host}`;
    if ((origin !== undefined && origin !== expected) || req.headers['sec-fetch-site'] === 'cross-site') {
      req.log.warn({ origin }, 'state-changing request from another origin refused');
      return reply.send(Object.assign(new Error('request from another origin'), { statusCode: 403 }));
    }
  });

  // Who is there; the pages need someone, except sign-in and the assets.
  app.addHook('onRequest', async (req, reply) => {
    const viewer = identify(req);
    if (viewer) viewers.set(req, viewer);
    const path = req.url.split('?')[0]!;
    if (viewer || path === '/sign-in' || path.startsWith('/static/')) return;
    const next = req.method === 'GET' ? req.url : '/incidents';
    return reply.redirect(`/sign-in?next=${encodeURIComponent(next)}`, 303);
  });

  // Then every state-changing request needs the CSRF token of its form (checked after the body is
  // parsed, where the token is): a request without a browser's Origin header needs it all the same.
  app.addHook('preValidation', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    await new Promise<void>((resolve) => app.csrfProtection(req, reply, () => resolve()));
    // csrfProtection answered 403 itself when the token is wrong; the handler must not run then.
    if (reply.sent) return reply;
  });

  app.get('/static/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_CSS));
  app.get('/static/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_JS));

  app.get('/', async (_req, reply) => reply.redirect('/incidents', 302));

  app.get<{ Querystring: { next?: string } }>(
    '/sign-in',
    { schema: { querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2000 } } } } },
    async (req, reply) => {
      if (viewers.has(req)) return reply.redirect(localPath(req.query.next), 303);
      return sendHtml(reply, signInPage(ctx(req, reply), { proxy: opts.auth.mode === 'proxy', next: localPath(req.query.next), openTrial: opts.apiToken === undefined }));
    },
  );

  app.post<{ Body: { name: string; token: string; next?: string; _csrf?: string } }>(
    '/sign-in',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'token'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 200 }, token: { type: 'string', maxLength: 1000 }, next: { type: 'string', maxLength: 2000 }, ...csrfField },
        },
      },
    },
    async (req, reply) => {
      if (opts.auth.mode === 'proxy') return sendHtml(reply, errorPage(ctx(req, reply), 400, 'Sign in through the authenticating proxy.'), 400);
      const name = req.body.name.trim();
      const next = localPath(req.body.next);
      // The same constant-time check as the API's bearer token.
      const tokenOk = opts.apiToken === undefined || authorizationMatches(`Bearer ${req.body.token}`, opts.apiToken, false);
      if (!name || !tokenOk) {
        req.log.warn({ name }, 'web sign-in refused');
        const error = name ? 'Wrong API token: nobody is signed in.' : 'Your name is required.';
        return sendHtml(reply, signInPage(ctx(req, reply), { proxy: false, next, error, name, openTrial: opts.apiToken === undefined }), 401);
      }
      const viewer = viewerFor(contacts(), name);
      reply.setCookie(SESSION_COOKIE, encodeSession(viewer, clock.now() + ttl), { ...cookieBase, maxAge: Math.floor(ttl / 1000) });
      req.log.info({ name: viewer.name, contact: viewer.contact }, 'signed in on the web');
      return reply.redirect(next, 303);
    },
  );

  app.post('/sign-out', async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });

  const listArgs = (q: ListQs): ListQuery => ({ status: q.status || undefined, severity: q.severity || undefined, page: q.page });
  const fetchList = async (q: ListQuery) => {
    // One more than a page tells whether an older page exists, without counting them all.
    const rows = await store.listIncidents({ status: q.status, severity: q.severity, limit: PAGE_SIZE + 1, offset: (q.page - 1) * PAGE_SIZE });
    return { incidents: rows.slice(0, PAGE_SIZE), hasNext: rows.length > PAGE_SIZE };
  };
  // A page carries the version of what it shows, and the script compares the live URL's answer
  // against that: a change committed between the page's render and the script's first poll is
  // still seen as a change.
  const stamp = (parts: unknown) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
  const listVersion = (incidents: Incident[], hasNext: boolean) => stamp([hasNext, incidents.map((i) => [i.id, i.status, i.severity, i.slaBreached, i.title])]);
  const incidentVersion = (i: IncidentWithDetails & { alertCount: number }) => {
    const last = i.timeline.at(-1);
    return stamp([i.status, i.severity, i.slaBreached, i.alertCount, i.timeline.length, last?.at, last?.kind]);
  };

  app.get<{ Querystring: ListQs }>('/incidents', { schema: { querystring: listQuery } }, async (req, reply) => {
    const q = listArgs(req.query);
    const { incidents, hasNext } = await fetchList(q);
    return sendHtml(reply, listPage(ctx(req, reply), incidents, q, hasNext, listVersion(incidents, hasNext)));
  });

  // What the script polls: a version of what the list shows, read from the store (so a change made
  // through another replica shows too).
  app.get<{ Querystring: ListQs }>('/incidents/live', { schema: { querystring: listQuery } }, async (req, reply) => {
    const { incidents, hasNext } = await fetchList(listArgs(req.query));
    reply.header('cache-control', 'no-store');
    return { version: listVersion(incidents, hasNext) };
  });

  app.get<{ Params: { id: number } }>('/incidents/:id', { schema: { params: idParams } }, async (req, reply) => {
    const incident = await store.getIncident(req.params.id, { offset: 0, limit: ALERTS_SHOWN });
    if (!incident) return sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${req.params.id}.`), 404);
    const { paging, checklists } = opts.settings();
    const team = incident.team ? (paging.teams.find((t) => t.id === incident.team)?.name ?? incident.team) : undefined;
    return sendHtml(reply, incidentPage(ctx(req, reply), { incident, checklist: checklistFor(checklists, incident), team }, incidentVersion(incident)));
  });

  app.get<{ Params: { id: number } }>('/incidents/:id/live', { schema: { params: idParams } }, async (req, reply) => {
    const i = await store.getIncident(req.params.id, { offset: 0, limit: 1 });
    if (!i) return reply.code(404).send({ error: 'Not Found', message: `no incident ${req.params.id}` });
    reply.header('cache-control', 'no-store');
    return { version: incidentVersion(i) };
  });

  const responder = (req: FastifyRequest) => {
    const v = viewers.get(req)!;
    return { name: v.name, contact: v.contact, via: 'web' as const };
  };
  const done = (req: FastifyRequest<{ Params: { id: number } }>, reply: FastifyReply, result: ActionResult, anchor = '') => {
    if (!result.found) return sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${req.params.id}.`), 404);
    // Post/redirect/get: a reload does not send the form again.
    return reply.redirect(`/incidents/${req.params.id}${anchor}`, 303);
  };
  const formOnly = { type: 'object', additionalProperties: false, properties: { ...csrfField } } as const;

  app.post<{ Params: { id: number } }>('/incidents/:id/ack', { schema: { params: idParams, body: formOnly } }, async (req, reply) =>
    done(req, reply, await service.acknowledge(req.params.id, responder(req))),
  );
  app.post<{ Params: { id: number } }>('/incidents/:id/resolve', { schema: { params: idParams, body: formOnly } }, async (req, reply) =>
    done(req, reply, await service.resolve(req.params.id, responder(req))),
  );

  app.post<{ Params: { id: number }; Body: { text: string } }>(
    '/incidents/:id/notes',
    { schema: { params: idParams, body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 4000 }, ...csrfField } } } },
    async (req, reply) => {
      const text = req.body.text.trim();
      if (!text) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'The note is empty.'), 400);
      return done(req, reply, await service.note(req.params.id, responder(req), text), '#notes');
    },
  );

  app.post<{ Params: { id: number }; Body: { step: string; done?: string; problem?: string; note?: string } }>(
    '/incidents/:id/checklist',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['step'],
          additionalProperties: false,
          properties: {
            step: { type: 'string', minLength: 1, maxLength: 300 },
            done: { type: 'string', enum: ['on'] },
            problem: { type: 'string', enum: ['on'] },
            note: { type: 'string', maxLength: 2000 },
            ...csrfField,
          },
        },
      },
    },
    async (req, reply) => {
      const incident = await store.getIncident(req.params.id, { offset: 0, limit: 1 });
      if (!incident) return sendHtml(reply, errorPage(ctx(req, reply), 404, `There is no incident ${req.params.id}.`), 404);
      const steps = checklistFor(opts.settings().checklists, incident).flatMap((s) => s.steps);
      if (!steps.includes(req.body.step)) return sendHtml(reply, errorPage(ctx(req, reply), 400, `"${req.body.step}" is not a step of this incident's checklist.`), 400);
      const note = req.body.note?.trim() || undefined;
      if (req.body.problem && !note) return sendHtml(reply, errorPage(ctx(req, reply), 400, 'Say what the problem is.'), 400);
      const state = req.body.problem ? 'problem' : req.body.done ? 'done' : 'undone';
      return done(req, reply, await service.markStep(req.params.id, responder(req), req.body.step, state, note), '#checklist');
    },
  );

  app.post<{ Params: { id: number }; Body: { rootCause?: string; impact?: string; prevention?: string } }>(
    '/incidents/:id/review',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rootCause: { type: 'string', maxLength: 10_000 },
            impact: { type: 'string', maxLength: 10_000 },
            prevention: { type: 'string', maxLength: 10_000 },
            ...csrfField,
          },
        },
      },
    },
    async (req, reply) => {
      // Browsers send CRLF line ends from a textarea; stored as LF.
      const clean = (s: string | undefined) => (s ?? '').replace(/\r\n/g, '\n').trim();
      const review = { rootCause: clean(req.body.rootCause), impact: clean(req.body.impact), prevention: clean(req.body.prevention) };
      return done(req, reply, await service.saveReview(req.params.id, responder(req), review), '#review');
    },
  );
}
