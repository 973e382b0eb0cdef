import type { ChecklistConfig } from '../incidents/checklist.js';
import type { StatusPageConfig } from '../incidents/status-page.js';
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
  /** Twilio (the sms and voice channels): TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or TWILIO_API_KEY/SECRET, TWILIO_FROM, TWILIO_API_URL. */
  twilioAccountSid?: string | undefined;
  twilioAuthToken?: string | undefined;
  twilioApiKey?: string | undefined;
  twilioApiSecret?: string | undefined;
  twilioApiUrl?: string | undefined;
  twilioFrom?: string | undefined;
  twilioVoiceFrom?: string | undefined;
  twilioTimeoutMs?: number | undefined;
  /** Another pace per from-number than one request a second (tests: 0). */
  twilioFromIntervalMs?: number | undefined;
  /**
   * How long a lookup after a lost answer keeps looking for the call or text before it concludes
   * that Twilio never took it (its lists lag behind; default 10 s).
   */
  twilioListWaitMs?: number | undefined;
  /** Another pace per person than a text every 30 s and a call a minute (tests). */
  phoneIntervalMs?: number | undefined;
  /** Marks a person's number failed for good (a STOP, an invalid number): wired by app.ts to the store. */
  markMethodFailed?: ((contact: string, method: string, address: string, reason: string, at: number) => Promise<void>) | undefined;
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
  /** The service's clock (signatures' timestamps, when a text went). */
  now?: (() => number) | undefined;
  /** STATUS_EMAIL_FROM: the sender of the status page's e-mails (EMAIL_FROM when unset). */
  statusEmailFrom?: string | undefined;
  /** STATUS_PUBLIC_URL: the status page's own address, for the links in its e-mails. */
  statusPublicUrl?: string | undefined;
  /** STATUS_EMAIL_INTERVAL: one subscriber e-mail per interval, across replicas (default 200 ms). */
  statusEmailIntervalMs?: number | undefined;
  /** The status page's config in force (its title, components and "Users notified" step). */
  statusPage?: (() => StatusPageConfig) | undefined;
  /** Other paces for those channels (tests), by channel name. */
  paces?: Readonly<Record<string, Partial<Pace>>> | undefined;
}

/**
 * What a channel may keep in the store between sends: the message that announced an incident in a
 * room (Slack's thread root), found again by incident and target. A store meets it as it is.
 */
export interface ChannelState extends PhoneRecords {
  /** A status page subscriber, read when an update is e-mailed to them. */
  subscriber?(
    id: number,
  ): Promise<
    | { email: string; unsubscribeToken: string; confirmedAt: number | null; confirmToken: string | null; components: string[] | null }
    | undefined
  >;
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

/**
 * A call or text as a phone channel placed it, by the provider's id (Twilio's CallSid or
 * MessageSid): whom it reached, for which page and incidents (a digest text covers several), and
 * its latest status (queued, ringing, answered, key 4, no-answer, delivered, STOP, ...).
 */
export interface PhoneMessage {
  sid: string;
  channel: ChannelName;
  to: string;
  contact: string;
  pageId: number | null;
  incidentIds: number[];
  at: number;
  status: string;
  updatedAt: number;
}

/** What the phone channels and their inbound routes keep in the store (store/store.ts's ContactStore meets it). */
export interface PhoneRecords {
  /** Records a call or text placed; saving a sid again changes nothing. */
  savePhoneMessage(m: PhoneMessage): Promise<void>;
  phoneMessage(sid: string): Promise<PhoneMessage | undefined>;
  /** The latest status of a call or text (a status callback, a key pressed). */
  setPhoneStatus(sid: string, status: string, at: number): Promise<void>;
  /** Calls or texts to `to` on `channel` placed at or after `since`, newest first. */
  phoneMessagesTo(channel: ChannelName, to: string, since: number): Promise<PhoneMessage[]>;
  /** The pace of a from-number, shared by every replica (see OutboxStore.paceChannel). */
  paceChannel<T>(target: string, decide: (nextFree: number) => { nextFree: number; result: T }): Promise<T>;
}
