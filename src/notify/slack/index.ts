import type { ChannelDefinition } from '../channel-definition.js';
import { SlackNotifier } from './slack-notifier.js';

/** Slack: rooms (channels by #name or ID), people mentioned by member ID; paced, with digests. */
export const slackChannel: ChannelDefinition = {
  name: 'slack',
  create: (s, state) =>
    new SlackNotifier(
      {
        token: s.slackBotToken,
        apiUrl: s.slackApiUrl,
        publicUrl: s.publicUrl,
        timeoutMs: s.slackTimeoutMs,
        checklists: s.checklists,
        ...(s.slackIntervalMs !== undefined ? { pace: { intervalMs: s.slackIntervalMs } } : {}),
      },
      {
        get: (incidentId, target) => state.slackMessage(incidentId, target),
        save: (incidentId, target, channelId, ts) => state.saveSlackMessage(incidentId, target, channelId, ts),
      },
    ),
};
