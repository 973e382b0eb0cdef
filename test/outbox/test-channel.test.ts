// A channel added in a test, not shipped: its own definition (a notifier and its pace) and one
// line in the channel list. With no other change it is routed by the config, paged through the
// outbox, paced, retried, counted in the metrics and shown on the incident page.
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { CHANNELS, type ChannelDefinition } from '../../src/notify/registry.js';
import { NotifyError, type Notifier, type PageContext } from '../../src/outbox/channel.js';
import { alert, makeApp, metric, payload, postWebhook, shippedConfigText, uniqueGroup } from '../helpers.js';
import { WebClient } from '../web/web-client.js';

/** Pigeons: one message per 10 s to a loft; the first flight of each page is lost to a hawk (retryable). */
function pigeons(sent: { at: number; target: string; incident: number; mentions: string[] }[], now: () => number): ChannelDefinition {
  const lost = new Set<number>();
  return {
    name: 'pigeon',
    create: (): Notifier => ({
      channel: 'pigeon',
      notConfigured: undefined,
      pace: { intervalMs: 10_000, foldAfterMs: 60_000 },
      async send({ page, incident }: PageContext) {
        if (!lost.has(page.id)) {
          lost.add(page.id);
          throw new NotifyError('a hawk took the pigeon', true);
        }
        sent.push({ at: now(), target: page.target, incident: incident.id!, mentions: page.mentions });
        return { externalRef: `pigeon-${page.id}` };
      },
    }),
  };
}

t.test('a channel registered in a test is routed, paged, paced, retried, counted and shown', async (t) => {
  const text = shippedConfigText()
    .replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["pigeon:loft-1"],')
    .replace('    name: Carol Diaz\n', '    name: Carol Diaz\n    addresses: { pigeon: carol-perch }\n');
  const triage = parseConfig(text, 'triage.yml');
  const sent: { at: number; target: string; incident: number; mentions: string[] }[] = [];
  let clockNow = () => 0;
  const { app, clock } = await makeApp(t, { config: { triage }, channels: [...CHANNELS, pigeons(sent, () => clockNow())] });
  clockNow = () => clock.now();
  const { dispatcher } = app.triage;

  // Two High incidents: two pages to the same loft. Slack and e-mail are not configured here.
  const first = (await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]))).json().incident.id as number;
  const second = (await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: 'b' } })]))).json().incident
    .id as number;
  t.equal(await metric(app, 'triage_notification_queue_depth{channel="pigeon"}'), 2, 'both queued, counted under the new channel');
  t.equal(await metric(app, 'triage_notifications_total{channel="pigeon",outcome="sent"}'), 0, 'its series exist from the start');

  await dispatcher.tick(); // the first page flies and is lost; the second waits for the loft's pace
  t.same(sent, [], 'nothing arrived yet');
  t.equal(await metric(app, 'triage_notifications_total{channel="pigeon",outcome="retried"}'), 1, 'the lost flight is retried');

  clock.advance(1_000); // the retry is due (1 s backoff), but the loft is paced for 10 s
  await dispatcher.tick();
  t.same(sent, [], 'paced: no second message to the loft within 10 s');

  for (let i = 0; i < 6; i++) {
    clock.advance(10_000);
    await dispatcher.tick();
  }
  t.same(sent.map((s) => s.incident).sort(), [first, second].sort(), 'each page delivered once');
  t.ok(sent.every((s) => s.target === 'loft-1'));
  // High pages devops (Carol and Dan) and the on-call; only Carol has an address on this channel.
  t.ok(
    sent.every((s) => s.mentions.includes('carol-perch') && s.mentions.every((m) => m.endsWith('-perch'))),
    "mentions come from the contacts' addresses on the channel",
  );
  const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at);
  t.ok(
    gaps.every((g) => g >= 10_000),
    `at least 10 s between two messages to the loft (${gaps.join(', ')} ms)`,
  );
  t.equal(await metric(app, 'triage_notifications_total{channel="pigeon",outcome="sent"}'), 2);
  t.equal(await metric(app, 'triage_notification_queue_depth{channel="pigeon"}'), 0);

  const web = new WebClient(app);
  await web.signIn();
  const page = await web.get(`/incidents/${first}`);
  t.match(page.body, /Pigeon loft-1/, 'the incident page names the page by its channel');
  t.match(page.body, /delivered/);
});

t.test('a route to a channel nobody registered: the page is recorded as not sent, naming it, never queued', async (t) => {
  const triage = parseConfig(
    shippedConfigText().replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["carrier:loft"],'),
    'triage.yml',
  );
  const { app, store } = await makeApp(t, { config: { triage } });
  const id = (await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]))).json().incident.id as number;
  t.same(await store.queueDepth(), {}, 'nothing waits for a channel that does not exist');
  const timeline = (await store.getIncident(id))!.timeline;
  t.match(
    timeline.find((e) => e.kind === 'page_failed' && e.channel === 'carrier'),
    { outcome: 'skipped', reason: /no channel "carrier"/ },
  );
});
