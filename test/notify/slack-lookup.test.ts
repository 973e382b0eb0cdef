import { join } from 'node:path';
import t, { type Test } from 'tap';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import type { IncidentStore } from '../../src/store/store.js';
import { alert, api, failingOnce, payload, postWebhook, tempDir, uniqueGroup } from '../helpers.js';
import { pagingApp } from './paging-helpers.js';

// How a page whose outcome is unknown is found in Slack before any resend, in the cases a review
// found it was not: the fake answers conversations.history by conversation ID only, as Slack does.
const TIMEOUT_MS = 1500;

/** A SQLite store whose `method` fails once, the first time `when` says so. */
const storeFailingOnce = (t: Test, method: keyof IncidentStore, when?: (args: unknown[]) => boolean) =>
  failingOnce(new SqliteStore({ path: join(tempDir(t), 'triage.db') }), method, when);

/** The app, after an incident's first Slack page reached Slack but its answer was lost (the client timed out). */
async function lostFirstPost(t: Test) {
  const ctx = await pagingApp(t, {}, {}, { slackTimeoutMs: TIMEOUT_MS });
  ctx.slack.failNext('chat.postMessage', { hang: true, record: true });
  await postWebhook(ctx.app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await ctx.drain();
  return ctx;
}

const digests = (messages: { text: string }[]) => messages.filter((m) => /incident updates/.test(m.text));

t.test('a channel configured by #name is looked up by its ID (conversations.list), not by the name Slack refuses', async (t) => {
  const { slack, clock, drain } = await lostFirstPost(t);
  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'found, not posted again');
  const history = slack.calls.filter((c) => c.method === 'conversations.history');
  t.ok(history.length > 0 && history.every((c) => /^C/.test(String(c.args['channel']))), 'history asked by conversation ID');
  t.ok(
    slack.calls.some((c) => c.method === 'conversations.list'),
    'the ID came from the channel list: no answer to a post was seen',
  );
});

t.test('a digest whose answer was lost is found by any page it folded, not posted again', async (t) => {
  const { app, slack, clock, drain } = await pagingApp(t, {}, {}, { slackTimeoutMs: TIMEOUT_MS });
  for (let i = 0; i < 10; i++) await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike', { labels: { instance: `i${i}` } })]));
  slack.failNext('chat.postMessage', { hang: true, record: true });
  await drain();
  t.equal(digests(slack.postedTo('#incidents')).length, 1, 'Slack has the digest; its answer was lost');
  for (let i = 0; i < 3; i++) {
    clock.advance(2000);
    await drain();
  }
  t.equal(digests(slack.postedTo('#incidents')).length, 1, 'still one digest');
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'never posted again');
  const paged = (await Promise.all(Array.from({ length: 10 }, (_, i) => api(app, 'GET', `/api/incidents/${i + 1}`)))).flatMap((r) =>
    r.body.timeline.filter((e: { kind: string }) => e.kind === 'paged'),
  );
  t.equal(paged.length, 10, 'every page recorded as delivered');
  t.ok(
    paged.every((e: { outcome: string }) => e.outcome === 'found'),
    'each found in the digest',
  );
});

t.test('the store fails while a digest is recorded: the pages left over are found in it, not sent again', async (t) => {
  let folded = 0;
  const store = storeFailingOnce(t, 'completePage', (args) => (args[1] as { status: string }).status === 'folded' && ++folded === 2);
  const { app, slack, clock, drain } = await pagingApp(t, {}, { store });
  for (let i = 0; i < 10; i++) await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike', { labels: { instance: `i${i}` } })]));
  await drain();
  for (let i = 0; i < 5; i++) {
    clock.advance(1100);
    await drain();
  }
  const messages = slack.postedTo('#incidents');
  const covered = messages.reduce((n, m) => n + (Number(/(\d+) incident updates/.exec(m.text)?.[1]) || 1), 0);
  t.equal(covered, 10, 'each of the 10 pages in exactly one message');
  t.same(await store.queueDepth(), {}, 'and every page settled');
});

t.test('the store fails to keep the thread after Slack took the message: the page counts as sent', async (t) => {
  const store = storeFailingOnce(t, 'saveSlackMessage');
  const { app, slack, clock, drain } = await pagingApp(t, {}, { store });
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'one message');
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline.filter((e: { kind: string }) => e.kind === 'paged'),
    [{ channel: 'slack', outcome: 'sent' }],
  );
  t.equal(timeline.filter((e: { kind: string }) => e.kind === 'page_retrying').length, 0, 'no retry');
});

t.test('an announcement whose answer was lost is found at the top of the channel after a later page started the thread', async (t) => {
  const { app, slack, clock, drain } = await lostFirstPost(t); // the announcement: Slack has it, the answer is lost
  clock.advance(1100);
  slack.failNext('conversations.history', { status: 500 });
  await drain(); // its lookup fails: it waits again
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  await drain();
  clock.advance(1100);
  await drain(); // the acknowledgement goes first and starts a thread of its own
  clock.advance(1100);
  await drain(); // the announcement again: looked for in that thread, then in the channel
  const pageOne = slack.postedTo('#incidents').filter((m) => m.metadata?.event_payload['outbox_id'] === 1);
  t.equal(pageOne.length, 1, 'the announcement was delivered once');
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline.filter((e: { kind: string; event?: string }) => e.kind === 'paged' && e.event === 'opened'),
    [{ outcome: 'found' }],
  );
});

t.test('an announcement deleted in Slack does not stop the thread: the next page still reaches the channel', async (t) => {
  const { app, slack, clock, drain } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  const [announcement] = slack.postedTo('#incidents');
  slack.messages.splice(slack.messages.indexOf(announcement!), 1); // deleted by someone in Slack
  clock.advance(2000);
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'the acknowledgement reached the channel');
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.equal(timeline.filter((e: { kind: string }) => e.kind === 'page_failed').length, 0, 'nothing failed');
});

t.test('a lookup refused by a proxy (HTTP 403) is tried again later: the page is never given up for it', async (t) => {
  const { app, slack, clock, drain } = await lostFirstPost(t);
  clock.advance(2000);
  slack.failNext('conversations.history', { status: 403 });
  await drain();
  let timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.equal(timeline.filter((e: { kind: string }) => e.kind === 'page_failed').length, 0, 'not failed');
  t.match(timeline.filter((e: { kind: string }) => e.kind === 'page_retrying').at(-1), { detail: /looking the page up/ });
  clock.advance(5000);
  await drain();
  timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline.filter((e: { kind: string }) => e.kind === 'paged'),
    [{ outcome: 'found' }],
    'found at the next try',
  );
  t.equal(slack.postedTo('#incidents').length, 1);
});

t.test('a lost page is found past the first page of the channel list and of the history, as Slack pages them', async (t) => {
  const { app, slack, clock, drain } = await lostFirstPost(t);
  // Slack gives listings a page at a time: #incidents comes on the third page of channels, and the
  // lost announcement behind three newer messages, two to a page.
  slack.pageSize = 2;
  for (const name of ['#alpha', '#beta', '#ci', '#deploys']) slack.channel(name);
  const channel = SlackApiServer.channelId('#incidents');
  for (let i = 0; i < 3; i++) slack.messages.push({ channel, ts: `${1_900_000_000 + i}.000100`, text: `someone else ${i}`, updates: 0 });
  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').filter((m) => m.metadata?.event_payload['outbox_id'] === 1).length, 1, 'found, not posted again');
  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline.filter((e: { kind: string }) => e.kind === 'paged'),
    [{ outcome: 'found' }],
  );
  t.ok(slack.calls.filter((c) => c.method === 'conversations.history').length >= 2, 'the history was read past its first page');
});
