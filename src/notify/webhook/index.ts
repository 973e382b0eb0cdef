import type { ChannelDefinition } from '../channel-definition.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** Outgoing webhooks: signed JSON events to the URLs a route names (webhook:status-page), a saved review included. */
export const webhookChannel: ChannelDefinition = {
  name: 'webhook',
  takesReviews: true,
  create: (s) =>
    new WebhookNotifier({ endpoints: s.outgoingWebhooks ?? {}, publicUrl: s.publicUrl, timeoutMs: s.httpTimeoutMs, now: s.now }),
};
