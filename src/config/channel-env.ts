import { SEVERITIES } from '../classify/severity.js';
import type { PagingConfig, Route } from '../paging/paging-config.js';
import { envSuffix, TEAMS_URL_PREFIX, WEBHOOK_SECRET_PREFIX, WEBHOOK_URL_PREFIX } from '../notify/secret-names.js';
import { ConfigError } from './load-config.js';

/** The environment of the Teams, Mattermost, ntfy and outgoing webhook channels: URLs that are secrets, and tokens. */
export interface ChannelEnv {
  /** TEAMS_WEBHOOK_URL_<ROOM>: each Teams room's Workflows webhook URL, by the room's variable suffix. */
  teamsWebhookUrls: Record<string, string>;
  /** MATTERMOST_WEBHOOK_URL: an incoming webhook (no threads, no lookups). */
  mattermostWebhookUrl: string | undefined;
  /** MATTERMOST_URL and MATTERMOST_BOT_TOKEN: the REST API as a bot (threads, edits, lookups before a resend). */
  mattermostUrl: string | undefined;
  mattermostBotToken: string | undefined;
  /** NTFY_URL (https://ntfy.sh or a server of one's own) and NTFY_TOKEN (an access token, optional). */
  ntfyUrl: string | undefined;
  ntfyToken: string | undefined;
  /** OUTGOING_WEBHOOK_URL_<NAME> and OUTGOING_WEBHOOK_SECRET_<NAME>, by the name's variable suffix. */
  outgoingWebhooks: Record<string, { url: string; secret: string }>;
}

/** Reads the channels' variables; throws ConfigError naming a variable (never its value) when one cannot work. */
export function readChannelEnv(env: NodeJS.ProcessEnv): ChannelEnv {
  const teamsWebhookUrls: Record<string, string> = {};
  const outgoingWebhooks: Record<string, { url: string; secret: string }> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (name.startsWith(TEAMS_URL_PREFIX)) teamsWebhookUrls[name.slice(TEAMS_URL_PREFIX.length)] = httpUrl(name, value);
    if (name.startsWith(WEBHOOK_URL_PREFIX)) {
      const key = name.slice(WEBHOOK_URL_PREFIX.length);
      const secret = env[`${WEBHOOK_SECRET_PREFIX}${key}`];
      if (!secret) throw new ConfigError(`${WEBHOOK_SECRET_PREFIX}${key}: required with ${name}: outgoing webhooks are always signed`);
      if (secret.length < 16) throw new ConfigError(`${WEBHOOK_SECRET_PREFIX}${key}: must be at least 16 characters`);
      outgoingWebhooks[key] = { url: httpUrl(name, value), secret };
    }
  }
  const mattermostUrl = env['MATTERMOST_URL'] || undefined;
  const mattermostBotToken = env['MATTERMOST_BOT_TOKEN'] || undefined;
  if (mattermostUrl && !mattermostBotToken) throw new ConfigError('MATTERMOST_BOT_TOKEN: required with MATTERMOST_URL');
  const ntfyUrl = env['NTFY_URL'] || undefined;
  return {
    teamsWebhookUrls,
    mattermostWebhookUrl: env['MATTERMOST_WEBHOOK_URL'] ? httpUrl('MATTERMOST_WEBHOOK_URL', env['MATTERMOST_WEBHOOK_URL']) : undefined,
    mattermostUrl: mattermostUrl && httpUrl('MATTERMOST_URL', mattermostUrl),
    mattermostBotToken,
    ntfyUrl: ntfyUrl && httpUrl('NTFY_URL', ntfyUrl),
    ntfyToken: env['NTFY_TOKEN'] || undefined,
    outgoingWebhooks,
  };
}

function httpUrl(name: string, value: string): string {
  let ok = false;
  try {
    const u = new URL(value);
    ok = u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    ok = false;
  }
  // The value may be the secret itself (a Teams URL): never part of the message.
  if (!ok) throw new ConfigError(`${name}: not an http(s) URL`);
  return value;
}

/** Rooms the config routes to on these channels whose settings are missing, each naming the variable. */
export function channelProblems(env: ChannelEnv, paging: PagingConfig): string[] {
  const routes: Route[] = [paging.drill, ...[paging, ...paging.teams].flatMap((p) => SEVERITIES.map((s) => p.routing[s]))];
  const rooms = new Map(routes.flatMap((r) => r.to).map((room) => [`${room.channel}:${room.target}`, room]));
  const problems: string[] = [];
  for (const { channel, target } of rooms.values()) {
    const key = envSuffix(target);
    if (channel === 'teams' && !env.teamsWebhookUrls[key])
      problems.push(`${TEAMS_URL_PREFIX}${key}: not set, but the config routes pages to Teams room "${target}": they would not be sent`);
    if (channel === 'webhook' && !env.outgoingWebhooks[key])
      problems.push(`${WEBHOOK_URL_PREFIX}${key}: not set, but the config routes events to webhook "${target}": they would not be sent`);
    if (channel === 'mattermost' && !env.mattermostWebhookUrl && !env.mattermostUrl)
      problems.push(`MATTERMOST_URL (or MATTERMOST_WEBHOOK_URL): not set, but the config routes pages to Mattermost "${target}"`);
  }
  const pushes = routes.some((r) => r.ntfy) || [...rooms.values()].some((r) => r.channel === 'ntfy');
  if (pushes && !env.ntfyUrl) problems.push('NTFY_URL: not set, but the config routes pages to ntfy: they would not be sent');
  return [...new Set(problems)];
}
