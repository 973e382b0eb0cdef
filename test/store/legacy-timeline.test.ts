import t from 'tap';
import { describeEntry } from '../../src/incidents/timeline-text.js';
import { fromLegacy } from '../../src/store/legacy-timeline.js';

const AT = Date.parse('2026-11-23T22:08:00Z');

t.test('every sentence the prose timeline wrote reads back as a typed entry that says the same', async (t) => {
  // The optional fourth element: how the entry reads now, where its words changed on purpose (times
  // are readable now: '2026-11-23 22:13 UTC').
  const sentences: [string, string, object, string?][] = [
    [
      'opened',
      'Opened as critical by rule critical-by-name with 1 firing alert; respond by 2026-11-23T22:13:00.000Z (5m SLA)',
      { actor: 'alertmanager', firing: 1, slaMs: 300_000 },
      'Opened as critical by rule critical-by-name with 1 firing alert; respond by 2026-11-23 22:13 UTC (5m SLA)',
    ],
    [
      'opened',
      'Opened as high by rule high-by-name with 2 firing alerts; respond by 2026-11-23T23:08:00.000Z (1h SLA)',
      { severity: 'high', firing: 2 },
      'Opened as high by rule high-by-name with 2 firing alerts; respond by 2026-11-23 23:08 UTC (1h SLA)',
    ],
    [
      'alert_firing',
      'DDoSAttack (c0ffee) firing, critical by rule critical-by-name',
      { alertname: 'DDoSAttack', fingerprint: 'c0ffee', severity: 'critical' },
    ],
    ['alert_resolved', 'DDoSAttack (c0ffee) resolved', { alertname: 'DDoSAttack', fingerprint: 'c0ffee' }],
    [
      'severity_raised',
      'Severity raised from low to critical by rule critical-by-name (alert c)',
      { from: 'low', to: 'critical', fingerprint: 'c' },
    ],
    [
      'severity_raised',
      'Severity raised from low to critical by rule critical-by-name (alert c); respond by 2026-11-23T22:23:00.000Z (5m SLA)',
      { respondBy: Date.parse('2026-11-23T22:23:00Z'), slaMs: 300_000 },
      'Severity raised from low to critical by rule critical-by-name (alert c); respond by 2026-11-23 22:23 UTC (5m SLA)',
    ],
    [
      'sla_breached',
      'No acknowledgement within the critical response time (deadline 2026-11-23T22:13:00.000Z)',
      { actor: 'system', lateMs: 0 },
      'No acknowledgement within the critical response time (deadline 2026-11-23 22:13 UTC)',
    ],
    [
      'sla_breached',
      'No acknowledgement within the critical response time (deadline 2026-11-23T22:13:00.000Z); detected 1h55m late',
      { lateMs: 6_900_000 },
      'No acknowledgement within the critical response time (deadline 2026-11-23 22:13 UTC); detected 1h55m late',
    ],
    ['acknowledged', 'Acknowledged by alice: on it', { actor: 'alice', by: 'alice', via: 'api', note: 'on it' }],
    ['acknowledged', 'Acknowledged by alice', { by: 'alice' }],
    ['acknowledged', 'Acknowledged by alice when resolving', { whenResolving: true }],
    ['resolved', 'Resolved by bob: restarted: the pod, twice', { by: 'bob', note: 'restarted: the pod, twice' }],
    ['resolved', 'Resolved automatically: all 3 alerts resolved', { actor: 'alertmanager', via: 'alertmanager', alerts: 3 }],
    ['alerts_truncated', 'Alertmanager left out 7 alerts of this group (max_alerts); set max_alerts: 0 to receive all', { count: 7 }],
    [
      'escalated',
      'Escalated (step 1 of 2, 5m without acknowledgement): paging Alice Martin, Bob Chen',
      { step: 1, steps: 2, paged: [{ name: 'Alice Martin' }, { name: 'Bob Chen' }] },
    ],
    [
      'reminder',
      'Reminder 2 of 12: still unacknowledged after 25m; paging nobody (no contact matches)',
      { reminder: 2, maxReminders: 12, paged: [] },
    ],
    ['paged', 'Slack #incidents: opened', { channel: 'slack', target: '#incidents', event: 'opened', outcome: 'sent' }],
    ['paged', 'Slack #incidents: severity raised, mentioning 2', { event: 'severity_raised', recipients: { length: 2 } }],
    [
      'paged',
      'E-mail to a@x, b@y: sla breached (found already delivered after a restart)',
      { channel: 'email', recipients: ['a@x', 'b@y'], event: 'sla_breached', outcome: 'found' },
      'E-mail to a@x, b@y: sla breached (found already delivered, not sent again)',
    ],
    ['paged', 'Slack #incidents: in a digest of 40 pages (alert storm)', { outcome: 'folded', digestOf: 40 }],
    [
      'page_failed',
      'Slack #alerts: not sent, Slack is not configured (SLACK_BOT_TOKEN unset)',
      { outcome: 'skipped', reason: 'Slack is not configured (SLACK_BOT_TOKEN unset)' },
      'Slack #alerts: skipped (not sent): Slack is not configured (SLACK_BOT_TOKEN unset)',
    ],
    ['page_failed', 'Slack #alerts: Slack: channel_not_found (not retried)', { outcome: 'failed', reason: 'Slack: channel_not_found' }],
    ['page_failed', 'E-mail to a@x: SMTP unreachable: ECONNREFUSED (gave up after 15 attempts)', { outcome: 'gave_up', attempts: 15 }],
    ['page_failed', 'E-mail to carol@example.com: rejected by the mail server', { outcome: 'rejected', recipients: ['carol@example.com'] }],
  ];
  for (const [kind, sentence, fields, now] of sentences) {
    const entry = fromLegacy(kind, sentence, AT);
    t.match(entry, { at: AT, kind, ...fields }, `${kind}: fields of "${sentence}"`);
    t.equal(describeEntry(entry), now ?? sentence, `${kind}: the same words`);
  }
});

t.test('what the old version cannot have written is kept word for word as a note', async (t) => {
  const odd = [
    ['opened', 'Opened somehow'],
    ['mystery', 'a kind nobody knows'],
    ['sla_breached', 'No acknowledgement by yesterday'],
    ['opened', 'Opened as bogus by rule r with 1 firing alert; respond by 2026-11-23T22:13:00.000Z (5m SLA)'],
    ['paged', 'Slack #x: weird words'],
    ['sla_breached', 'No acknowledgement within the critical response time (deadline 2026-11-23T22:13:00.000Z); detected 90x late'],
  ] as const;
  for (const [kind, sentence] of odd) {
    t.same(fromLegacy(kind, sentence, AT), { at: AT, actor: 'system', kind: 'note', text: sentence, legacy: true }, kind);
  }
});

t.test("Slack's buttons wrote their channel into the note; it becomes the via", async (t) => {
  const e = fromLegacy('acknowledged', 'Acknowledged by Alice Martin: from Slack', AT);
  t.same(e, { at: AT, actor: 'Alice Martin', kind: 'acknowledged', by: 'Alice Martin', via: 'slack', legacy: true });
  t.equal(describeEntry(e), 'Acknowledged by Alice Martin in Slack');
});
