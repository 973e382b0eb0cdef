import { DEFAULT_STATUS_PAGE, STATUS_EMAIL_CHANNEL } from '../../incidents/status-page.js';
import type { ChannelDefinition } from '../channel-definition.js';
import { StatusEmailNotifier } from './status-email.js';

/** The status page's subscribers: each public update e-mailed to each, paced as one list (docs/status-page.md). */
export const statusEmailChannel: ChannelDefinition = {
  name: STATUS_EMAIL_CHANNEL,
  create: (s, state) =>
    new StatusEmailNotifier(
      {
        url: s.smtpUrl,
        from: s.statusEmailFrom ?? s.emailFrom,
        publicUrl: s.statusPublicUrl ?? s.publicUrl,
        timeoutMs: s.smtpTimeoutMs,
        intervalMs: s.statusEmailIntervalMs,
        statusPage: s.statusPage ?? (() => DEFAULT_STATUS_PAGE),
        now: s.now,
      },
      state,
    ),
};
