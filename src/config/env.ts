import { ConfigError } from './load-config.js';

/** Settings that come from the environment; the secrets live only here. */
export interface EnvSettings {
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
  };
  if (production) {
    const missing = (['WEBHOOK_TOKEN', 'API_TOKEN'] as const).filter((k) => !env[k]);
    if (missing.length) throw new ConfigError(`${missing.join(' and ')}: required when NODE_ENV=production`);
    const placeholders = (['WEBHOOK_TOKEN', 'API_TOKEN'] as const).filter((k) => isPlaceholderToken(env[k]));
    if (placeholders.length) {
      throw new ConfigError(`${placeholders.join(' and ')}: the demo stack's placeholder (…CHANGE-ME) is not a token; set a real one when NODE_ENV=production`);
    }
  }
  return settings;
}
