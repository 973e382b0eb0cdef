import type { ChannelDefinition } from '../channel-definition.js';
import { MattermostNotifier } from './mattermost-notifier.js';

// The root posts are kept beside Slack's thread roots, under a key no Slack target can take.
const key = (target: string) => `mattermost:${target}`;

/** Mattermost: channels as team/channel or an ID, people mentioned by @username; threads and lookups with a bot token. */
export const mattermostChannel: ChannelDefinition = {
  name: 'mattermost',
  create: (s, state) =>
    new MattermostNotifier(
      {
        url: s.mattermostUrl,
        botToken: s.mattermostBotToken,
        webhookUrl: s.mattermostWebhookUrl,
        publicUrl: s.publicUrl,
        timeoutMs: s.httpTimeoutMs,
        checklists: s.checklists,
        timeZoneOf: s.timeZoneOf,
        pace: s.paces?.['mattermost'],
      },
      {
        get: async (incidentId, target) => {
          const m = await state.slackMessage(incidentId, key(target));
          return m && { channelId: m.channelId, postId: m.ts };
        },
        save: (incidentId, target, channelId, postId) => state.saveSlackMessage(incidentId, key(target), channelId, postId),
      },
    ),
};
