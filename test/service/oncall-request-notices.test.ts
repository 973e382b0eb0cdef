// Swap and cover requests and their answers are told by Slack direct message through the outbox,
// in the person's own time zone, and a name full of markup is shown, never obeyed.
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { shippedConfigText, T0, TEAMS_YAML } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';
import { WebClient } from '../web/web-client.js';

const triage = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');
const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
const ALICE = 'U0000000A01';
const CAROL = 'U0000000C03';

t.test('a cover request: the person asked is told, then whoever would cover is told of the answer, once each', async (t) => {
  const ctx = await pagingApp(t, { triage, web });
  const as = async (email: string) => {
    const c = new WebClient(ctx.app, { 'x-forwarded-email': email });
    await c.get('/oncall');
    return c;
  };
  const bob = await as('bob@example.com');
  const alice = await as('alice@example.com');
  t.equal((await alice.post('/oncall/zone', { rotation: 'payments', timeZone: 'America/New_York' })).statusCode, 303);
  // Bob asks Carol to cover Alice's shift, now until Mon 30 Nov 09:00 Paris (08:00Z): Alice decides.
  const until = Date.parse('2026-11-30T08:00:00Z');
  const asked = await bob.post('/oncall/cover', {
    rotation: 'payments',
    from: String(T0),
    until: String(until),
    covers: 'alice',
    contact: 'carol',
  });
  t.equal(asked.statusCode, 303);
  await ctx.settle();
  const toAlice = ctx.slack.directMessagesTo(ALICE);
  t.equal(toAlice.length, 1);
  t.match(
    toAlice[0]!.text,
    /^\*Bob Chen asks you to accept a cover \(Payments\)\*\nCarol Diaz would take your Payments shift Mon, 23 Nov 2026, 17:08 GMT-5 – Mon, 30 Nov 2026, 03:00 GMT-5\./,
  );
  t.match(toAlice[0]!.text, /Times in America\/New.York\. Accept or decline on the on-call page\./);
  t.match(toAlice[0]!.text, /<https:\/\/triage\.example\.com\/oncall\/payments\|Open the on-call page>/);

  const page = await alice.get('/oncall/payments');
  const id = /action="\/oncall\/requests\/(\d+)\/accept"/.exec(page.body)![1];
  t.equal((await alice.post(`/oncall/requests/${id}/accept`, { rotation: 'payments' })).statusCode, 303);
  t.equal((await alice.post(`/oncall/requests/${id}/accept`, { rotation: 'payments' })).statusCode, 409, 'answered once');
  await ctx.settle();
  const toCarol = ctx.slack.directMessagesTo(CAROL);
  t.equal(toCarol.length, 1, 'the answer is told once, to whoever covers');
  t.match(
    toCarol[0]!.text,
    /^\*Alice Martin accepted the cover of Payments shifts\*\nCarol Diaz covering Alice Martin, Mon, 23 Nov 2026, 23:08 CET – Mon, 30 Nov 2026, 09:00 CET/,
  );
  t.match(toCarol[0]!.text, /The shifts are changed: paging follows them\./);
  t.equal(ctx.slack.directMessagesTo(ALICE).length, 1, 'nobody is told of their own answer');
});
