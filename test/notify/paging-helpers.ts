import type { Test } from 'tap';
import type { AppConfig } from '../../src/app.js';
import type { ChannelSettings } from '../../src/notify/registry.js';
import { makeApp, type TestApp } from '../helpers.js';
import { MailServer, type ReceivedMail } from '../fakes/mail-server.js';
import { SlackApiServer, type SlackMessage } from '../fakes/slack-api-server.js';

export const SLACK_TOKEN = 'xoxb-test-token';
export const SIGNING_SECRET = 'slack-signing-secret';

export interface PagingApp extends TestApp {
  slack: SlackApiServer;
  mail: MailServer;
  /** Runs the outbox until nothing is due at the current (manual) time. */
  drain(): Promise<void>;
  /** Runs the outbox, moving the clock on by Slack's pacing interval, until it is empty (10s at most). */
  settle(): Promise<void>;
  /**
   * Moves the manual clock on by `ms`, in steps of `stepMs` (all at once unless told), and after
   * each step lets the timed work run as its loops would: the SLA sweep, then the outbox until
   * nothing is due. Time passes in one call, without sleeping.
   */
  fastForward(ms: number, stepMs?: number): Promise<void>;
  /**
   * Declares the messages a test expects, as GoAlert's smoke harness does: each call takes the
   * first message not yet taken that matches, and fails the test when there is none; at its end,
   * `nothingElse()` fails it on any Slack message or e-mail that no expectation took.
   */
  expect: Expectations;
}

/** See PagingApp.expect. */
export interface Expectations {
  /** A Slack message posted to `channel` (a #name) whose text matches; thread replies included. */
  slack(channel: string, text: RegExp): SlackMessage;
  /** An e-mail to exactly these recipients (in any order) whose subject matches. */
  email(to: string[], subject: RegExp): ReceivedMail;
  /** Asserts that every message sent so far was expected; a test that declares expectations ends with it. */
  nothingElse(): void;
}

/** Expectations over the fakes' recordings, checked at `t`'s teardown. */
function expectations(t: Test, slack: SlackApiServer, mail: MailServer): Expectations {
  const taken = new Set<object>();
  let strict = false;
  const describe = () => [
    ...slack.messages.filter((m) => !taken.has(m)).map((m) => `Slack ${m.channel}: ${m.text.slice(0, 80)}`),
    ...mail.received.filter((m) => !taken.has(m)).map((m) => `e-mail to ${m.rcptTo.join(', ')}: ${m.mail.subject ?? ''}`),
  ];
  const take = <T extends object>(kind: string, all: T[], match: (m: T) => boolean, what: string): T => {
    strict = true;
    const found = all.find((m) => !taken.has(m) && match(m));
    if (!found) throw new Error(`expected ${kind} ${what}, but none was sent; not yet expected:\n${describe().join('\n')}`);
    taken.add(found);
    return found;
  };
  let checked = false;
  // A test that declared expectations but never asked whether anything else was sent still fails.
  t.teardown(() => {
    if (strict && !checked) t.fail('expectations were declared but expect.nothingElse() was never called');
  });
  return {
    slack: (channel, text) =>
      take(
        'a Slack message',
        slack.messages,
        (m) => m.channel === SlackApiServer.channelId(channel) && text.test(slackText(m)),
        `in ${channel} matching ${text}`,
      ),
    email: (to, subject) => {
      const want = [...to].sort().join(', ');
      return take(
        'an e-mail',
        mail.received,
        (m) => [...m.rcptTo].sort().join(', ') === want && subject.test(m.mail.subject ?? ''),
        `to ${want} matching ${subject}`,
      );
    },
    nothingElse: () => {
      checked = true;
      t.same(describe(), [], 'no message was sent that the test did not expect');
    },
  };
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
      channels: {
        slackBotToken: SLACK_TOKEN,
        slackApiUrl: slack.url,
        smtpUrl: mail.url,
        emailFrom: 'alert-triage@example.com',
        publicUrl: 'https://triage.example.com',
        ...channels,
      },
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
  const fastForward = async (ms: number, stepMs = ms) => {
    let left = ms;
    do {
      const step = Math.min(stepMs, left);
      ctx.clock.advance(step);
      left -= step;
      await ctx.app.triage.scheduler.tick();
      await drain();
    } while (left > 0);
  };
  return { ...ctx, slack, mail, drain, settle, fastForward, expect: expectations(t, slack, mail) };
}

/** The text a Slack message shows, attachments and blocks included. */
export function slackText(m: { text: string; attachments?: unknown }): string {
  return `${m.text}\n${JSON.stringify(m.attachments ?? [])}`;
}
