import t from 'tap';
import { createMetrics } from '../../src/metrics/metrics.js';
import { alert, api, makeApp, metric, payload, postWebhook, uniqueGroup } from '../helpers.js';

t.test('one scrape reads the incident counts once, for both gauges', async (t) => {
  let reads = 0;
  const metrics = createMetrics({
    channels: ['slack', 'email'],
    readCounts: async () => {
      reads++;
      return { open: { critical: 2, high: 1, medium: 0, low: 0 }, breachedOpen: { critical: 1, high: 0, medium: 0, low: 0 } };
    },
    queueDepth: async () => ({ slack: 3 }),
  });
  const text = await metrics.registry.metrics();
  t.equal(reads, 1, 'one read per scrape');
  t.match(text, 'triage_incidents_open{severity="critical"} 2');
  t.match(text, 'triage_incidents_breached_open{severity="critical"} 1');
  t.match(text, 'triage_notification_queue_depth{channel="slack"} 3');
  t.match(text, 'triage_notification_queue_depth{channel="email"} 0', 'a channel the store has no pages for');
  await metrics.registry.metrics();
  t.equal(reads, 2, 'the next scrape reads afresh');
});

t.test('page outcomes are counted under the words of triage_notifications_total', async (t) => {
  const metrics = createMetrics({
    channels: ['slack', 'email'],
    readCounts: async () => ({
      open: { critical: 0, high: 0, medium: 0, low: 0 },
      breachedOpen: { critical: 0, high: 0, medium: 0, low: 0 },
    }),
    queueDepth: async () => ({}),
  });
  const page = {
    id: 1,
    incidentId: 1,
    channel: 'slack' as const,
    target: '#x',
    event: 'opened' as const,
    severity: 'high' as const,
    mentions: [],
    recipients: [],
    cause: null,
    status: 'sending' as const,
    attempts: 1,
    nextAttemptAt: 0,
    createdAt: 0,
    maybeSent: false,
  };
  metrics.observePage(page, { status: 'sent', externalRef: 'C:1' }, 1500);
  metrics.observePage(page, { status: 'retry', nextAttemptAt: 2000, error: 'x' }, 1500);
  metrics.observePage(page, { status: 'failed', error: 'x' }, 1500);
  metrics.observePage(page, { status: 'skipped', error: 'x' }, 1500);
  metrics.observePage(page, { status: 'release', nextAttemptAt: 2000 }, 1500);
  const text = await metrics.registry.metrics();
  for (const outcome of ['sent', 'retried', 'failed', 'skipped'])
    t.match(text, `triage_notifications_total{channel="slack",outcome="${outcome}"} 1`, outcome);
  t.match(text, 'triage_notification_latency_seconds_sum{channel="slack"} 1.5', 'latency from the page being decided to its delivery');
});

t.test('time to resolve: observed once when an incident resolves, from its opening, under its severity', async (t) => {
  const { app, clock } = await makeApp(t);
  const group = uniqueGroup();
  await postWebhook(app, payload(group, [alert('DDoSAttack')]));
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  t.equal(
    await metric(app, 'triage_time_to_resolve_seconds_count{severity="critical"}'),
    0,
    'the series exists before the first resolution',
  );
  clock.advance(25 * 60_000);
  // Resolved by Alertmanager for the first, by hand for the second (which also counts as its acknowledgement).
  await postWebhook(app, payload(group, [alert('DDoSAttack', { status: 'resolved' })]));
  clock.advance(5 * 60_000);
  t.equal((await api(app, 'POST', '/api/incidents/2/resolve', { by: 'bob' })).status, 200);
  await api(app, 'POST', '/api/incidents/2/resolve', { by: 'bob' });
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_count{severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_sum{severity="critical"}'), 1500);
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_bucket{le="1800",severity="critical"}'), 1);
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_bucket{le="600",severity="critical"}'), 0);
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_count{severity="high"}'), 1, 'a repeated resolve is not counted again');
  t.equal(await metric(app, 'triage_time_to_resolve_seconds_sum{severity="high"}'), 1800);
});
