import type { GroupNotification, IncidentChange } from '../../src/incidents/model.js';

// The storage floor's decision (bench-server.ts `floor`, ingest-bench.ts FLOOR=1): what the service
// stores for a new group, decided by a fixed function instead of the classifier and paging policy.

/** The rows the service writes for a group it has not seen, without classifying or paging. */
export function floorChange(n: GroupNotification): IncidentChange {
  const now = Date.now();
  const respondBy = now + 3_600_000;
  return {
    incident: {
      id: null,
      key: `${n.receiver}/${n.groupKey}`,
      receiver: n.receiver,
      groupKey: n.groupKey,
      groupLabels: n.groupLabels,
      externalUrl: n.externalUrl,
      source: 'alertmanager',
      title: n.commonLabels['alertname'] ?? n.groupKey,
      severity: 'medium',
      rule: 'floor',
      team: null,
      status: 'open',
      openedAt: now,
      respondBy,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      slaBreached: false,
      breachedAt: null,
      escalationStep: 0,
      reminders: 0,
      nextEscalationAt: null,
    },
    // Field by field, as the domain builds them: a spread of each alert cost the floor about 5 µs an alert.
    alerts: n.alerts.map((a) => ({
      fingerprint: a.fingerprint,
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorUrl: a.generatorUrl,
      severity: 'medium',
      rule: 'floor',
    })),
    timeline: [
      {
        at: now,
        kind: 'opened',
        actor: 'alertmanager',
        severity: 'medium',
        rule: 'floor',
        firing: n.alerts.length,
        respondBy,
        slaMs: respondBy - now,
      },
    ],
    pages: [{ channel: 'slack', target: '#ops', event: 'opened', severity: 'medium', mentions: [], recipients: [], cause: null, at: now }],
  };
}
