import t from 'tap';
import { createMetrics } from '../../src/metrics/metrics.js';

t.test('one scrape reads the incident counts once, for both gauges', async (t) => {
  let reads = 0;
  const metrics = createMetrics(
    async () => {
      reads++;
      return { open: { critical: 2, high: 1, medium: 0, low: 0 }, breachedOpen: { critical: 1, high: 0, medium: 0, low: 0 } };
    },
    async () => ({ slack: 3, email: 0 }),
  );
  const text = await metrics.registry.metrics();
  t.equal(reads, 1, 'one read per scrape');
  t.match(text, 'triage_incidents_open{severity="critical"} 2');
  t.match(text, 'triage_incidents_breached_open{severity="critical"} 1');
  t.match(text, 'triage_notification_queue_depth{channel="slack"} 3');
  await metrics.registry.metrics();
  t.equal(reads, 2, 'the next scrape reads afresh');
});

t.test('page outcomes are counted under the words of triage_notifications_total', async (t) => {
  const metrics = createMetrics(async () => ({ open: { critical: 0, high: 0, medium: 0, low: 0 }, breachedOpen: { critical: 0, high: 0, medium: 0, low: 0 } }), async () => ({ slack: 0, email: 0 }));
  const page = { id: 1, incidentId: 1, channel: 'slack' as const, target: '#x', event: 'opened' as const, severity: 'high' as const, mentions: [], recipients: [], cause: null, status: 'sending' as const, attempts: 1, nextAttemptAt: 0, createdAt: 0, maybeSent: false };
  metrics.observePage(page, { status: 'sent', externalRef: 'C:1' }, 1500);
  metrics.observePage(page, { status: 'retry', nextAttemptAt: 2000, error: 'x' }, 1500);
  metrics.observePage(page, { status: 'failed', error: 'x' }, 1500);
  metrics.observePage(page, { status: 'skipped', error: 'x' }, 1500);
  metrics.observePage(page, { status: 'release', nextAttemptAt: 2000 }, 1500);
  const text = await metrics.registry.metrics();
  for (const outcome of ['sent', 'retried', 'failed', 'skipped']) t.match(text, `triage_notifications_total{channel="slack",outcome="${outcome}"} 1`, outcome);
  t.match(text, 'triage_notification_latency_seconds_sum{channel="slack"} 1.5', 'latency from the page being decided to its delivery');
});
