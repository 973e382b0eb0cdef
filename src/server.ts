import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { heartbeatTokenVariable } from './api/heartbeats-route.js';
import { isPlaceholderToken, pagingProblems, readEnv, type EnvSettings } from './config/env.js';
import { logOptions } from './http/log-serializers.js';
import { ConfigError, loadConfigFile } from './config/load-config.js';
import { describeDatabaseUrl, openStore } from './store/open-store.js';
import { routesReachingNobody } from './paging/paging-config.js';

async function main(): Promise<void> {
  const bootLog = pino(logOptions());
  let env;
  let triage;
  let store;
  let problems: string[];
  // Read at start and at every reload: in production a config that would page nobody is refused either way.
  const load = (settings: EnvSettings) => {
    const config = loadConfigFile(settings.configPath);
    const found = [...pagingProblems(settings, config.paging), ...routesReachingNobody(config.paging)];
    if (settings.production && found.length)
      throw new ConfigError(`${found.join('; ')} (NODE_ENV=production refuses a pager that cannot page)`);
    return { config, found };
  };
  try {
    env = readEnv(process.env);
    ({ config: triage, found: problems } = load(env));
    store = await openStore(env.databaseUrl, env.database);
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLog.fatal(`configuration error: ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  // To stdout, asynchronously (pino's default; what is buffered is flushed on exit).
  const logger = pino(logOptions(env.logLevel));
  for (const [name, value] of [
    ['WEBHOOK_TOKEN', env.webhookToken],
    ['API_TOKEN', env.apiToken],
  ] as const) {
    if (!value)
      logger.warn(
        `${name} is not set: anyone who can reach this port can use it. Fine for a local trial; set it (NODE_ENV=production requires it).`,
      );
    else if (isPlaceholderToken(value))
      logger.warn(
        `${name} is the demo stack's placeholder: anyone who reads docker-compose.yml can use it. Fine for a demo; set a real one (NODE_ENV=production requires it).`,
      );
  }

  if (!env.sessionSecret) {
    logger.warn(
      'SESSION_SECRET is not set: a secret was made up for this run, so web sign-ins end at every restart and work on this replica only. Set it (NODE_ENV=production requires it).',
    );
  }
  if (env.oidc) logger.info({ issuer: env.oidc.issuer, clientId: env.oidc.clientId }, 'web sign-in by OpenID Connect');
  if (env.authProxy)
    logger.info({ header: env.authProxy.header, trusted: env.authProxy.trusted }, 'web sign-in by an authenticating proxy');
  for (const problem of problems) logger.warn(`${problem} (NODE_ENV=production refuses to start like this)`);
  for (const m of triage.heartbeats.monitors)
    if (!env.heartbeatTokens[heartbeatTokenVariable(m.name)])
      logger.warn(
        `heartbeat monitor "${m.name}" has no token: set ${heartbeatTokenVariable(m.name)}, or its beats are refused (401) and it will be reported silent`,
      );
  const app = buildApp(
    {
      triage,
      loadConfig: () => {
        const { config, found } = load(env);
        for (const problem of found) logger.warn(`${problem} (NODE_ENV=production refuses this config)`);
        return config;
      },
      webhookToken: env.webhookToken,
      apiToken: env.apiToken,
      slackSigningSecret: env.slackSigningSecret,
      heartbeatTokens: env.heartbeatTokens,
      alertmanagerAuth: env.alertmanagerAuth,
      statusTrustedProxies: env.status.trustedProxies,
      channels: {
        slackBotToken: env.slackBotToken,
        slackApiUrl: env.slackApiUrl,
        slackTimeoutMs: env.slackTimeoutMs,
        smtpUrl: env.smtpUrl,
        emailFrom: env.emailFrom,
        publicUrl: env.publicUrl,
        teamsWebhookUrls: env.teamsWebhookUrls,
        mattermostWebhookUrl: env.mattermostWebhookUrl,
        mattermostUrl: env.mattermostUrl,
        mattermostBotToken: env.mattermostBotToken,
        ntfyUrl: env.ntfyUrl,
        ntfyToken: env.ntfyToken,
        outgoingWebhooks: env.outgoingWebhooks,
        twilioAccountSid: env.twilio.accountSid,
        twilioAuthToken: env.twilio.authToken,
        twilioApiKey: env.twilio.apiKey,
        twilioApiSecret: env.twilio.apiSecret,
        twilioApiUrl: env.twilio.apiUrl,
        twilioFrom: env.twilio.from,
        twilioVoiceFrom: env.twilio.voiceFrom,
        twilioListWaitMs: env.twilio.listWaitMs,
        statusPublicUrl: env.status.publicUrl,
        statusEmailFrom: env.status.emailFrom,
        statusEmailIntervalMs: env.status.emailIntervalMs,
      },
      web: {
        sessionSecret: env.sessionSecret ?? randomBytes(32).toString('base64url'),
        auth: env.authProxy ? { mode: 'proxy', ...env.authProxy } : { mode: 'form' },
        sessionTtlMs: env.sessionTtlMs,
        tokenForm: env.tokenForm,
        oidc: env.oidc,
      },
      // STATUS_PORT: the public status page on a thread of its own, at the same HOST (docs/adr/0007).
      ...(env.status.port !== undefined ? { statusListener: { port: env.status.port, host: env.host, logLevel: env.logLevel } } : {}),
    },
    { store, logger },
  );
  if (app.triage.status.subscriptionsOpen && env.status.trustedProxies.length === 0)
    logger.warn(
      'STATUS_TRUSTED_PROXIES is not set: status page subscribe requests are counted by the address they come from, for every replica. Behind a proxy or load balancer every visitor is that one address, and its 10 requests in 10 minutes close the form for all: list the proxies (docs/status-page.md).',
    );

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight ones, closing the store');
    // Pages in flight get a second, then are aborted (the dispatcher's stop). This hard deadline is
    // only for a stuck connection, and stays well inside docker stop's 10 s before SIGKILL.
    setTimeout(() => {
      logger.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, 7_000).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Prometheus' convention: SIGHUP re-reads the config file; a bad file is refused and the running config kept.
  process.on('SIGHUP', () => {
    try {
      const c = app.triage.config.reload();
      logger.info({ config: c.file, teams: c.paging.teams.map((t) => t.id) }, 'config reloaded (SIGHUP)');
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'config reload refused (SIGHUP); the running config is kept');
    }
  });
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: env.port, host: env.host, backlog: triage.server.backlog });
  logger.info(
    {
      config: triage.file,
      store: describeDatabaseUrl(env.databaseUrl),
      publicUrl: env.publicUrl,
      ...(app.triage.statusListener ? { statusPort: app.triage.statusListener.port } : {}),
    },
    'alert-triage ready',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
