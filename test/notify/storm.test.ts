import t from 'tap';
import { alert, api, payload, postWebhook } from '../helpers.js';
import { pagingApp } from './paging-helpers.js';

t.test('a storm of 500 incidents on one channel: within the rate, most severe first, nothing lost', async (t) => {
  const { app, slack, clock, store, drain } = await pagingApp(t);
  const start = clock.now();
  // High and medium both announce in #incidents. Medium first, so severity, not arrival, orders them.
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < 400; i++)
    posts.push(postWebhook(app, payload(`{}:{storm="m${i}"}`, [alert('RateLimitSpike', { labels: { instance: `m${i}` } })])));
  for (let i = 0; i < 100; i++)
    posts.push(postWebhook(app, payload(`{}:{storm="h${i}"}`, [alert('ServiceDown', { labels: { instance: `h${i}` } })])));
  await Promise.all(posts);
  t.equal((await api(app, 'GET', '/api/incidents?limit=1000')).body.incidents.length, 500);

  // Run the outbox for a simulated minute, a tick every 250 ms.
  for (let i = 0; i < 240; i++) {
    await drain();
    clock.advance(250);
  }
  const elapsedS = (clock.now() - start) / 1000;
  const inChannel = slack.postedTo('#incidents');
  t.ok(inChannel.length <= Math.ceil(elapsedS / 1.0) + 1, `${inChannel.length} messages in ${elapsedS}s: at most one per second`);

  const digests = inChannel.filter((m) => /incident updates/.test(m.text));
  t.ok(digests.length >= 1, 'the backlog was folded into digests');
  t.match(
    digests[0]!.text,
    /\d+ incident updates: 100 high, \d+ medium$/,
    'the high ones went first, counted by severity, most severe first',
  );
  const listed = JSON.stringify(digests[0]!.attachments);
  t.ok(
    listed.indexOf('🟠') >= 0 && (listed.indexOf('🟡') === -1 || listed.indexOf('🟠') < listed.indexOf('🟡')),
    'high incidents are listed before medium ones',
  );
  const folded = digests.reduce((n, m) => n + Number(/(\d+) incident updates/.exec(m.text)![1]), 0);
  t.equal(folded + inChannel.length - digests.length, 500, 'every page is in a message');

  // Every page is accounted for: sent on its own, or folded into a digest; none failed or waiting.
  t.same(await store.queueDepth(), {});
  const db = (store as unknown as { db: { prepare(sql: string): { all(): { status: string; n: number }[] } } }).db;
  const byStatus = Object.fromEntries(
    db
      .prepare(`SELECT status, count(*) AS n FROM outbox WHERE channel = 'slack' GROUP BY status`)
      .all()
      .map((r) => [r.status, r.n]),
  );
  t.same(byStatus, Object.fromEntries(Object.entries({ sent: inChannel.length - digests.length, folded }).filter(([, n]) => n > 0)));
  t.equal(byStatus['folded'], folded, 'folded pages are recorded as folded');
  const one = (await api(app, 'GET', '/api/incidents/250')).body.timeline.find((e: { kind: string }) => e.kind === 'paged');
  t.match(one, {
    kind: 'paged',
    outcome: 'folded',
    channel: 'slack',
    target: '#incidents',
    digestOf: Number,
    detail: /in a digest of \d+ pages/,
  });
});
