import type { Test } from 'tap';
import type { AppConfig } from '../../src/app.js';
import type { ChannelSettings } from '../../src/notify/registry.js';
import { makeApp, type TestApp } from '../helpers.js';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';

export const SLACK_TOKEN = 'xoxb-test-token';
export const SIGNING_SECRET = 'slack-signing-secret';

export interface PagingApp extends TestApp {
  slack: SlackApiServer;
  mail: MailServer;
  /** Runs the outbox until nothing is due at the current (manual) time. */
  drain(): Promise<void>;
  /** Runs the outbox, moving the clock on by Slack's pacing interval, until it is empty (10s at most). */
  settle(): Promise<void>;
}

/**
 * The app with real Slack (a compatible server on loopback) and real SMTP, under a manual clock.
 * `channels` adds to the channel settings (e.g. a short slackTimeoutMs); `config.channels` replaces them.
 */
export async function pagingApp(
  t: Test,
  config: Partial<AppConfig> = {},
  opts: Parameters<typeof makeApp>[1] = {},
  channels: Partial<ChannelSettings> = {},
): Promise<PagingApp> {
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  t.teardown(() => slack.stop());
  const mail = await new MailServer().start();
  t.teardown(() => mail.stop());
  const ctx = await makeApp(t, {
    ...opts,
    config: {
      channels: { slackBotToken: SLACK_TOKEN, slackApiUrl: slack.url, smtpUrl: mail.url, emailFrom: 'alert-triage@example.com', publicUrl: 'https://triage.example.com', ...channels },
      slackSigningSecret: SIGNING_SECRET,
      dispatch: { autoStart: false, random: () => 0.5 },
      ...config,
    },
  });
  const drain = async () => {
    for (let i = 0; i < 50 && (await ctx.app.triage.dispatcher.tick()) > 0; i++);
  };
  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      await drain();
      const depth = await ctx.store.queueDepth();
      if (Object.values(depth).every((n) => n === 0)) return;
      ctx.clock.advance(1100);
    }
  };
  return { ...ctx, slack, mail, drain, settle };
}

/** The text a Slack message shows, attachments and blocks included. */
export function slackText(m: { text: string; attachments?: unknown }): string {
  return `${m.text}\n${JSON.stringify(m.attachments ?? [])}`;
}
