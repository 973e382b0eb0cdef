import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { SlackUsergroups } from '../notify/slack/slack-usergroups.js';
import nodemailer from 'nodemailer';
import { parse } from 'yaml';
import { readEnv, type EnvSettings } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { formatDuration } from '../incidents/duration.js';
import { SEVERITIES } from '../classify/severity.js';
import { routesUsing } from '../paging/paging-config.js';
import { describeDatabaseUrl, isPostgresUrl, openStore, passwordOf } from '../store/open-store.js';
import { inspectPostgres, type PostgresInspection } from '../store/postgres-inspect.js';
import { PG_DEFAULTS } from '../store/postgres-store.js';
import { channelChecks } from './doctor-channels.js';
import { describeFetchError, receiverUrl, type Output } from './output.js';
import { TwilioApi } from '../notify/twilio/twilio-api.js';

/** Options of `alert-triage doctor`. */
export interface DoctorOptions {
  url?: string | undefined;
  /** Folder with prometheus_rules.yml and detection_rules/; default ./monitoring. */
  monitoringDir?: string | undefined;
}

type Outcome = { ok: true; detail: string } | { ok: false; detail: string } | { skipped: string };

const TIMEOUT_MS = 5000;

/**
 * The checklist's quick check (section 3.2): config, environment, store, Slack, SMTP, rule files
 * and the running receiver, one line each. Returns the exit code: 1 if any check failed.
 */
export async function doctor(opts: DoctorOptions, env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  let settings: EnvSettings | undefined;
  let envError: Error | undefined;
  try {
    settings = readEnv(env);
  } catch (err) {
    envError = err as Error;
  }
  // Checks that read settings wait for a valid environment; the environment check says what is wrong.
  const withEnv = (check: (e: EnvSettings) => Outcome | Promise<Outcome>) => async (): Promise<Outcome> =>
    settings ? check(settings) : { skipped: 'not checked: the environment is invalid (see "environment")' };
  // PostgreSQL gets a second line, its schema version, from what the store check read.
  const postgres = isPostgresUrl(env['DATABASE_URL']);
  let inspection: PostgresInspection | undefined;
  const checks: [string, () => Promise<Outcome>][] = [
    ['config', withEnv(checkConfig)],
    ['environment', async () => (envError ? { ok: false, detail: envError.message } : checkEnv(settings!))],
    ...(postgres
      ? ([
          [
            'store',
            withEnv(async (e) => {
              const r = await checkPostgres(e);
              inspection = r.inspection;
              return r.outcome;
            }),
          ],
          ['schema', withEnv(() => checkSchema(inspection))],
        ] as [string, () => Promise<Outcome>][])
      : ([['store', withEnv(checkStore)]] as [string, () => Promise<Outcome>][])),
    ['slack', withEnv((e) => unconfiguredButRouted(e, 'slack', 'SLACK_BOT_TOKEN') ?? checkSlack(e))],
    ['slack user groups', withEnv(checkUsergroups)],
    ['smtp', withEnv((e) => unconfiguredButRouted(e, 'email', 'SMTP_URL') ?? checkSmtp(e))],
    // Teams, Mattermost, ntfy and webhooks: a line each when configured or routed to.
    ...(settings ? channelChecks(settings) : []),
    ['twilio', withEnv(checkTwilio)],
    ['rules', async () => checkRules(opts.monitoringDir ?? 'monitoring')],
    ['receiver', () => checkReceiver(receiverUrl(opts.url, env))],
  ];
  let failed = 0;
  for (const [name, check] of checks) {
    let outcome: Outcome;
    try {
      outcome = await check();
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    if ('skipped' in outcome) {
      io.out(`- ${name}: ${outcome.skipped}`);
    } else {
      io.out(`${outcome.ok ? '✓' : '✗'} ${name}: ${outcome.detail}`);
      if (!outcome.ok) failed++;
    }
  }
  io.out(failed ? `${failed} check${failed === 1 ? '' : 's'} failed` : 'all checks passed');
  return failed ? 1 : 0;
}

function checkConfig(env: EnvSettings): Outcome {
  const file = env.configPath;
  const c = loadConfigFile(file);
  const sla = SEVERITIES.map((s) => `${s} ${formatDuration(c.sla[s])}`).join(', ');
  return { ok: true, detail: `${file}: ${c.classification.rules.length} classification rules; SLA ${sla}` };
}

function checkEnv(e: EnvSettings): Outcome {
  const missing = [
    ['WEBHOOK_TOKEN', e.webhookToken],
    ['API_TOKEN', e.apiToken],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  return { ok: true, detail: missing.length ? `${missing.join(' and ')} not set: fine for a trial, not for production` : 'tokens set' };
}

async function checkStore({ databaseUrl, database }: EnvSettings): Promise<Outcome> {
  const store = await openStore(databaseUrl, database);
  try {
    await store.ping();
    const counts = await store.counts(Date.now());
    const open = SEVERITIES.reduce((n, s) => n + counts.open[s], 0);
    return { ok: true, detail: `${describeDatabaseUrl(databaseUrl)} answers; ${open} open incidents` };
  } finally {
    await store.close();
  }
}

/**
 * PostgreSQL is read, never migrated: one connection within DATABASE_CONNECT_TIMEOUT, then the
 * schema version. A failure names the masked URL and the driver's code (a Node code such as
 * ECONNREFUSED, or the SQLSTATE), never the password.
 */
async function checkPostgres({ databaseUrl, database }: EnvSettings): Promise<{ outcome: Outcome; inspection?: PostgresInspection }> {
  const url = databaseUrl!;
  const where = describeDatabaseUrl(url);
  try {
    const inspection = await inspectPostgres(url, database);
    const open = inspection.openIncidents === undefined ? 'no incidents table yet' : `${inspection.openIncidents} open incidents`;
    return { outcome: { ok: true, detail: `${where} answers; ${open}` }, inspection };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    let reason = (err as Error).message ?? String(err);
    if (!code && /timeout/i.test(reason))
      reason = `${reason} (DATABASE_CONNECT_TIMEOUT ${formatDuration(database.connectTimeoutMs ?? PG_DEFAULTS.connectTimeoutMs)})`;
    const password = passwordOf(url);
    if (password) reason = reason.split(password).join('***');
    return {
      outcome: {
        ok: false,
        detail: `DATABASE_URL: cannot open the PostgreSQL database ${where} (${typeof code === 'string' ? code : 'no code'}: ${reason})`,
      },
    };
  }
}

/** The migrated version against the one this release knows: the service migrates forward at start-up and refuses a newer schema. */
function checkSchema(inspection: PostgresInspection | undefined): Outcome {
  if (!inspection) return { skipped: 'not checked: the database cannot be reached (see "store")' };
  const { version, known } = inspection;
  if (version === known) return { ok: true, detail: `version ${version}, the one this release knows` };
  if (version < known) {
    return { ok: true, detail: `not migrated yet (version ${version}, this release knows ${known}): the service migrates at start-up` };
  }
  return {
    ok: false,
    detail: `version ${version} is newer than this release (which knows up to ${known}): the service refuses to start on it; run that release or a newer one`,
  };
}

/**
 * A channel that is not configured is a failure when the routing sends to it: those pages would be
 * recorded as not sent. The line names the routes (config keys) that will not be delivered.
 */
function unconfiguredButRouted(e: EnvSettings, channel: string, variable: 'SLACK_BOT_TOKEN' | 'SMTP_URL'): Outcome | undefined {
  if (variable === 'SLACK_BOT_TOKEN' ? e.slackBotToken : e.smtpUrl) return undefined;
  let routes: string[];
  try {
    routes = routesUsing(loadConfigFile(e.configPath).paging, channel);
  } catch {
    return undefined; // The config check says what is wrong with the file.
  }
  if (!routes.length) return undefined;
  const list = routes.length > 1 ? `${routes.slice(0, -1).join(', ')} and ${routes.at(-1)}` : routes[0];
  return {
    ok: false,
    detail: `not configured (${variable} unset), but ${list} ${routes.length > 1 ? 'send' : 'sends'} to it: those pages will not be delivered`,
  };
}

async function checkSlack({ slackBotToken: token, slackApiUrl }: EnvSettings): Promise<Outcome> {
  if (!token) return { skipped: 'not configured (SLACK_BOT_TOKEN unset)' };
  const client = new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: TIMEOUT_MS,
    rejectRateLimitedCalls: true,
  });
  try {
    const r = await client.auth.test();
    return { ok: true, detail: `auth.test ok: ${r.user ?? 'bot'} in ${r.team ?? 'workspace'}` };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    return { ok: false, detail: `auth.test failed: ${code ?? (err as Error).message}` };
  }
}

/**
 * The rotations' Slack user groups (slackUsergroup): the bot's scopes (usergroups:write, and
 * usergroups:read for a handle) and that each group exists. Read-only: nothing is updated.
 */
async function checkUsergroups(e: EnvSettings): Promise<Outcome> {
  let groups: string[];
  try {
    const paging = loadConfigFile(e.configPath).paging;
    groups = [paging.rotation, ...paging.teams.map((t) => t.rotation)].flatMap((r) => (r?.slackUsergroup ? [r.slackUsergroup] : []));
  } catch {
    return { skipped: 'not checked: the config is invalid (see "config")' };
  }
  groups = [...new Set(groups)];
  if (!groups.length) return { skipped: 'no rotation names a slackUsergroup' };
  if (!e.slackBotToken) return { ok: false, detail: `${groups.map((g) => `@${g}`).join(', ')} named, but SLACK_BOT_TOKEN is unset` };
  try {
    const problems = await new SlackUsergroups({ token: e.slackBotToken, apiUrl: e.slackApiUrl, timeoutMs: TIMEOUT_MS }).check(groups);
    return problems.length
      ? { ok: false, detail: problems.join('; ') }
      : { ok: true, detail: `${groups.map((g) => `@${g}`).join(', ')} found; the bot may update them` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

/** One read-only call, GET Accounts/{sid}.json: the credentials work and the account is active. Never prints a secret. */
async function checkTwilio({ twilio, publicUrl }: EnvSettings): Promise<Outcome> {
  if (!twilio.accountSid) return { skipped: 'not configured (TWILIO_ACCOUNT_SID unset)' };
  if (!twilio.authToken && !(twilio.apiKey && twilio.apiSecret))
    return { ok: false, detail: 'TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) unset' };
  const api = new TwilioApi({ ...twilio, accountSid: twilio.accountSid, timeoutMs: TIMEOUT_MS });
  try {
    const a = await api.account();
    if (a.status !== 'active') return { ok: false, detail: `account ${a.sid} is ${a.status}, not active` };
    const missing = [
      !twilio.from ? 'TWILIO_FROM unset: no texts or calls' : '',
      !publicUrl ? 'PUBLIC_URL unset: no calls' : '',
      !twilio.authToken ? 'TWILIO_AUTH_TOKEN unset: replies and keys refused' : '',
    ]
      .filter(Boolean)
      .join('; ');
    return missing
      ? { ok: false, detail: `account ${a.sid} active, but ${missing}` }
      : { ok: true, detail: `account ${a.sid} active; texts and calls from ${twilio.from}` };
  } catch (err) {
    return { ok: false, detail: `GET Accounts/{sid}.json failed: ${(err as Error).message}` };
  }
}

async function checkSmtp({ smtpUrl: url }: EnvSettings): Promise<Outcome> {
  if (!url) return { skipped: 'not configured (SMTP_URL unset)' };
  let where: string;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
  } catch {
    return { ok: false, detail: 'SMTP_URL is not a URL such as smtp://user:pass@host:587' };
  }
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  try {
    await transport.verify();
    return { ok: true, detail: `${where} accepts connections` };
  } catch (err) {
    // Never the URL itself: it may hold the password.
    return { ok: false, detail: `${where}: ${(err as Error).message.replace(url, where)}` };
  } finally {
    transport.close();
  }
}

function checkRules(dir: string): Outcome {
  const files = [join(dir, 'prometheus_rules.yml')];
  const detections = join(dir, 'detection_rules');
  if (existsSync(detections))
    files.push(
      ...readdirSync(detections)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(detections, f)),
    );
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) return { ok: false, detail: `missing ${missing.join(', ')}` };
  const promtool = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8', timeout: 30_000 });
  if (!promtool.error) {
    if (promtool.status !== 0)
      return { ok: false, detail: `promtool check rules: ${(promtool.stdout + promtool.stderr).trim().split('\n').slice(-3).join(' ')}` };
    const count = [...promtool.stdout.matchAll(/SUCCESS: (\d+) rules found/g)].reduce((n, m) => n + Number(m[1]), 0);
    return { ok: true, detail: `promtool: ${count} rules load from ${files.length} files` };
  }
  // No promtool here: at least the files must parse and have the shape Prometheus expects.
  let count = 0;
  for (const f of files) {
    const doc = parse(readFileSync(f, 'utf8')) as {
      groups?: { name?: string; rules?: { alert?: string; record?: string; expr?: unknown }[] }[];
    };
    if (!Array.isArray(doc?.groups)) return { ok: false, detail: `${f}: no groups` };
    for (const g of doc.groups) {
      for (const r of g.rules ?? []) {
        if (!(r.alert || r.record) || typeof r.expr !== 'string')
          return { ok: false, detail: `${f}: group ${g.name}: a rule without alert/record and expr` };
        count++;
      }
    }
  }
  return { ok: true, detail: `${count} rules parse from ${files.length} files (install promtool for a full check)` };
}

async function checkReceiver(url: string): Promise<Outcome> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return res.ok ? { ok: true, detail: `${url} is ready` } : { ok: false, detail: `${url}/readyz answered ${res.status}` };
  } catch (err) {
    return { ok: false, detail: describeFetchError(err, url) };
  }
}
