// A storm of 50 incidents to one on-call gives a handful of texts, not 50: the first at once, what
// comes while it is unanswered folded into one ("49 new incidents (…); reply 4 to acknowledge all"),
// and "4" acknowledges all of them.
import t from 'tap';
import { alert, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { PHONES, phoneApp } from './phone-helpers.js';

t.test('50 High incidents in a minute give a handful of texts, and "4" acknowledges the folded ones', async (t) => {
  const p = await phoneApp(t);
  const ids: number[] = [];
  for (let i = 0; i < 50; i++) {
    ids.push(
      (await postWebhook(p.app, payload(uniqueGroup(), [alert(`Disk${i}`, { labels: { severity: 'error' } })]))).json().incident
        .id as number,
    );
    if (i % 10 === 0) await p.drain();
    p.clock.advance(1000);
  }
  await p.fastForward(5 * 60_000, 10_000);
  const texts = p.twilio.messages.filter((m) => m.to === PHONES.carol);
  t.ok(texts.length >= 2 && texts.length <= 5, `a handful of texts (${texts.length}), not 50`);
  const digest = texts.find((m) => /new incidents/.test(m.body))!;
  t.match(digest.body, /^\d+ new incidents; reply 4 to acknowledge all\. #\d+/);
  t.ok(
    texts.every((m) => m.body.length <= 160),
    'each one segment',
  );

  const answer = await p.twilio.reply(PHONES.carol, '4');
  t.match(answer.messages[0], /^Acknowledged 50 incidents: #\d+/, 'every incident of the texts of the last hour');
  const acked = (await Promise.all(ids.map((id) => p.store.getIncident(id)))).filter((i) => i!.status === 'acknowledged').length;
  t.equal(acked, 50);
});
