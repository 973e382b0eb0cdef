import t from 'tap';
import { alert, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { pagingApp } from './paging-helpers.js';

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// These run the dispatcher's own loop (not tick()): what is under test is that the loop does not wait.

t.test('a hanging Slack call delays only its channel: an e-mail page for another incident is delivered meanwhile', async (t) => {
  // The Slack call would hang for a minute; the loop must not wait for it.
  const { app, slack, mail, clock } = await pagingApp(
    t,
    { dispatch: { random: () => 0.5, shutdownGraceMs: 100 } },
    {},
    { slackTimeoutMs: 60_000 },
  );
  slack.failNext('chat.postMessage', { hang: true });
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')])); // medium: Slack #incidents only
  await until('the Slack call to hang', () => slack.hanging.length === 1);

  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')])); // high: Slack #incidents and e-mail
  await until('the e-mail of the second incident', () => mail.received.length === 1);
  t.equal(slack.hanging.length, 1, 'delivered while the Slack call still hangs');
  t.match(mail.received[0]!.mail.subject, /\[HIGH\] ServiceDown/);
  // The channel's pace would let the second Slack page go now; only the call in flight holds it back.
  clock.advance(10_000);
  app.triage.dispatcher.wake();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(
    slack.calls.filter((c) => c.method === 'chat.postMessage').length,
    1,
    'the second page to the busy channel waits its turn: never two calls in flight to one channel',
  );
});

t.test('a commit with pages wakes the dispatcher: with polling off, the page still leaves', async (t) => {
  const { app, slack } = await pagingApp(t, { dispatch: { random: () => 0.5, pollMs: 3_600_000 } });
  await new Promise((r) => setTimeout(r, 50)); // the loop's first pass at start is over
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await until('the page', () => slack.postedTo('#incidents').length === 1);
  t.pass('delivered without a poll');
});

t.test('pages for a paused Slack channel wait untouched in the outbox, and leave when the pause ends, with polling off', async (t) => {
  const { app, slack, store, clock } = await pagingApp(
    t,
    { dispatch: { random: () => 0.5, pollMs: 3_600_000 } },
    {},
    { slackIntervalMs: 300 },
  );
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')])); // medium: Slack #incidents only
  await until('the first page', () => slack.postedTo('#incidents').length === 1);
  // #incidents may take its next message 300 ms (of the manual clock) after the first.
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await new Promise((r) => setTimeout(r, 100));
  const db = (
    store as unknown as {
      db: { prepare(sql: string): { all(): { status: string; attempts: number; next_attempt_at: number; created_at: number }[] } };
    }
  ).db;
  const waiting = db.prepare(`SELECT status, attempts, next_attempt_at, created_at FROM outbox WHERE id > 1 ORDER BY id`).all();
  t.same(
    waiting.map((p) => [p.status, p.attempts, p.next_attempt_at === p.created_at]),
    [
      ['pending', 0, true],
      ['pending', 0, true],
    ],
    'not claimed and released during the pause',
  );
  // The pass after the pause is scheduled for its end (polling would take an hour).
  await until('both pages', () => {
    clock.advance(50);
    return slack.postedTo('#incidents').length === 3;
  });
  t.pass('delivered after the pause without a poll');
});
