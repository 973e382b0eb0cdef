// A replica that stalls past its leases (a long GC pause, a starved CPU, the database gone for a
// while) finds, when it wakes, that another replica has taken its batch over. It must not go on
// sending the pages it had not even started: that replica sends them, and e-mail has no lookup.
import t from 'tap';
import { Dispatcher } from '../../src/outbox/dispatcher.js';
import type { Notifier, PageContext } from '../../src/outbox/channel.js';
import { alert, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';

/** An e-mail notifier that records each send; the first send of `gate`'s owner waits for it. */
function recordingEmail(name: string, sends: string[], gate?: Promise<void>): Notifier {
  let first = true;
  return {
    channel: 'email',
    notConfigured: undefined,
    async send({ page }: PageContext) {
      sends.push(`${name}:${page.id}`);
      if (first && gate) {
        first = false;
        await gate;
      }
      return { externalRef: `<page-${page.id}@test>` };
    },
  };
}

t.test('a replica that lost its leases mid-batch sends nothing more of that batch', async (t) => {
  const { app, store, clock } = await pagingApp(t);
  for (let i = 0; i < 3; i++) await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: `h${i}` } })]));
  const emails = (await store.queueDepth()).email ?? 0;
  t.ok(emails >= 2, `a batch of ${emails} e-mail pages to one recipient list`);
  const warnings: string[] = [];
  const log = { warn: (_o: object, m: string) => warnings.push(m), error: (_o: object, m: string) => warnings.push(m) };
  const sends: string[] = [];
  let wake!: () => void;
  const stalled = new Promise<void>((resolve) => (wake = resolve));
  const options = { autoStart: false, random: () => 0.5, leaseMs: 30_000 };
  const a = new Dispatcher(store, new Map([['email', recordingEmail('A', sends, stalled)]]), clock, app.triage.metrics, log, {
    ...options,
    owner: 'A',
  });
  const b = new Dispatcher(store, new Map([['email', recordingEmail('B', sends)]]), clock, app.triage.metrics, log, {
    ...options,
    owner: 'B',
  });
  const first = a.tick();
  while (!sends.length) await new Promise((resolve) => setTimeout(resolve, 10));
  clock.advance(30_000); // A stalls in its first send for a whole lease
  await b.tick(); // B takes every page of the batch over and sends them
  wake();
  await first;
  const byA = sends.filter((s) => s.startsWith('A:'));
  t.same(byA, [sends[0]], 'A sent only the page it had started before it stalled');
  t.equal(sends.filter((s) => s.startsWith('B:')).length, emails, 'B sent the whole batch');
  t.ok(
    warnings.some((w) => /taken over by another replica/.test(w)),
    'A says why it stopped',
  );
  t.equal((await store.queueDepth()).email ?? 0, 0, 'every e-mail page settled, once');
});
