import t from 'tap';
import type { TimelineEntry } from '../../src/incidents/timeline.js';
import { describeEntry, describePage } from '../../src/incidents/timeline-text.js';

const AT = Date.parse('2026-11-23T22:08:00Z');
const DEADLINE = Date.parse('2026-11-23T22:13:00Z');
const base = { at: AT, actor: 'system' };

t.test('every kind in words', async (t) => {
  const cases: [TimelineEntry, string][] = [
    [
      { ...base, kind: 'opened', severity: 'critical', rule: 'r', firing: 1, respondBy: DEADLINE, slaMs: 300_000 },
      'Opened as critical by rule r with 1 firing alert; respond by 2026-11-23 22:13 UTC (5m SLA)',
    ],
    [{ ...base, kind: 'alert_firing', fingerprint: 'f1', alertname: 'A', severity: 'high', rule: 'r' }, 'A (f1) firing, high by rule r'],
    [{ ...base, kind: 'alert_resolved', fingerprint: 'f1', alertname: 'A' }, 'A (f1) resolved'],
    [
      { ...base, kind: 'severity_raised', from: 'low', to: 'high', rule: 'r', fingerprint: 'f2' },
      'Severity raised from low to high by rule r (alert f2)',
    ],
    [
      { ...base, kind: 'sla_breached', severity: 'critical', respondBy: DEADLINE, lateMs: 59_000 },
      'No acknowledgement within the critical response time (deadline 2026-11-23 22:13 UTC)',
    ],
    [
      { ...base, kind: 'sla_breached', severity: 'critical', respondBy: DEADLINE, lateMs: 6_900_000 },
      'No acknowledgement within the critical response time (deadline 2026-11-23 22:13 UTC); detected 1h55m late',
    ],
    [{ ...base, actor: 'alice', kind: 'acknowledged', by: 'Alice', via: 'api', note: 'on it' }, 'Acknowledged by Alice: on it'],
    [{ ...base, actor: 'alice', kind: 'acknowledged', by: 'Alice', via: 'slack' }, 'Acknowledged by Alice in Slack'],
    [
      { ...base, actor: 'alice', kind: 'acknowledged', by: 'Alice', via: 'web', note: 'x' },
      'Acknowledged by Alice on the incident page: x',
    ],
    [
      { ...base, actor: 'alice', kind: 'acknowledged', by: 'Alice', via: 'api', whenResolving: true },
      'Acknowledged by Alice when resolving',
    ],
    [{ ...base, actor: 'bob', kind: 'resolved', by: 'Bob', via: 'api' }, 'Resolved by Bob'],
    [
      { ...base, actor: 'alertmanager', kind: 'resolved', by: 'alertmanager', via: 'alertmanager', alerts: 3 },
      'Resolved automatically: all 3 alerts resolved',
    ],
    [
      { ...base, kind: 'alerts_truncated', count: 7 },
      'Alertmanager left out 7 alerts of this group (max_alerts); set max_alerts: 0 to receive all',
    ],
    [
      { ...base, kind: 'escalated', step: 1, steps: 2, unackedMs: 300_000, paged: [] },
      'Escalated (step 1 of 2, 5m without acknowledgement): paging nobody (no contact matches)',
    ],
    [
      {
        ...base,
        kind: 'reminder',
        reminder: 2,
        maxReminders: 3,
        unackedMs: 1_800_000,
        paged: [
          { id: 'a', name: 'Alice' },
          { id: 'b', name: 'Bob' },
        ],
      },
      'Reminder 2 of 3: still unacknowledged after 30m; paging Alice, Bob',
    ],
    [
      { ...base, kind: 'paged', channel: 'slack', target: '#x', event: 'sla_breached', recipients: [], outcome: 'sent' },
      'Slack #x: sla breached',
    ],
    [
      { ...base, kind: 'paged', channel: 'email', target: 'a@x', event: 'opened', recipients: ['a@x'], outcome: 'sent' },
      'E-mail to a@x: opened',
    ],
    [
      {
        ...base,
        kind: 'page_failed',
        channel: 'slack',
        target: '#x',
        event: 'opened',
        recipients: [],
        outcome: 'failed',
        reason: 'Slack: invalid_auth',
      },
      'Slack #x: Slack: invalid_auth (not retried)',
    ],
    [{ ...base, actor: 'carol', kind: 'note', text: 'rolled back the deploy' }, 'rolled back the deploy'],
    [{ ...base, actor: 'carol', kind: 'checklist', step: 'PRESERVE: save all logs', state: 'done' }, 'Done: PRESERVE: save all logs'],
    [{ ...base, actor: 'carol', kind: 'checklist', step: 'STOP', state: 'undone' }, 'Not done: STOP'],
    [
      { ...base, actor: 'carol', kind: 'checklist', step: 'ASSESS', state: 'problem', note: 'no access logs' },
      'Problem: ASSESS: no access logs',
    ],
    [
      { ...base, actor: 'carol', kind: 'review', rootCause: 'expired cert', impact: '', prevention: 'alert on expiry' },
      'Post-incident review saved. Root cause: expired cert. Impact: (empty). Prevention: alert on expiry.',
    ],
  ];
  for (const [entry, words] of cases) t.equal(describeEntry(entry), words, entry.kind);
});

t.test('a page says its event once: thread replies and e-mails', async (t) => {
  const table: [Parameters<typeof describePage>[0], string][] = [
    [
      { event: 'acknowledged', cause: { at: AT, actor: 'alice', kind: 'acknowledged', by: 'alice', via: 'api', note: 'on it' } },
      'Acknowledged by alice: on it',
    ],
    [
      { event: 'acknowledged', cause: { at: AT, actor: 'alice', kind: 'acknowledged', by: 'Alice Martin', via: 'slack' } },
      'Acknowledged by Alice Martin in Slack',
    ],
    [
      { event: 'resolved', cause: { at: AT, actor: 'bob', kind: 'resolved', by: 'bob', via: 'web', note: 'fixed' } },
      'Resolved by bob on the incident page: fixed',
    ],
    [
      { event: 'resolved', cause: { at: AT, actor: 'alertmanager', kind: 'resolved', by: 'alertmanager', via: 'alertmanager', alerts: 2 } },
      'Resolved automatically: all 2 alerts resolved',
    ],
    [
      {
        event: 'escalated',
        cause: {
          at: AT,
          actor: 'system',
          kind: 'escalated',
          step: 1,
          steps: 2,
          unackedMs: 300_000,
          paged: [{ id: 'bob', name: 'Bob Chen' }],
        },
      },
      'Escalated (step 1 of 2, 5m without acknowledgement): paging Bob Chen',
    ],
    [
      {
        event: 'severity_raised',
        cause: { at: AT, actor: 'alertmanager', kind: 'severity_raised', from: 'low', to: 'high', rule: 'r', fingerprint: 'f' },
      },
      'Severity raised from low to high by rule r (alert f)',
    ],
    // Where the entry does not name the event, the event leads.
    [
      { event: 'sla_breached', cause: { at: AT, actor: 'system', kind: 'sla_breached', severity: 'critical', respondBy: AT, lateMs: 0 } },
      'Response deadline missed: No acknowledgement by 2026-11-23 22:08 UTC',
    ],
    [
      {
        event: 'reminder',
        cause: { at: AT, actor: 'system', kind: 'reminder', reminder: 1, maxReminders: 3, unackedMs: 600_000, paged: [] },
      },
      'Still unacknowledged: Reminder 1 of 3: still unacknowledged after 10m; paging nobody (no contact matches)',
    ],
    [{ event: 'opened', cause: null }, 'New incident'],
  ];
  for (const [page, want] of table) t.equal(describePage(page), want, `${page.event}: ${page.cause?.kind}`);
});
