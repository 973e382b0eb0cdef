import type { ChannelDefinition } from '../channel-definition.js';
import { NtfyNotifier } from './ntfy-notifier.js';

/** ntfy: push to a topic (a team's, from `to:`, or each person's own, from their contact addresses); paced per topic. */
export const ntfyChannel: ChannelDefinition = {
  name: 'ntfy',
  create: (s) =>
    new NtfyNotifier({
      url: s.ntfyUrl,
      token: s.ntfyToken,
      publicUrl: s.publicUrl,
      timeoutMs: s.httpTimeoutMs,
      checklists: s.checklists,
      timeZoneOf: s.timeZoneOf,
      pace: s.paces?.['ntfy'],
    }),
};
