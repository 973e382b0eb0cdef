import type { ChecklistConfig } from '../incidents/checklist.js';
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
  /** How long one Slack call may take before its outcome is unknown (default 10 s). */
  slackTimeoutMs?: number | undefined;
  /** nodemailer's connection, greeting and socket timeouts (default 10 s). */
  smtpTimeoutMs?: number | undefined;
  /** The checklists in force (read at each send, so a reload applies), for the pages' first response. */
  checklists?: (() => ChecklistConfig) | undefined;
}

/** The only place that knows every channel: a third channel is one file and one line here. */
export function createNotifiers(s: ChannelSettings, threads: SlackThreads): Map<ChannelName, Notifier> {
  return new Map<ChannelName, Notifier>([
    ['slack', new SlackNotifier({ token: s.slackBotToken, apiUrl: s.slackApiUrl, publicUrl: s.publicUrl, timeoutMs: s.slackTimeoutMs, checklists: s.checklists }, threads)],
    ['email', new EmailNotifier({ url: s.smtpUrl, from: s.emailFrom, publicUrl: s.publicUrl, timeoutMs: s.smtpTimeoutMs, checklists: s.checklists })],
  ]);
}
