// Handoff notices and the Slack user group, with two replicas on one PostgreSQL database under one
// manual clock, fast-forwarded across the change to summer time in New York: each handoff is told
// once (the incoming person, the outgoing one, the rotation's channel), whichever replica's
// scheduler gets there first; a notice whose send had an unknown outcome is looked up, not sent
// twice; the user group follows who is on call, set only on change.
import t, { type Test } from 'tap';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { slackText } from '../../src/notify/render.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { makeApp, metric, shippedConfigText } from '../helpers.js';
import { pagingApp, SLACK_TOKEN } from '../notify/paging-helpers.js';
import { testDatabase } from '../store/postgres-test-db.js';
import type { SlackMessage } from '../fakes/slack-api-server.js';

const PLATFORM = `
teams:
  - id: platform
    name: Platform
    match: ['team="platform"']
    oncall:
      timeZone: America/New_York
      handoff: "08:00"
      rotation: 1d
      start: 2026-03-01
      members: [carol, dan]
      handoffChannel: "#platform-oncall"
      slackUsergroup: oncall-platform
`;
const triage = parseConfig(shippedConfigText(PLATFORM), 'handoffs.yml');
const CAROL = 'U0000000C03';
const DAN = 'U0000000D04';
const MIN = 60_000;
/** The zone as Slack text shows it (its underscore a lookalike, never italics). */
const NY = slackText('America/New_York');

const db = await testDatabase(t);
if ('skip' in db) {
  t.plan(0, db.skip);
} else {
  const url = db.url;
  let schemas = 0;

  async function twoReplicas(t: Test, start: number) {
    const schema = `handoffs${++schemas}`;
    const open = async () => {
      const store = await PostgresStore.open({ url, schema, poolSize: 4 });
      t.teardown(() => store.close());
      return store;
    };
    const a = await pagingApp(
      t,
      { triage, dispatch: { autoStart: false, random: () => 0.5, owner: 'replica-a' } },
      { store: await open(), clock: new ManualClock(start) },
    );
    // Made after A's start: A's first sync finds no such group (and counts it), B's sets it.
    a.slack.usergroup('oncall-platform', ['U0000000A01']);
    const b = await makeApp(t, {
      store: await open(),
      clock: a.clock,
      config: {
        triage,
        channels: {
          slackBotToken: SLACK_TOKEN,
          slackApiUrl: a.slack.url,
          smtpUrl: a.mail.url,
          emailFrom: 'alert-triage@example.com',
          publicUrl: 'https://triage.example.com',
        },
        dispatch: { autoStart: false, random: () => 0.5, owner: 'replica-b' },
      },
    });
    /** Both replicas' schedulers and dispatchers, in turn, every `stepMs` for `ms`. */
    const fastForward = async (ms: number, stepMs = 10 * MIN) => {
      for (let left = ms; left > 0; left -= stepMs) {
        a.clock.advance(Math.min(stepMs, left));
        const [first, second] = Math.random() < 0.5 ? [a.app, b.app] : [b.app, a.app];
        await Promise.all([first.triage.scheduler.tick(), second.triage.scheduler.tick()]);
        for (let i = 0; i < 5; i++) {
          const [x, y] = await Promise.all([a.app.triage.dispatcher.tick(), b.app.triage.dispatcher.tick()]);
          if (x + y === 0) break;
          a.clock.advance(1100); // Slack's pace
        }
      }
    };
    return { a, b, fastForward };
  }

  const notices = (messages: SlackMessage[]) =>
    messages.filter((m) => m.metadata?.event_payload['notice'] !== undefined).map((m) => m.text.split('\n')[0]);

  t.test('each handoff is told once across two replicas, at 08:00 New York time on both sides of the DST change', async (t) => {
    // Saturday 7 March 2026, 12:00Z (07:00 EST): the last handoff (6 March, 13:00Z) is past the announcing window.
    const { a, fastForward } = await twoReplicas(t, Date.parse('2026-03-07T12:00:00Z'));
    t.same(a.slack.messages, [], 'nothing at start: the handoffs before are too old to announce');

    await fastForward(49 * 60 * MIN); // to Monday 9 March 13:00Z
    const sent = a.slack.messages.filter((m) => m.metadata?.event_payload['notice']);
    const ids = sent.map((m) => m.metadata!.event_payload['outbox_id']);
    t.equal(new Set(ids).size, ids.length, 'no notice sent twice');
    // 7 March 08:00 EST = 13:00Z (carol takes over from dan), 8 March 08:00 EDT = 12:00Z (dan), 9 March 12:00Z (carol).
    t.same(notices(a.slack.postedTo('#platform-oncall')), [
      `*Carol Diaz is on call for Platform until Sun, 8 Mar 2026, 08:00 GMT-4 (${NY}); open incidents: 0*`,
      `*Dan Okafor is on call for Platform until Mon, 9 Mar 2026, 08:00 GMT-4 (${NY}); open incidents: 0*`,
      `*Carol Diaz is on call for Platform until Tue, 10 Mar 2026, 08:00 GMT-4 (${NY}); open incidents: 0*`,
    ]);
    const toDan = notices(a.slack.directMessagesTo(DAN));
    const toCarol = notices(a.slack.directMessagesTo(CAROL));
    t.same(
      toCarol.filter((n) => n!.includes('Platform')),
      [
        '*You are on call for Platform until Sun, 8 Mar 2026, 08:00 GMT-4*',
        '*Your Platform on-call shift has ended: Dan Okafor is on call now*',
        '*You are on call for Platform until Tue, 10 Mar 2026, 08:00 GMT-4*',
      ],
    );
    t.same(
      toDan.filter((n) => n!.includes('Platform')),
      [
        '*Your Platform on-call shift has ended: Carol Diaz is on call now*',
        '*You are on call for Platform until Mon, 9 Mar 2026, 08:00 GMT-4*',
        '*Your Platform on-call shift has ended: Carol Diaz is on call now*',
      ],
    );
    // The top level's weekly rotation hands over on Monday 9 March at 09:00 Paris time (08:00Z): told once too.
    const top = [...toDan, ...toCarol, ...notices(a.slack.directMessagesTo('U0000000A01'))].filter((n) => n!.includes('Top level'));
    t.equal(top.length, 2, "the top level's handoff: the incoming and the outgoing person, once each");
    const summary = a.slack.directMessagesTo(CAROL).find((m) => m.text.includes('Your Platform on-call shift has ended'))!;
    t.match(summary.text, /Your shift: Sat, 7 Mar 2026, 08:00 GMT-5 – Sun, 8 Mar 2026, 08:00 GMT-4 \(America\/New.York\)/);
    t.match(summary.text, /Incidents opened: 0; acknowledged by you: 0; still unresolved: 0\./);

    // The user group followed: set at start (it held someone else), then at each handoff, and only then.
    const group = [...a.slack.usergroups.values()][0]!;
    t.same(group.users, [CAROL]);
    t.equal(group.updates, 2 * (1 + 3), 'each replica: once after its start, then once per handoff, and never in between');
    t.equal(await metric(a.app, 'triage_slack_usergroup_syncs_total{usergroup="oncall-platform",outcome="ok"}'), 4);
  });

  t.test('a handoff notice whose send had an unknown outcome is looked up in the direct message, not sent twice', async (t) => {
    const { a, fastForward } = await twoReplicas(t, Date.parse('2026-03-07T12:50:00Z'));
    // Slack keeps the first notice posted but the connection drops before its answer.
    a.slack.failNext('chat.postMessage', { reset: true, record: true });
    await fastForward(30 * MIN);
    const sent = a.slack.messages.filter((m) => m.metadata?.event_payload['notice']);
    t.equal(sent.length, 3, 'the incoming person, the outgoing one and the channel, once each');
    t.equal(a.slack.calls.filter((c) => c.method === 'chat.postMessage').length, 3, 'the notice of unknown outcome was not posted again');
    t.ok(
      a.slack.calls.some((c) => c.method === 'conversations.history'),
      'looked up in its conversation before any resend',
    );
  });

  t.test('a user group Slack refuses (no such group) is counted and tried again; paging goes on', async (t) => {
    const { a, fastForward } = await twoReplicas(t, Date.parse('2026-03-07T12:50:00Z'));
    a.slack.usergroups.clear();
    await fastForward(30 * MIN);
    t.ok(((await metric(a.app, 'triage_slack_usergroup_syncs_total{usergroup="oncall-platform",outcome="failed"}')) ?? 0) >= 2);
    t.ok(((await metric(a.app, 'triage_slack_usergroup_last_failure_timestamp_seconds{usergroup="oncall-platform"}')) ?? 0) > 0);
    t.equal(notices(a.slack.postedTo('#platform-oncall')).length, 1, 'the handoff is told all the same');
  });
}
