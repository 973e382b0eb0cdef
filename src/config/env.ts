import { SEVERITIES } from '../classify/severity.js';
import type { PagingConfig, Route } from '../paging/paging-config.js';
import { parseDuration } from '../incidents/duration.js';
import { isIP } from 'node:net';
import { ConfigError } from './load-config.js';
import { channelProblems, readChannelEnv, type ChannelEnv } from './channel-env.js';

/** Settings that come from the environment; the secrets live only here. */
/** Teams, Mattermost, ntfy and outgoing webhooks have their own variables (config/channel-env.ts). */
export interface EnvSettings extends ChannelEnv {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  configPath: string;
  webhookToken: string | undefined;
  apiToken: string | undefined;
  logLevel: string;
  publicUrl: string | undefined;
  production: boolean;
  slackBotToken: string | undefined;
  slackApiUrl: string | undefined;
  slackSigningSecret: string | undefined;
  smtpUrl: string | undefined;
  emailFrom: string | undefined;
  /** SLACK_TIMEOUT: how long one Web API call may take (default 10s); a call cut off has an unknown outcome. */
  slackTimeoutMs: number | undefined;
  /** Twilio, for calls and texts (docs/phone.md): secrets, never logged. */
  twilio: {
    accountSid: string | undefined;
    authToken: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    apiUrl: string | undefined;
    from: string | undefined;
    voiceFrom: string | undefined;
    /** TWILIO_LIST_WAIT: how long a lookup after a lost answer keeps looking (default 10s; Twilio's lists lag). */
    listWaitMs: number | undefined;
  };
  /** PostgreSQL pool: DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT (unset: the store's defaults). */
  database: { poolSize: number | undefined; connectTimeoutMs: number | undefined; statementTimeoutMs: number | undefined };
  /** SESSION_SECRET: signs the incident pages' cookies; unset outside production, one is made up at start. */
  sessionSecret: string | undefined;
  /** SESSION_TTL: how long a sign-in on the pages lasts (default 12h). */
  sessionTtlMs: number | undefined;
  /** AUTH_PROXY_HEADER and AUTH_PROXY_TRUSTED: sign-in by an authenticating proxy's header, believed only from those addresses. */
  authProxy: { header: string; trusted: string[] } | undefined;
  /** HEARTBEAT_TOKEN_<NAME>: each heartbeat monitor's own token, by the variable's name (server.ts maps them to monitors). */
  heartbeatTokens: Record<string, string>;
  /** ALERTMANAGER_BEARER_TOKEN, or ALERTMANAGER_USERNAME and ALERTMANAGER_PASSWORD: how silences are made in Alertmanager. */
  alertmanagerAuth: { bearer: string } | { username: string; password: string } | undefined;
  /** OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (secret), OIDC_SCOPES, OIDC_END_SESSION: OpenID Connect sign-in. */
  oidc:
    | {
        issuer: string;
        clientId: string;
        clientSecret: string;
        scopes: string | undefined;
        allowInsecureIssuer: boolean;
        endSession: boolean;
      }
    | undefined;
  /**
   * The status page (docs/status-page.md): STATUS_PUBLIC_URL (its own host name), STATUS_EMAIL_FROM,
   * STATUS_EMAIL_INTERVAL, STATUS_TRUSTED_PROXIES (the proxies or CDN whose X-Forwarded-For names the
   * client a subscribe request is counted for), and STATUS_PORT (a listener of its own, on a thread
   * of its own, at HOST).
   */
  status: {
    publicUrl: string | undefined;
    emailFrom: string | undefined;
    emailIntervalMs: number | undefined;
    trustedProxies: string[];
    port: number | undefined;
  };
  /** WEB_TOKEN_SIGN_IN: the built-in form with the shared API_TOKEN (on by default outside production without OIDC). */
  tokenForm: boolean;
}

/** The demo stack's tokens (docker-compose.yml) end in CHANGE-ME: fine for a demo, refused in production. */
export function isPlaceholderToken(value: string | undefined): boolean {
  return value !== undefined && /CHANGE-ME$/i.test(value);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the environment. Throws ConfigError naming the variable at fault. */
export function readEnv(env: NodeJS.ProcessEnv): EnvSettings {
  const port = Number(env['PORT'] ?? 9095);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT: "${env['PORT']}" is not a port number`);
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const production = env['NODE_ENV'] === 'production';
  const slackTimeoutMs = env['SLACK_TIMEOUT'] ? parseDuration(env['SLACK_TIMEOUT']) : undefined;
  if (env['SLACK_TIMEOUT'] && !slackTimeoutMs)
    throw new ConfigError(`SLACK_TIMEOUT: "${env['SLACK_TIMEOUT']}" is not a duration such as 10s`);
  const database = {
    poolSize: positiveInteger(env, 'DATABASE_POOL_SIZE'),
    connectTimeoutMs: duration(env, 'DATABASE_CONNECT_TIMEOUT'),
    statementTimeoutMs: duration(env, 'DATABASE_STATEMENT_TIMEOUT'),
  };
  const sessionTtlMs = env['SESSION_TTL'] ? parseDuration(env['SESSION_TTL']) : undefined;
  if (env['SESSION_TTL'] && !sessionTtlMs) throw new ConfigError(`SESSION_TTL: "${env['SESSION_TTL']}" is not a duration such as 12h`);
  const sessionSecret = env['SESSION_SECRET'] || undefined;
  // The value is never part of a message: it is a secret.
  if (sessionSecret !== undefined && sessionSecret.length < 32)
    throw new ConfigError('SESSION_SECRET: must be at least 32 characters (for example `openssl rand -base64 32`)');
  const authProxy = readAuthProxy(env);
  const twilio = {
    accountSid: env['TWILIO_ACCOUNT_SID'] || undefined,
    authToken: env['TWILIO_AUTH_TOKEN'] || undefined,
    apiKey: env['TWILIO_API_KEY'] || undefined,
    apiSecret: env['TWILIO_API_SECRET'] || undefined,
    apiUrl: env['TWILIO_API_URL'] || undefined,
    from: env['TWILIO_FROM'] || undefined,
    voiceFrom: env['TWILIO_VOICE_FROM'] || undefined,
    listWaitMs: env['TWILIO_LIST_WAIT'] ? parseDuration(env['TWILIO_LIST_WAIT']) : undefined,
  };
  const listWait = twilio.listWaitMs;
  if (env['TWILIO_LIST_WAIT'] && (listWait === undefined || listWait > 120_000))
    throw new ConfigError(`TWILIO_LIST_WAIT: "${env['TWILIO_LIST_WAIT']}" is not a duration between 0s and 2m, such as 10s`);
  for (const key of ['TWILIO_FROM', 'TWILIO_VOICE_FROM'] as const) {
    const n = env[key];
    if (n && !/^\+[1-9][0-9]{6,14}$/.test(n)) throw new ConfigError(`${key}: "${n}" is not an E.164 number such as +15017122661`);
  }
  const oidc = readOidc(env, production);
  if (oidc && !env['PUBLIC_URL'])
    throw new ConfigError('PUBLIC_URL: required with OIDC_ISSUER (the identity provider sends people back to PUBLIC_URL/auth/callback)');
  if (oidc && authProxy) throw new ConfigError('OIDC_ISSUER and AUTH_PROXY_HEADER: choose one way of signing people in');
  const tokenFormText = env['WEB_TOKEN_SIGN_IN'];
  if (tokenFormText !== undefined && tokenFormText !== '' && !['on', 'off'].includes(tokenFormText))
    throw new ConfigError(`WEB_TOKEN_SIGN_IN: "${tokenFormText}" is not on or off`);
  // The shared-token form is for a local trial: in production, or once people sign in as themselves, only if asked for.
  const tokenForm = tokenFormText ? tokenFormText === 'on' : !production && !oidc;
  const settings: EnvSettings = {
    port,
    host: env['HOST'] ?? '0.0.0.0',
    databaseUrl: env['DATABASE_URL'] || undefined,
    configPath: env['TRIAGE_CONFIG'] ?? 'config/triage.yml',
    webhookToken: env['WEBHOOK_TOKEN'] || undefined,
    apiToken: env['API_TOKEN'] || undefined,
    logLevel,
    publicUrl: env['PUBLIC_URL'] || undefined,
    production,
    slackBotToken: env['SLACK_BOT_TOKEN'] || undefined,
    slackApiUrl: env['SLACK_API_URL'] || undefined,
    slackSigningSecret: env['SLACK_SIGNING_SECRET'] || undefined,
    smtpUrl: env['SMTP_URL'] || undefined,
    emailFrom: env['EMAIL_FROM'] || undefined,
    slackTimeoutMs,
    twilio,
    database,
    sessionSecret,
    sessionTtlMs,
    authProxy,
    alertmanagerAuth: readAlertmanagerAuth(env),
    heartbeatTokens: Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('HEARTBEAT_TOKEN_') && Boolean(e[1])),
    ),
    oidc,
    tokenForm,
    status: readStatusEnv(env),
    ...readChannelEnv(env),
  };
  if (production) {
    const missing = (['WEBHOOK_TOKEN', 'API_TOKEN'] as const).filter((k) => !env[k]);
    if (missing.length) throw new ConfigError(`${missing.join(' and ')}: required when NODE_ENV=production`);
    const placeholders = (['WEBHOOK_TOKEN', 'API_TOKEN'] as const).filter((k) => isPlaceholderToken(env[k]));
    if (placeholders.length) {
      throw new ConfigError(
        `${placeholders.join(' and ')}: the demo stack's placeholder (…CHANGE-ME) is not a token; set a real one when NODE_ENV=production`,
      );
    }
    if (sessionSecret === undefined)
      throw new ConfigError(
        'SESSION_SECRET: required when NODE_ENV=production (sign-ins on the incident pages would end at every restart and work on one replica only)',
      );
    // The `ha` profile's demo secret is shared by its replicas: fine for a demo, never for production.
    if (isPlaceholderToken(sessionSecret))
      throw new ConfigError(
        "SESSION_SECRET: the demo stack's placeholder (…CHANGE-ME) is not a secret; set a real one when NODE_ENV=production",
      );
  }
  return settings;
}

function readStatusEnv(env: NodeJS.ProcessEnv): EnvSettings['status'] {
  const url = env['STATUS_PUBLIC_URL'] || undefined;
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.pathname.replace(/\/+$/, '') !== '' || parsed.search || parsed.username)
      throw new ConfigError(`STATUS_PUBLIC_URL: "${url}" is not an http(s) origin such as https://status.example.com`);
  }
  return {
    publicUrl: url?.replace(/\/+$/, ''),
    emailFrom: env['STATUS_EMAIL_FROM'] || undefined,
    emailIntervalMs: duration(env, 'STATUS_EMAIL_INTERVAL'),
    trustedProxies: addressList(env, 'STATUS_TRUSTED_PROXIES'),
    port: statusPort(env),
  };
}

/** A comma-separated list of IP addresses and CIDR ranges. */
function addressList(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [ip, bits, extra] = entry.split('/');
    const family = isIP(ip ?? '');
    const max = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max)))
      throw new ConfigError(`${name}: "${entry}" is not an IP address or a CIDR range`);
  }
  return entries;
}

function statusPort(env: NodeJS.ProcessEnv): number | undefined {
  const text = env['STATUS_PORT'];
  if (!text) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new ConfigError(`STATUS_PORT: "${text}" is not a port number`);
  if (port !== 0 && port === Number(env['PORT'] ?? 9095))
    throw new ConfigError(`STATUS_PORT: ${port} is PORT; give the status page a port of its own`);
  return port;
}

function duration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (!text) return undefined;
  const ms = parseDuration(text);
  if (!ms) throw new ConfigError(`${name}: "${text}" is not a duration such as 5s`);
  return ms;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name}: "${text}" is not a whole number of at least 1`);
  return n;
}

function readAuthProxy(env: NodeJS.ProcessEnv): EnvSettings['authProxy'] {
  const header = env['AUTH_PROXY_HEADER']?.trim();
  const trusted = (env['AUTH_PROXY_TRUSTED'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!header) {
    if (trusted.length)
      throw new ConfigError(
        'AUTH_PROXY_TRUSTED: set, but AUTH_PROXY_HEADER (the header that names the user, e.g. X-Forwarded-Email) is not',
      );
    return undefined;
  }
  if (!/^[A-Za-z0-9-]+$/.test(header)) throw new ConfigError(`AUTH_PROXY_HEADER: "${header}" is not a header name`);
  // Without a list of proxies anyone could send the header and be whoever they like.
  if (!trusted.length)
    throw new ConfigError(
      'AUTH_PROXY_TRUSTED: required with AUTH_PROXY_HEADER: the proxy addresses (IPs or CIDR ranges, comma-separated) the header is believed from',
    );
  for (const entry of trusted) {
    const [ip, bits, extra] = entry.split('/');
    const family = isIP(ip ?? '');
    const max = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
      throw new ConfigError(`AUTH_PROXY_TRUSTED: "${entry}" is not an IP address or a CIDR range`);
    }
  }
  return { header, trusted };
}

/**
 * Paging settings that cannot work together, each message naming the variable (never its value:
 * URLs may hold passwords). In production any of them stops the service; elsewhere they are loud
 * warnings, so a trial runs without Slack or SMTP.
 */
export function pagingProblems(env: EnvSettings, paging: PagingConfig): string[] {
  const policies = [paging, ...paging.teams];
  const routed = (test: (r: Route) => boolean) => policies.some((p) => SEVERITIES.some((s) => test(p.routing[s])));
  const problems: string[] = [];
  if (!env.slackBotToken && routed((r) => r.channels.length > 0))
    problems.push('SLACK_BOT_TOKEN: not set, but the config routes pages to Slack channels: they would not be sent');
  if (env.slackBotToken && !env.slackSigningSecret)
    problems.push("SLACK_SIGNING_SECRET: not set, so Slack's Acknowledge and Resolve buttons cannot work");
  // Escalation steps always page by e-mail as well.
  const escalates = policies.some((p) => SEVERITIES.some((s) => p.escalation[s].steps.length > 0));
  if (!env.smtpUrl && (routed((r) => r.email && r.notify.length > 0) || escalates))
    problems.push('SMTP_URL: not set, but the config routes pages to e-mail: they would not be sent');
  if (env.smtpUrl && !isSmtpUrl(env.smtpUrl)) problems.push('SMTP_URL: not a URL such as smtp://user:pass@host:587 or smtps://host:465');
  if (env.smtpUrl && !env.emailFrom) problems.push('EMAIL_FROM: not set, but SMTP_URL is: e-mail needs a sender address');
  problems.push(...channelProblems(env, paging));
  const phones = paging.contacts.some((c) => c.phone || c.addresses?.['sms'] || c.addresses?.['voice']);
  if (phones && !env.twilio.accountSid)
    problems.push('TWILIO_ACCOUNT_SID: not set, but contacts have phone numbers: calls and texts would not be sent');
  if (env.twilio.accountSid && !env.twilio.authToken)
    problems.push(
      "TWILIO_AUTH_TOKEN: not set, so the signature of Twilio's callbacks cannot be checked: replies and keypresses are refused",
    );
  if (env.twilio.accountSid && !env.publicUrl) problems.push('PUBLIC_URL: not set, but Twilio is: calls need it to fetch what they say');
  return problems;
}

function isSmtpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Alertmanager's credentials: a bearer token, or basic auth with both halves. Never echoed. */
function readAlertmanagerAuth(env: NodeJS.ProcessEnv): EnvSettings['alertmanagerAuth'] {
  const bearer = env['ALERTMANAGER_BEARER_TOKEN'] || undefined;
  const username = env['ALERTMANAGER_USERNAME'] || undefined;
  const password = env['ALERTMANAGER_PASSWORD'] || undefined;
  if (bearer && (username || password))
    throw new ConfigError(
      'ALERTMANAGER_BEARER_TOKEN and ALERTMANAGER_USERNAME/ALERTMANAGER_PASSWORD: set one way to sign in to Alertmanager, not both',
    );
  if (bearer) return { bearer };
  if (username || password) {
    if (!username || !password) throw new ConfigError('ALERTMANAGER_USERNAME and ALERTMANAGER_PASSWORD: basic auth needs both');
    return { username, password };
  }
  return undefined;
}

function readOidc(env: NodeJS.ProcessEnv, production: boolean): EnvSettings['oidc'] {
  const issuer = env['OIDC_ISSUER']?.trim();
  const clientId = env['OIDC_CLIENT_ID']?.trim();
  const clientSecret = env['OIDC_CLIENT_SECRET'];
  if (!issuer) {
    if (clientId || clientSecret)
      throw new ConfigError("OIDC_ISSUER: required with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (the provider's issuer URL)");
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`OIDC_ISSUER: "${issuer}" is not a URL such as https://accounts.google.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`OIDC_ISSUER: "${issuer}" is not an https URL`);
  // Plain http only for a provider on this machine or a trial: tokens would cross the network in the clear.
  if (url.protocol === 'http:' && production) throw new ConfigError('OIDC_ISSUER: must be https when NODE_ENV=production');
  if (!clientId) throw new ConfigError('OIDC_CLIENT_ID: required with OIDC_ISSUER');
  if (!clientSecret) throw new ConfigError('OIDC_CLIENT_SECRET: required with OIDC_ISSUER');
  const endSession = (env['OIDC_END_SESSION']?.trim() || 'on').toLowerCase();
  if (endSession !== 'on' && endSession !== 'off')
    throw new ConfigError(`OIDC_END_SESSION: "${endSession}" is neither on nor off (whether sign-out also signs out at the provider)`);
  return {
    issuer,
    clientId,
    clientSecret,
    scopes: env['OIDC_SCOPES']?.trim() || undefined,
    allowInsecureIssuer: url.protocol === 'http:',
    endSession: endSession === 'on',
  };
}
