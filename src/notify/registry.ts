import { EmailNotifier } from './email-notifier.js';
import type { Notifier } from './notifier.js';
import type { ChannelName } from '../incidents/timeline.js';
import { SlackNotifier, type SlackThreads } from './slack-notifier.js';

/** The channel settings the registry reads, all from the environment. */
export interface ChannelSettings {
  slackBotToken?: string | undefined;
  slackApiUrl?: string | undefined;
  smtpUrl?: string | undefined;
  emailFrom?: string | undefined;
  publicUrl?: string | undefined;
}

/** The only place that knows every channel: a third channel is one file and one line here. */
export function createNotifiers(s: ChannelSettings, threads: SlackThreads): Map<ChannelName, Notifier> {
  return new Map<ChannelName, Notifier>([
    ['slack', new SlackNotifier({ token: s.slackBotToken, apiUrl: s.slackApiUrl, publicUrl: s.publicUrl }, threads)],
    ['email', new EmailNotifier({ url: s.smtpUrl, from: s.emailFrom, publicUrl: s.publicUrl })],
  ]);
}
