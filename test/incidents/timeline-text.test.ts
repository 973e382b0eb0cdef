import t from 'tap';
import { describePage } from '../../src/incidents/timeline-text.js';
import type { TimelineEntry } from '../../src/incidents/timeline.js';

const at = Date.parse('2026-11-23T22:08:00Z');

t.test('a page says its event once: thread replies and e-mails', async (t) => {
  const table: [Parameters<typeof describePage>[0], string][] = [
    [{ event: 'acknowledged', cause: { at, actor: 'alice', kind: 'acknowledged', by: 'alice', via: 'api', note: 'on it' } }, 'Acknowledged by alice: on it'],
    [{ event: 'acknowledged', cause: { at, actor: 'alice', kind: 'acknowledged', by: 'Alice Martin', via: 'slack' } }, 'Acknowledged by Alice Martin in Slack'],
    [{ event: 'resolved', cause: { at, actor: 'bob', kind: 'resolved', by: 'bob', via: 'web', note: 'fixed' } }, 'Resolved by bob on the incident page: fixed'],
    [{ event: 'resolved', cause: { at, actor: 'alertmanager', kind: 'resolved', by: 'alertmanager', via: 'alertmanager', alerts: 2 } }, 'Resolved automatically: all 2 alerts resolved'],
    [
      { event: 'escalated', cause: { at, actor: 'system', kind: 'escalated', step: 1, steps: 2, unackedMs: 300_000, paged: [{ id: 'bob', name: 'Bob Chen' }] } },
      'Escalated (step 1 of 2, 5m without acknowledgement): paging Bob Chen',
    ],
    [
      { event: 'severity_raised', cause: { at, actor: 'alertmanager', kind: 'severity_raised', from: 'low', to: 'high', rule: 'r', fingerprint: 'f' } },
      'Severity raised from low to high by rule r (alert f)',
    ],
    // Where the entry does not name the event, the event leads.
    [
      { event: 'sla_breached', cause: { at, actor: 'system', kind: 'sla_breached', severity: 'critical', respondBy: at, lateMs: 0 } },
      'Response deadline missed: No acknowledgement within the critical response time (deadline 2026-11-23T22:08:00.000Z)',
    ],
    [
      { event: 'reminder', cause: { at, actor: 'system', kind: 'reminder', reminder: 1, maxReminders: 3, unackedMs: 600_000, paged: [] } },
      'Still unacknowledged: Reminder 1 of 3: still unacknowledged after 10m; paging nobody (no contact matches)',
    ],
    [{ event: 'opened', cause: null }, 'New incident'],
  ];
  for (const [page, want] of table) t.equal(describePage(page), want, `${page.event}: ${(page.cause as TimelineEntry | null)?.kind}`);
});
