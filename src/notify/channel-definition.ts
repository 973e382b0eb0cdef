import type { ChecklistConfig } from '../incidents/checklist.js';
import type { ChannelName } from '../incidents/timeline.js';
import type { Notifier, Pace } from '../outbox/channel.js';

/** The channel settings, all from the environment (config/env.ts); each channel reads its own. */
export interface ChannelSettings {
  slackBotToken?: string | undefined;
  slackApiUrl?: string | undefined;
  smtpUrl?: string | undefined;
  emailFrom?: string | undefined;
  publicUrl?: string | undefined;
  /** How long one Slack call may take before its outcome is unknown (default 10 s). */
  slackTimeoutMs?: number | undefined;
  /** Another pace for Slack than one message per 1.1 s a channel (tests). */
  slackIntervalMs?: number | undefined;
  /** nodemailer's connection, greeting and socket timeouts (default 10 s). */
  smtpTimeoutMs?: number | undefined;
  /** The checklists in force (read at each send, so a reload applies), for the pages' first response. */
  checklists?: (() => ChecklistConfig) | undefined;
  /** The IANA time zone of a team (its rotation's), for times in words; UTC when undefined. */
  timeZoneOf?: ((team: string | null) => string | undefined) | undefined;
  /** TEAMS_WEBHOOK_URL_<ROOM>: each Teams room's Workflows URL (a secret), by the room's variable suffix. */
  teamsWebhookUrls?: Readonly<Record<string, string>> | undefined;
  /** MATTERMOST_WEBHOOK_URL: an incoming webhook (a secret). */
  mattermostWebhookUrl?: string | undefined;
  /** MATTERMOST_URL and MATTERMOST_BOT_TOKEN: the REST API as a bot, for threads, edits and lookups. */
  mattermostUrl?: string | undefined;
  mattermostBotToken?: string | undefined;
  /** NTFY_URL and NTFY_TOKEN. */
  ntfyUrl?: string | undefined;
  ntfyToken?: string | undefined;
  /** OUTGOING_WEBHOOK_URL_<NAME> and OUTGOING_WEBHOOK_SECRET_<NAME>, by the name's variable suffix. */
  outgoingWebhooks?: Readonly<Record<string, { url: string; secret: string }>> | undefined;
  /** How long one HTTP call of those channels may take before its outcome is unknown (default 10 s). */
  httpTimeoutMs?: number | undefined;
  /** The service's clock (signatures' timestamps). */
  now?: (() => number) | undefined;
  /** Other paces for those channels (tests), by channel name. */
  paces?: Readonly<Record<string, Partial<Pace>>> | undefined;
}

/**
 * What a channel may keep in the store between sends: the message that announced an incident in a
 * room (Slack's thread root), found again by incident and target. A store meets it as it is.
 */
export interface ChannelState {
  slackMessage(incidentId: number, target: string): Promise<{ channelId: string; ts: string } | undefined>;
  saveSlackMessage(incidentId: number, target: string, channelId: string, ts: string): Promise<void>;
}

/** One channel: its name in the routing, the outbox and the metrics, and how to make its notifier. */
export interface ChannelDefinition {
  name: ChannelName;
  /** Told of a saved post-incident review as well as of the paging events (outgoing webhooks). */
  takesReviews?: boolean;
  create(settings: ChannelSettings, state: ChannelState): Notifier;
}
