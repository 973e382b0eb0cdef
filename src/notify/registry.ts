import type { ChannelName } from '../incidents/timeline.js';
import type { Notifier } from '../outbox/channel.js';
import type { ChannelDefinition, ChannelSettings, ChannelState } from './channel-definition.js';
import { emailChannel } from './email/index.js';
import { mattermostChannel } from './mattermost/index.js';
import { ntfyChannel } from './ntfy/index.js';
import { slackChannel } from './slack/index.js';
import { teamsChannel } from './teams/index.js';
import { webhookChannel } from './webhook/index.js';
import { smsChannel, voiceChannel } from './twilio/index.js';
import { statusEmailChannel } from './status-email/index.js';

export type { ChannelDefinition, ChannelSettings, ChannelState } from './channel-definition.js';

/**
 * The only place that knows every channel. A new channel is a folder under notify/ (its notifier
 * and its definition) and one line here; the outbox, the store, the metrics and the pages take the
 * list from here.
 */
export const CHANNELS: readonly ChannelDefinition[] = [
  slackChannel,
  emailChannel,
  teamsChannel,
  mattermostChannel,
  ntfyChannel,
  webhookChannel,
  smsChannel,
  voiceChannel,
  statusEmailChannel,
];

/** The notifiers of `channels` (the shipped ones unless told), by channel name. */
export function createNotifiers(
  settings: ChannelSettings,
  state: ChannelState,
  channels: readonly ChannelDefinition[] = CHANNELS,
): Map<ChannelName, Notifier> {
  return new Map(channels.map((c) => [c.name, c.create(settings, state)]));
}
