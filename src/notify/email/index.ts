import type { ChannelDefinition } from '../channel-definition.js';
import { EmailNotifier } from './email-notifier.js';

/** E-mail: each page to the paged people's addresses, over SMTP. */
export const emailChannel: ChannelDefinition = {
  name: 'email',
  create: (s) =>
    new EmailNotifier({
      url: s.smtpUrl,
      from: s.emailFrom,
      publicUrl: s.publicUrl,
      timeoutMs: s.smtpTimeoutMs,
      checklists: s.checklists,
      timeZoneOf: s.timeZoneOf,
    }),
};
