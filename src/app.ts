import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { incidentsRoutes } from './api/incidents-routes.js';
import { calendarFeedRoute } from './api/calendar-feed-route.js';
import { oncallRoutes } from './api/oncall-routes.js';
import { OncallService } from './service/oncall-service.js';
import { OncallNotices } from './service/oncall-notices.js';
import { HandoffService } from './service/handoff-service.js';
import { SlackUsergroups } from './notify/slack/slack-usergroups.js';
import { systemClock, type Clock } from './clock.js';
import type { TriageConfig } from './config/load-config.js';
import { logClosedRequests, RequestLog } from './http/request-log.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { validatorCompiler } from './http/validator-compiler.js';
import { wellFormedInput } from './http/well-formed-input.js';
import { drainRefusedBodies } from './http/refused-body.js';
import { IncidentService } from './service/incident-service.js';
import { SlaScheduler } from './service/sla-scheduler.js';
import { webhookRoute } from './ingest/webhook-route.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { Dispatcher, type DispatcherOptions } from './outbox/dispatcher.js';
import { CHANNELS, createNotifiers, type ChannelDefinition, type ChannelSettings } from './notify/registry.js';
import { slackActionsRoute } from './api/slack-actions-route.js';
import type { IncidentStore } from './store/store.js';
import { LiveConfig } from './service/live-config.js';
import { policyFor } from './paging/paging-config.js';
import { reloadRoute } from './api/reload-route.js';
import { twilioRoutes } from './api/twilio-routes.js';
import { codeSender } from './notify/twilio/verification-text.js';
import { ContactService } from './service/contact-service.js';
import { markFailed } from './paging/contact-methods.js';
import { randomBytes } from 'node:crypto';
import { webRoutes } from './web/web-routes.js';
import { HeartbeatService } from './service/heartbeat-service.js';
import { heartbeatsRoute } from './api/heartbeats-route.js';
import { SilenceService } from './service/silence-service.js';
import { MaintenanceService } from './service/maintenance-service.js';
import { SilencesClient, type AlertmanagerAuth } from './alertmanager/silences-client.js';
import { silencesRoutes } from './api/silences-routes.js';
import { maintenanceRoutes } from './api/maintenance-routes.js';
import type { WebAuth } from './web/session.js';
import type { OidcSettings } from './web/web-options.js';
import { actingPerson } from './http/acting-person.js';
import { attemptLimiters } from './http/attempt-limiter.js';
import { bearerAuth } from './http/bearer-auth.js';
import { peopleRoutes } from './api/people-routes.js';
import { StatusService, SUBSCRIBE_LIMITS, type MaintenanceSource } from './service/status-service.js';
import { CONFIRMATIONS_TARGET, STATUS_EMAIL_CHANNEL } from './incidents/status-page.js';
import { statusRoutes } from './web/status-routes.js';
import { statusAdminRoutes } from './api/status-admin-routes.js';
import { AttemptLimiter } from './http/attempt-limiter.js';
import { AnswerBudget } from './http/answer-budget.js';
import { StatusListener } from './web/status-listener.js';

/** Settings of one app instance; secrets arrive here from the environment, never from files. */
export interface AppConfig {
  triage: TriageConfig;
  /** Reads the config file again, for a reload (SIGHUP, POST /-/reload); without it a reload is refused. */
  loadConfig?: () => TriageConfig;
  webhookToken?: string | undefined;
  apiToken?: string | undefined;
  /** Slack and e-mail settings (SLACK_BOT_TOKEN, SMTP_URL, ...); without them pages are recorded as not sent. */
  channels?: ChannelSettings;
  slackSigningSecret?: string | undefined;
  /** Pacing and retries of the outbox. */
  dispatch?: DispatcherOptions;
  /** The incident pages' sign-in; without it, the built-in form with a session secret made up at start. */
  web?: WebConfig;
  /** Each heartbeat monitor's token, by its variable's name (HEARTBEAT_TOKEN_<NAME>, from the environment). */
  heartbeatTokens?: Readonly<Record<string, string>>;
  /** Alertmanager's API credentials, for silences (ALERTMANAGER_BEARER_TOKEN, or _USERNAME and _PASSWORD). */
  alertmanagerAuth?: AlertmanagerAuth;
  /** The public maintenance windows the status page shows (issue 22's, once they exist); none without it. */
  maintenance?: MaintenanceSource;
  /** How long /status serves one snapshot of the store (default 5 s; tests 0). */
  statusCacheMs?: number;
  /**
   * The status page on a port and a thread of its own as well (STATUS_PORT at HOST; docs/adr/0007),
   * started and stopped with the app; `logLevel` is the thread's (LOG_LEVEL), none: it logs nothing.
   */
  statusListener?: { port: number; host: string; logLevel?: string | undefined };
  /** STATUS_TRUSTED_PROXIES: the proxies whose X-Forwarded-For names the client of a subscribe request. */
  statusTrustedProxies?: readonly string[];
}

/** How people sign in to the incident pages (SESSION_SECRET, AUTH_PROXY_HEADER, ...). */
export interface WebConfig {
  /** Signs the session and CSRF cookies; secret, never logged. */
  sessionSecret: string;
  auth: WebAuth;
  sessionTtlMs?: number | undefined;
  /** The built-in form with the shared API_TOKEN (a local trial); off in production unless WEB_TOKEN_SIGN_IN=on. */
  tokenForm?: boolean | undefined;
  /** OpenID Connect sign-in (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET). */
  oidc?: OidcSettings | undefined;
}

/** The adapters the app is built from; tests pass their own. */
export interface AppDeps {
  store: IncidentStore;
  /** The channels pages can go to: notify/registry.ts's unless told (a test adds its own). */
  channels?: readonly ChannelDefinition[];
  clock?: Clock;
  logger?: FastifyBaseLogger;
}

/** What the app exposes to its process and to tests. */
export interface Triage {
  service: IncidentService;
  scheduler: SlaScheduler;
  heartbeats: HeartbeatService;
  silences: SilenceService;
  status: StatusService;
  /** Maintenance windows; `publicMaintenance(now)` is what the status page shows of them. */
  maintenance: MaintenanceService;
  /** The on-call pass: handoff notices and Slack user groups. */
  handoffs: HandoffService;
  /** The status page's own listener (STATUS_PORT), when configured; its `port` once the app is ready. */
  statusListener: StatusListener | undefined;
  dispatcher: Dispatcher;
  metrics: Metrics;
  store: IncidentStore;
  /** The config in force; `config.reload()` re-reads the file. */
  config: LiveConfig;
}

declare module 'fastify' {
  interface FastifyInstance {
    triage: Triage;
  }
}

/**
 * Wires the whole pipeline: webhook → classification → incident store (with the pages each change
 * calls for) → outbox dispatcher → Slack and e-mail, plus metrics, the API and the SLA scheduler. The app owns the store from here on: closing the app closes it.
 */
export function buildApp(config: AppConfig, deps: AppDeps): FastifyInstance {
  const { triage } = config;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger, logController: new RequestLog() } : { logger: false }),
    // A 4xx for a hostile key would make Alertmanager drop the group for good: strip, don't reject.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    bodyLimit: triage.server.bodyLimit,
    requestTimeout: triage.server.requestTimeoutMs,
    // Node enforces requestTimeout only when headersTimeout is no longer (it stays 60 s when the
    // request timeout is set after the server is made), and checks only every
    // connectionsCheckingInterval (30 s by default), so a body trickling in a byte at a time ran far
    // past the limit. Both set here, the limit holds to within a second.
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(60_000, triage.server.requestTimeoutMs) },
    connectionTimeout: triage.server.connectionTimeoutMs,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const { store } = deps;
  const channels = deps.channels ?? CHANNELS;
  const metrics = createMetrics({
    channels: channels.map((c) => c.name),
    readCounts: () => store.counts(clock.now()),
    queueDepth: () => store.queueDepth(),
    retrying: () => store.retryingPages(),
    heartbeats: () => store.listHeartbeats(),
  });
  const live = new LiveConfig(triage, config.loadConfig, clock, (ok, at) => metrics.observeReload(ok, at));
  // The notifiers read the checklists in force at each send, so a reload applies.
  const notifiers = createNotifiers(
    {
      ...config.channels,
      checklists: () => live.current.checklists,
      statusPage: () => live.current.statusPage,
      now: () => clock.now(),
      timeZoneOf: (team) => policyFor(live.current.paging, team).rotation?.timeZone,
      // A number that will never take a page (a STOP, an invalid number) is skipped until fixed.
      markMethodFailed: (contact, method, address, reason, at) =>
        store.updateContactSettings(contact, (s) => ({ settings: markFailed(s, method, address, reason, at), result: undefined })),
    },
    store,
    channels,
  );
  // A page to a channel that cannot send is recorded as not sent at once, rather than queued.
  const known = [...notifiers.keys()].join(', ');
  const unconfigured = (channel: string) =>
    notifiers.has(channel) ? notifiers.get(channel)!.notConfigured : `no channel "${channel}" (there are: ${known})`;
  const dispatcher = new Dispatcher(store, notifiers, clock, metrics, app.log, config.dispatch);
  const service = new IncidentService({
    store,
    clock,
    config: live,
    unconfigured,
    takesReviews: (channel) => channels.some((c) => c.name === channel && c.takesReviews === true),
    onCommitted: (change) => {
      metrics.observeChange(change);
      // The pages are committed: the dispatcher claims them now instead of at its next poll.
      const waiting = change.pages?.filter((p) => !p.notSent);
      if (waiting?.length) dispatcher.wake(waiting);
    },
  });
  // Pages committed by another replica wake this dispatcher too (LISTEN/NOTIFY on PostgreSQL).
  store.onPagesCommitted?.((targets) => dispatcher.wake(targets));
  // Notices of on-call (requests, their answers, handoffs) reach a person by Slack DM, else e-mail.
  const oncallNotices = new OncallNotices({
    store,
    config: live,
    canSend: (channel) => notifiers.has(channel) && !notifiers.get(channel)!.notConfigured,
    publicUrl: config.channels?.publicUrl,
  });
  const oncall = new OncallService({ store, clock, config: live, notices: oncallNotices, wake: () => dispatcher.wake() });
  // Handoff notices and Slack user groups: the scheduler's pass, never a request.
  const handoffs = new HandoffService({
    store,
    clock,
    config: live,
    oncall,
    notices: oncallNotices,
    wake: () => dispatcher.wake(),
    usergroups: new SlackUsergroups({
      token: config.channels?.slackBotToken,
      apiUrl: config.channels?.slackApiUrl,
      timeoutMs: config.channels?.slackTimeoutMs,
    }),
    observeUsergroupSync: (group, ok, at) => metrics.observeUsergroupSync(group, ok, at),
    log: app.log,
  });
  // Each person's own numbers (verified by a texted code) and notification rules, for /me.
  const contacts = new ContactService({
    store,
    clock,
    config: live,
    codes: codeSender({ ...config.channels, now: () => clock.now() }, store),
  });
  // Removed contacts are never on call: their overrides are void from the reload on (and the log says so).
  const voidRemoved = () =>
    oncall.voidRemovedContacts().then(
      (gone) => gone.length && app.log.warn({ overrides: gone.map((o) => o.id) }, 'on-call overrides of removed contacts made void'),
      (err: unknown) => app.log.warn({ err }, 'could not make the overrides of removed contacts void; they are ignored all the same'),
    );
  live.onReload(() => void voidRemoved());
  // The Watchdog of each Alertmanager and the monitors: deadlines in the store, checked by the scheduler's pass.
  const heartbeats = new HeartbeatService({ store, incidents: service, clock, config: live });
  // Silences in Alertmanager from the incident page and the API, and the pass that expires and announces them.
  const silencesClient = new SilencesClient({ auth: config.alertmanagerAuth });
  const silences = new SilenceService({
    store,
    incidents: service,
    client: silencesClient,
    clock,
    config: live,
    publicUrl: config.channels?.publicUrl,
  });
  // Maintenance windows: silences for times to come, from the /maintenance page.
  const maintenance = new MaintenanceService({ store, client: silencesClient, clock, config: live, publicUrl: config.channels?.publicUrl });
  // The status page: public updates from the incident page, /status, its feeds and its subscribers.
  const status = new StatusService({
    store,
    incidents: service,
    clock,
    config: live,
    wake: () => dispatcher.wake([{ channel: STATUS_EMAIL_CHANNEL, target: CONFIRMATIONS_TARGET }]),
    canEmailUpdates: notifiers.has(STATUS_EMAIL_CHANNEL) && notifiers.get(STATUS_EMAIL_CHANNEL)!.notConfigured === undefined,
    publicUrl: config.channels?.statusPublicUrl ?? config.channels?.publicUrl,
    // Issue 22's windows marked public: their title, public words and times (they name no component).
    maintenance:
      config.maintenance ??
      ((now) =>
        maintenance
          .publicMaintenance(now)
          .then((list) => list.map((w) => ({ title: w.title, text: w.text, startsAt: w.startsAt, endsAt: w.endsAt, components: [] })))),
    cacheMs: config.statusCacheMs,
    log: app.log,
  });
  // Expired web sessions are deleted by the scheduler's loop, never inside a request.
  const scheduler = new SlaScheduler(
    service,
    () => live.current.scheduler.intervalMs,
    app.log,
    () => store.sweepSessions(clock.now()),
    [heartbeats, silences, handoffs, status],
  );
  const serviceOrigin = config.channels?.publicUrl ? new URL(config.channels.publicUrl).origin : undefined;
  const statusOrigin = config.channels?.statusPublicUrl ? new URL(config.channels.statusPublicUrl).origin : undefined;
  const statusFormOrigins = [statusOrigin, serviceOrigin].filter((o): o is string => o !== undefined);
  const statusListener = config.statusListener
    ? new StatusListener({
        status,
        log: app.log,
        port: config.statusListener.port,
        host: config.statusListener.host,
        logLevel: config.statusListener.logLevel,
        backlog: triage.server.backlog,
        requestTimeoutMs: triage.server.requestTimeoutMs,
        connectionTimeoutMs: triage.server.connectionTimeoutMs,
        origins: statusFormOrigins,
        trustedProxies: config.statusTrustedProxies ?? [],
        answersPerSecond: triage.server.statusPortAnswersPerSecond,
      })
    : undefined;
  // On the webhook's own loop, the public page gets a budget: beyond it visitors wait, then get a 503.
  const statusBudget = new AnswerBudget({ perSecond: triage.server.statusAnswersPerSecond });
  app.decorate('triage', {
    service,
    scheduler,
    heartbeats,
    silences,
    status,
    maintenance,
    handoffs,
    statusListener,
    dispatcher,
    metrics,
    store,
    config: live,
  });

  app.setErrorHandler(errorHandler);
  if (deps.logger) logClosedRequests(app);
  app.setNotFoundHandler(notFoundHandler);
  app.setValidatorCompiler(validatorCompiler);
  wellFormedInput(app);
  drainRefusedBodies(app, triage.server.bodyLimit);
  actingPerson(app);
  if (statusOrigin) {
    // On the status page's own host name only the public page answers: the incident pages, the API
    // and the webhook are not reachable through it, whatever the proxy in front lets through.
    const statusHost = new URL(statusOrigin).host;
    app.addHook('onRequest', async (req, reply) => {
      if (req.headers.host !== statusHost) return;
      const path = req.url.split('?')[0]!;
      if (path === '/') return reply.redirect('/status', 302);
      if (path === '/status' || path.startsWith('/status/') || path === '/favicon.ico') return;
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found: this host serves the status page only.');
    });
  }

  // Who is acting on the API: a personal token's maker, or API_TOKEN's admin (docs/people.md).
  const limiters = attemptLimiters(clock);
  const apiAuth = bearerAuth({
    apiToken: config.apiToken,
    store,
    people: () => ({ people: live.current.people, contacts: live.current.paging.contacts }),
    clock,
    limiters,
    realm: 'api',
  });

  app.register(webhookRoute, { service, heartbeats, metrics, clock, token: config.webhookToken, bodyLimit: triage.server.bodyLimit });
  app.register(incidentsRoutes, { prefix: '/api', service, store, auth: apiAuth, config: live, clock });
  app.register(oncallRoutes, { prefix: '/api', config: live, store, oncall, clock, auth: apiAuth });
  app.register(peopleRoutes, { prefix: '/api', store, auth: apiAuth, clock });
  app.register(calendarFeedRoute, { config: live, store, oncall, clock, publicUrl: config.channels?.publicUrl });
  app.register(slackActionsRoute, {
    signingSecret: config.slackSigningSecret,
    service,
    config: live,
    clock,
    silences,
    responseOrigins: config.channels?.slackApiUrl ? [config.channels.slackApiUrl] : [],
  });
  app.register(silencesRoutes, { prefix: '/api', silences, store, auth: apiAuth });
  app.register(maintenanceRoutes, { prefix: '/api', maintenance, auth: apiAuth });
  app.register(heartbeatsRoute, { prefix: '/api', heartbeats, tokens: config.heartbeatTokens ?? {} });
  app.register(reloadRoute, { config: live, auth: apiAuth });
  app.register(twilioRoutes, {
    authToken: config.channels?.twilioAuthToken,
    publicUrl: config.channels?.publicUrl,
    service,
    store,
    clock,
    contacts: () => live.current.paging.contacts,
    observe: (channel, outcome) => metrics.observePhone(channel, outcome),
  });
  // /status is public: its own scope, outside the pages' sign-in (docs/status-page.md).
  app.register(statusRoutes, {
    status,
    limiters: {
      byClient: new AttemptLimiter(clock, SUBSCRIBE_LIMITS.byClient),
      byEmail: new AttemptLimiter(clock, SUBSCRIBE_LIMITS.byEmail),
    },
    origins: statusFormOrigins,
    trustedProxies: config.statusTrustedProxies ?? [],
    budget: statusBudget,
  });
  app.register(statusAdminRoutes, { prefix: '/api', store, auth: apiAuth });
  app.register(webRoutes, {
    service,
    status,
    oncall,
    contacts,
    store,
    clock,
    settings: () => live.current,
    // A secret made up here signs everyone out at each restart; server.ts warns about it.
    silences,
    maintenance,
    sessionSecret: config.web?.sessionSecret ?? randomBytes(32).toString('base64url'),
    apiToken: config.apiToken,
    auth: config.web?.auth ?? { mode: 'form' },
    publicUrl: config.channels?.publicUrl,
    ...(config.web?.sessionTtlMs ? { sessionTtlMs: config.web.sessionTtlMs } : {}),
    limiters,
    tokenForm: config.web?.tokenForm ?? true,
    oidc: config.web?.oidc,
  });

  // Probes and scrapes arrive every few seconds and would bury the request log: their request lines
  // are not logged (a route's logLevel is a threshold, so 'warn' keeps their warnings and errors).
  const quiet = { logLevel: 'warn' } as const;
  app.get('/healthz', quiet, async () => ({ status: 'ok' }));
  app.get('/readyz', quiet, async (req, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err }, 'store not ready');
      return reply.code(503).send({ status: 'unavailable', message: 'the incident store cannot take a write now' });
    }
  });
  app.get('/metrics', quiet, async (req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.addHook('onReady', async () => {
    // Deadlines that passed while the service was down are marked before the first request.
    await voidRemoved();
    await scheduler.tick().catch((err: unknown) => app.log.warn({ err }, 'initial SLA sweep failed; the scheduler will retry'));
    scheduler.start();
    if (config.dispatch?.autoStart === false) await dispatcher.recover();
    else await dispatcher.start();
    await statusListener?.start();
  });
  app.addHook('onClose', async () => {
    // The status listener's forms write through the store: it ends before the store closes.
    statusBudget.close();
    await statusListener?.stop();
    await scheduler.stop();
    await dispatcher.stop();
    for (const n of notifiers.values()) n.close?.();
    await store.close();
  });
  return app;
}
