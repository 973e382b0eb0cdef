import type { ChannelDefinition } from '../channel-definition.js';
import { TeamsNotifier } from './teams-notifier.js';

/** Microsoft Teams: rooms named in `to:` (teams:ops), each posted to through its Workflows webhook; paced, with digests. */
export const teamsChannel: ChannelDefinition = {
  name: 'teams',
  create: (s) =>
    new TeamsNotifier({
      webhookUrls: s.teamsWebhookUrls ?? {},
      publicUrl: s.publicUrl,
      timeoutMs: s.httpTimeoutMs,
      checklists: s.checklists,
      timeZoneOf: s.timeZoneOf,
      pace: s.paces?.['teams'],
    }),
};
