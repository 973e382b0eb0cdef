import t from 'tap';
import type { OutboxEntry } from '../../src/outbox/page.js';
import { describeEntry } from '../../src/incidents/timeline-text.js';
import {
  decideRetry,
  DEFAULT_OUTBOX_POLICY as POLICY,
  failedOutcome,
  foldedOutcome,
  planPacedBatch,
  recordsRetry,
  sentOutcome,
  skippedOutcome,
} from '../../src/outbox/policy.js';
import { SLACK_PACE } from '../../src/notify/slack/slack-notifier.js';

const NOW = Date.parse('2026-11-23T22:08:00Z');

function page(id: number, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id,
    incidentId: id,
    channel: 'slack',
    target: '#incidents',
    event: 'opened',
    severity: 'high',
    mentions: ['U1', 'U2'],
    recipients: [],
    cause: null,
    status: 'sending',
    attempts: 1,
    nextAttemptAt: NOW,
    createdAt: NOW,
    maybeSent: false,
    ...extra,
  };
}
const pages = (n: number) => Array.from({ length: n }, (_, i) => page(i + 1));

t.test("planPacedBatch (Slack's pace): one now, the rest an interval apart, a backlog folded, a paused channel waits", async (t) => {
  // With 1.1 s per message and 3 s before folding, a channel takes 3 pages in turn; a 4th tips it into a digest.
  const cases: { name: string; batch: OutboxEntry[]; nextFree: number; canDigest: boolean; want: object }[] = [
    {
      name: 'a single page goes now',
      batch: pages(1),
      nextFree: 0,
      canDigest: true,
      want: { action: 'send', page: { id: 1 }, later: [], nextFree: NOW + 1100 },
    },
    {
      name: 'three pages: the first now, the others 1.1 s apart',
      batch: pages(3),
      nextFree: 0,
      canDigest: true,
      want: {
        action: 'send',
        page: { id: 1 },
        later: [
          { page: { id: 2 }, at: NOW + 1100 },
          { page: { id: 3 }, at: NOW + 2200 },
        ],
        nextFree: NOW + 1100,
      },
    },
    {
      name: 'four pages would wait over 3 s: one digest',
      batch: pages(4),
      nextFree: 0,
      canDigest: true,
      want: { action: 'digest', pages: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }], nextFree: NOW + 1100 },
    },
    {
      name: 'no digest possible: they trickle',
      batch: pages(4),
      nextFree: 0,
      canDigest: false,
      want: { action: 'send', page: { id: 1 }, later: { length: 3 } },
    },
    {
      name: 'the channel is free at exactly now',
      batch: pages(2),
      nextFree: NOW,
      canDigest: true,
      want: { action: 'send', page: { id: 1 } },
    },
    {
      name: 'paused (a 429, or a message just went out): all come back together',
      batch: pages(5),
      nextFree: NOW + 700,
      canDigest: true,
      want: { action: 'wait', until: NOW + 700 },
    },
  ];
  for (const c of cases) t.match(planPacedBatch(c.batch, c.nextFree, NOW, SLACK_PACE, c.canDigest), c.want, c.name);
});

t.test('decideRetry: exponential backoff with jitter, Retry-After, permanent failures, and the last attempt', async (t) => {
  const cases: {
    name: string;
    attempts: number;
    failure: { message: string; retryable: boolean; retryAfterMs?: number; maybeDelivered?: boolean };
    random: number;
    want: object;
  }[] = [
    {
      name: 'first failure, middle jitter: 1 s',
      attempts: 1,
      failure: { message: 'HTTP 500', retryable: true },
      random: 0.5,
      want: { retry: true, at: NOW + 1000, pauseChannel: false, lookUp: false },
    },
    {
      name: 'third failure: 4 s',
      attempts: 3,
      failure: { message: 'HTTP 500', retryable: true },
      random: 0.5,
      want: { retry: true, at: NOW + 4000, pauseChannel: false, lookUp: false },
    },
    {
      name: 'jitter low end: 0.8 of it',
      attempts: 2,
      failure: { message: 'reset', retryable: true },
      random: 0,
      want: { retry: true, at: NOW + 1600, pauseChannel: false, lookUp: false },
    },
    {
      name: 'capped at five minutes',
      attempts: 14,
      failure: { message: 'HTTP 500', retryable: true },
      random: 0.5,
      want: { retry: true, at: NOW + 300_000, pauseChannel: false, lookUp: false },
    },
    {
      name: "the server's Retry-After wins, and pauses the channel",
      attempts: 1,
      failure: { message: '429', retryable: true, retryAfterMs: 3000 },
      random: 0.5,
      want: { retry: true, at: NOW + 3000, pauseChannel: true, lookUp: false },
    },
    {
      name: 'permanent: not retried',
      attempts: 1,
      failure: { message: 'channel_not_found', retryable: false },
      random: 0.5,
      want: { retry: false, gaveUp: false },
    },
    {
      name: 'a timeout: retried, looking the page up first',
      attempts: 1,
      failure: { message: 'Slack unreachable: timed out', retryable: true, maybeDelivered: true },
      random: 0.5,
      want: { retry: true, at: NOW + 1000, pauseChannel: false, lookUp: true },
    },
    {
      name: 'the 15th attempt failed: give up',
      attempts: 15,
      failure: { message: 'HTTP 500', retryable: true },
      random: 0.5,
      want: { retry: false, gaveUp: true },
    },
  ];
  for (const c of cases) t.same(decideRetry({ attempts: c.attempts }, c.failure, NOW, POLICY, c.random), c.want, c.name);
});

t.test('outcomes: what the outbox row and the timeline record, in words too', async (t) => {
  const slack = page(7);
  const email = page(8, { channel: 'email', target: 'a@x, b@y', mentions: [], recipients: ['a@x', 'b@y'], event: 'escalated' });
  const cases: { name: string; outcome: ReturnType<typeof sentOutcome>; status: string; words: string[] }[] = [
    {
      name: 'sent to Slack',
      outcome: sentOutcome(slack, { externalRef: 'C1:1.0' }, NOW, false),
      status: 'sent',
      words: ['Slack #incidents: opened, mentioning 2'],
    },
    {
      name: 'found after an unknown outcome',
      outcome: sentOutcome(slack, { externalRef: 'C1:1.0' }, NOW, true),
      status: 'sent',
      words: ['Slack #incidents: opened, mentioning 2 (found already delivered, not sent again)'],
    },
    {
      name: 'e-mail with one recipient refused',
      outcome: sentOutcome(email, { externalRef: '<m@x>', rejected: ['b@y'] }, NOW, false),
      status: 'sent',
      words: ['E-mail to a@x, b@y: escalated', 'E-mail to b@y: rejected by the mail server'],
    },
    {
      name: 'folded into a digest',
      outcome: foldedOutcome(slack, 'C1:2.0', 12, NOW),
      status: 'folded',
      words: ['Slack #incidents: in a digest of 12 pages (alert storm)'],
    },
    {
      name: 'a retry shows at once, with the attempt and the next try',
      outcome: failedOutcome(
        slack,
        { message: 'Slack HTTP 500', retryable: true },
        { retry: true, at: NOW + 1000, pauseChannel: false, lookUp: false },
        NOW,
      ),
      status: 'retry',
      words: ['Slack #incidents: attempt 1 failed (Slack HTTP 500); retrying at 2026-11-23 22:08 UTC'],
    },
    {
      name: 'an unknown outcome: retried after a lookup',
      outcome: failedOutcome(
        slack,
        { message: 'Slack unreachable: timed out', retryable: true, maybeDelivered: true },
        { retry: true, at: NOW + 1000, pauseChannel: false, lookUp: true },
        NOW,
      ),
      status: 'retry',
      words: [
        'Slack #incidents: attempt 1 failed (Slack unreachable: timed out); the outcome is unknown, so the channel is checked for the page first; retrying at 2026-11-23 22:08 UTC',
      ],
    },
    {
      name: 'the 4th failure is counted, not written',
      outcome: failedOutcome(
        page(9, { attempts: 4 }),
        { message: 'Slack HTTP 500', retryable: true },
        { retry: true, at: NOW + 8000, pauseChannel: false, lookUp: false },
        NOW,
      ),
      status: 'retry',
      words: [],
    },
    {
      name: 'permanent',
      outcome: failedOutcome(slack, { message: 'Slack: channel_not_found', retryable: false }, { retry: false, gaveUp: false }, NOW),
      status: 'failed',
      words: ['Slack #incidents: Slack: channel_not_found (not retried)'],
    },
    {
      name: 'out of attempts',
      outcome: failedOutcome(
        page(9, { attempts: 15 }),
        { message: 'Slack HTTP 500', retryable: true },
        { retry: false, gaveUp: true },
        NOW,
      ),
      status: 'failed',
      words: ['Slack #incidents: Slack HTTP 500 (gave up after 15 attempts)'],
    },
    {
      name: 'channel not configured',
      outcome: skippedOutcome(email, 'e-mail is not configured (SMTP_URL unset)', NOW),
      status: 'skipped',
      words: ['E-mail to a@x, b@y: skipped (not sent): e-mail is not configured (SMTP_URL unset)'],
    },
  ];
  for (const c of cases) {
    t.equal(c.outcome.status, c.status, `${c.name}: status`);
    t.same(
      (c.outcome.timeline ?? []).map((e) => describeEntry(e)),
      c.words,
      `${c.name}: words`,
    );
    t.ok(
      (c.outcome.timeline ?? []).every((e) => e.actor === 'system' && e.at === NOW),
      `${c.name}: the system acted, now`,
    );
  }
  t.match(
    failedOutcome(
      slack,
      { message: 'reset', retryable: true, maybeDelivered: true },
      { retry: true, at: NOW + 1000, pauseChannel: false, lookUp: true },
      NOW,
    ),
    {
      status: 'retry',
      maybeSent: true,
      timeline: [
        {
          kind: 'page_retrying',
          channel: 'slack',
          target: '#incidents',
          event: 'opened',
          attempt: 1,
          nextAttemptAt: NOW + 1000,
          reason: 'reset',
          unknownOutcome: true,
        },
      ],
    },
    'an unknown outcome marks the page maybeSent for the store',
  );
  t.match(sentOutcome(email, { externalRef: '<m@x>' }, NOW, false).timeline, [
    { kind: 'paged', channel: 'email', target: 'a@x, b@y', recipients: ['a@x', 'b@y'], event: 'escalated', outcome: 'sent' },
  ]);
});

t.test('recordsRetry: the first three failures and every fifth get a timeline entry, so a page writes at most five', async (t) => {
  const recorded = Array.from({ length: 15 }, (_, i) => i + 1).filter(recordsRetry);
  t.same(recorded, [1, 2, 3, 5, 10, 15]);
  t.ok(recorded.filter((a) => a < POLICY.maxAttempts).length <= 5, 'the 15th attempt gives up instead of retrying');
});
