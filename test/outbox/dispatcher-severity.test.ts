// The dispatcher takes the most severe pages first across the whole queue: a Critical that arrives
// behind thousands of waiting Lows is claimed in the very next pass and posted in it, not after
// the Lows have gone out 500 at a time.
import t from 'tap';
import { alert, decider, groupNotification, incomingAlert, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';

t.test('a Critical committed after 5,000 waiting Lows is claimed and posted in the next pass', async (t) => {
  const { app, slack, mail, clock, store } = await pagingApp(t);
  const now = clock.now();
  // 5,000 Low pages to #alerts, waiting: more than the 500 a pass claims.
  const lows = Array.from({ length: 5000 }, () => ({
    channel: 'slack' as const,
    target: '#alerts',
    event: 'opened' as const,
    severity: 'low' as const,
    mentions: [],
    recipients: [],
    cause: null,
    at: now,
  }));
  await store.applyNotification(groupNotification([incomingAlert('a', 'DiskAlmostFull')], { groupKey: 'lows' }), (a, p, n) => ({
    ...decider(now)(a, p, n)!,
    pages: lows,
  }));
  t.same(await store.queueDepth(), { slack: 5000 });

  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]))).statusCode, 200);
  const handled = await app.triage.dispatcher.tick();
  t.equal(handled, 500, 'one pass claims 500 pages');
  const critical = slack.postedTo('#security-incident');
  t.equal(critical.length, 1, 'the Critical is posted in the first pass');
  t.match(critical[0]!.text, /DDoSAttack/);
  t.equal(mail.received.length, 1, 'and e-mailed in it');
  const inAlerts = slack.postedTo('#alerts');
  t.equal(inAlerts.length, 1, 'the Lows of that pass went out as one digest');
  t.match(inAlerts[0]!.text, /^498 incident updates/, 'holding the rest of the pass: 500 less the Critical’s two pages (Slack, e-mail)');
  const depth = await store.queueDepth();
  t.equal(depth['slack'], 4502, 'the other Lows wait their turn');
});
