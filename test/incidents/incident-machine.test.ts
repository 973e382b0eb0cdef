import t from 'tap';
import { acknowledge, applyNotification, resolve, sweepBreach } from '../../src/incidents/incident-machine.js';
import type { Alert, IncidentChange, IncidentState, IncomingAlert } from '../../src/incidents/model.js';
import type { Responder } from '../../src/incidents/timeline.js';
import { describeEntry } from '../../src/incidents/timeline-text.js';
import { decisionContext, groupNotification, incomingAlert, T0 } from '../helpers.js';

const ALICE: Responder = { name: 'alice', via: 'api' };
const BOB: Responder = { name: 'bob', via: 'api' };

const MIN = 60_000;
const ctx = decisionContext;
const incoming = incomingAlert;
const notification = groupNotification;

/** The state the store would hold after committing `change` (with id 1). */
function stateAfter(prev: IncidentState | null, change: IncidentChange): IncidentState {
  const alerts = new Map<string, Alert>(prev?.alerts ?? []);
  for (const a of change.alerts) alerts.set(a.fingerprint, a);
  return { incident: { ...change.incident, id: change.incident.id ?? 1 }, alerts };
}

function open(alerts: IncomingAlert[]): IncidentState {
  const change = applyNotification(null, null, notification(alerts), ctx())!;
  return stateAfter(null, change);
}

t.test('a firing group opens an incident with the SLA of its most severe alert', async (t) => {
  const change = applyNotification(null, null, notification([incoming('a', 'SlowAPI'), incoming('b', 'ServiceDown')]), ctx())!;
  t.equal(change.incident.status, 'open');
  t.equal(change.incident.severity, 'high');
  t.equal(change.incident.rule, 'high-by-name');
  t.equal(change.incident.respondBy, T0 + 60 * MIN);
  t.equal(change.incident.key, 'triage/{}:{alertname="X"}');
  t.equal(change.alerts.length, 2);
  t.same(
    change.timeline.map((e) => e.kind),
    ['opened'],
  );
});

t.test('a resolved-only notification for an unknown group opens nothing', async (t) => {
  t.equal(applyNotification(null, null, notification([incoming('a', 'X', 'resolved')]), ctx()), null);
});

t.test('re-delivery of the same notification changes nothing', async (t) => {
  const alerts = [incoming('a', 'ServiceDown'), incoming('b', 'ServiceDown', 'resolved')];
  const state = open(alerts);
  t.equal(applyNotification(state, null, notification(alerts), ctx(T0 + 5 * MIN)), null);
});

t.test('mixed firing and resolved: the resolved one is recorded, the incident stays open', async (t) => {
  const state = open([incoming('a', 'ServiceDown'), incoming('b', 'ServiceDown')]);
  const change = applyNotification(
    state,
    null,
    notification([incoming('a', 'ServiceDown'), incoming('b', 'ServiceDown', 'resolved')]),
    ctx(T0 + MIN),
  )!;
  t.equal(change.incident.status, 'open');
  t.same(
    change.alerts.map((a) => [a.fingerprint, a.status]),
    [['b', 'resolved']],
  );
  t.same(
    change.timeline.map((e) => e.kind),
    ['alert_resolved'],
  );
});

t.test('when every alert resolves, the incident resolves itself', async (t) => {
  let state = open([incoming('a', 'ServiceDown'), incoming('b', 'ServiceDown')]);
  state = stateAfter(state, applyNotification(state, null, notification([incoming('b', 'ServiceDown', 'resolved')]), ctx(T0 + MIN))!);
  const change = applyNotification(state, null, notification([incoming('a', 'ServiceDown', 'resolved')]), ctx(T0 + 2 * MIN))!;
  t.equal(change.incident.status, 'resolved');
  t.equal(change.incident.resolvedAt, T0 + 2 * MIN);
  t.equal(change.incident.resolvedBy, 'alertmanager');
  t.same(
    change.timeline.map((e) => e.kind),
    ['alert_resolved', 'resolved'],
  );
  t.match(change.timeline[1], { kind: 'resolved', actor: 'alertmanager', by: 'alertmanager', via: 'alertmanager', alerts: 2 });
  t.equal(describeEntry(change.timeline[1]!), 'Resolved automatically: all 2 alerts resolved');
});

t.test('a group firing again after resolution opens a new incident; a late re-delivery does not', async (t) => {
  const first = open([incoming('a', 'ServiceDown')]);
  const closed = stateAfter(
    first,
    applyNotification(first, null, notification([incoming('a', 'ServiceDown', 'resolved')]), ctx(T0 + MIN))!,
  );
  // The same firing alert (same startsAt) delivered late, e.g. by the second Alertmanager of an HA pair.
  t.equal(applyNotification(null, closed, notification([incoming('a', 'ServiceDown')]), ctx(T0 + 2 * MIN)), null);
  // A new active period: a new startsAt.
  const refire = applyNotification(null, closed, notification([incoming('a', 'ServiceDown', 'firing', T0 + 3 * MIN)]), ctx(T0 + 4 * MIN))!;
  t.equal(refire.incident.id, null, 'a new incident');
  t.equal(refire.incident.openedAt, T0 + 4 * MIN);
});

t.test('a resolved alert reported firing with its old startsAt is stale; with a new one it re-fires', async (t) => {
  let state = open([incoming('a', 'ServiceDown'), incoming('b', 'ServiceDown')]);
  state = stateAfter(state, applyNotification(state, null, notification([incoming('b', 'ServiceDown', 'resolved')]), ctx(T0 + MIN))!);
  t.equal(applyNotification(state, null, notification([incoming('b', 'ServiceDown')]), ctx(T0 + 2 * MIN)), null);
  const change = applyNotification(state, null, notification([incoming('b', 'ServiceDown', 'firing', T0 + 2 * MIN)]), ctx(T0 + 3 * MIN))!;
  t.same(
    change.timeline.map((e) => e.kind),
    ['alert_firing'],
  );
  t.equal(change.alerts[0]!.status, 'firing');
});

t.test('a more severe alert raises the severity and tightens the deadline; it never lowers', async (t) => {
  const state = open([incoming('a', 'SlowAPI')]);
  t.equal(state.incident.severity, 'low');
  t.equal(state.incident.respondBy, T0 + 24 * 60 * MIN);
  const up = applyNotification(state, null, notification([incoming('a', 'SlowAPI'), incoming('c', 'DDoSAttack')]), ctx(T0 + 10 * MIN))!;
  t.equal(up.incident.severity, 'critical');
  t.equal(up.incident.rule, 'critical-by-name');
  t.equal(up.incident.respondBy, T0 + 15 * MIN, 'upgrade time + 5m');
  t.same(
    up.timeline.map((e) => e.kind),
    ['alert_firing', 'severity_raised'],
  );
  t.match(up.timeline[1], {
    kind: 'severity_raised',
    actor: 'alertmanager',
    from: 'low',
    to: 'critical',
    rule: 'critical-by-name',
    fingerprint: 'c',
    respondBy: T0 + 15 * MIN,
    slaMs: 5 * MIN,
  });
  t.match(
    describeEntry(up.timeline[1]!),
    /^Severity raised from low to critical by rule critical-by-name \(alert c\); respond by 2026-11-23 22:23 UTC \(5m SLA\)$/,
  );

  const upState = stateAfter(state, up);
  const calmer = applyNotification(
    upState,
    null,
    notification([incoming('c', 'DDoSAttack', 'resolved'), incoming('d', 'HighErrorRate')]),
    ctx(T0 + 11 * MIN),
  )!;
  t.equal(calmer.incident.severity, 'critical', 'does not lower by itself');
  t.notOk(calmer.timeline.some((e) => e.kind === 'severity_raised'));
});

t.test('the SLA is breached when the deadline passes without an acknowledgement', async (t) => {
  const state = open([incoming('a', 'DDoSAttack')]);
  t.equal(sweepBreach(state.incident, T0 + 4 * MIN), null, 'not yet');
  const change = sweepBreach(state.incident, T0 + 5 * MIN)!;
  t.equal(change.incident.slaBreached, true);
  t.equal(change.incident.breachedAt, T0 + 5 * MIN);
  t.same(
    change.timeline.map((e) => [e.kind, e.at]),
    [['sla_breached', T0 + 5 * MIN]],
  );
  t.equal(sweepBreach(change.incident, T0 + 6 * MIN), null, 'only once');
});

t.test('acknowledging before the deadline keeps the SLA; after, records the breach first', async (t) => {
  const state = open([incoming('a', 'DDoSAttack')]);
  const early = acknowledge(state.incident, ALICE, 'on it', T0 + 2 * MIN)!;
  t.equal(early.incident.status, 'acknowledged');
  t.equal(early.incident.slaBreached, false);
  t.same(
    early.timeline.map((e) => e.kind),
    ['acknowledged'],
  );
  t.same(early.timeline[0], { at: T0 + 2 * MIN, actor: 'alice', kind: 'acknowledged', by: 'alice', via: 'api', note: 'on it' });
  t.equal(describeEntry(early.timeline[0]!), 'Acknowledged by alice: on it');
  t.equal(acknowledge(early.incident, BOB, undefined, T0 + 3 * MIN), null, 'idempotent');
  t.equal(sweepBreach(early.incident, T0 + 60 * MIN), null, 'an acknowledged incident is never breached');

  const late = acknowledge(state.incident, ALICE, undefined, T0 + 7 * MIN)!;
  t.equal(late.incident.slaBreached, true);
  t.same(
    late.timeline.map((e) => e.kind),
    ['sla_breached', 'acknowledged'],
  );
});

t.test('resolving by hand counts as the response and is idempotent; acknowledging a resolved incident conflicts', async (t) => {
  const state = open([incoming('a', 'ServiceDown')]);
  const done = resolve(state.incident, ALICE, 'restarted', T0 + MIN)!;
  t.equal(done.incident.status, 'resolved');
  t.equal(done.incident.acknowledgedBy, 'alice');
  t.same(
    done.timeline.map((e) => e.kind),
    ['acknowledged', 'resolved'],
  );
  t.equal(resolve(done.incident, BOB, undefined, T0 + 2 * MIN), null);
  t.throws(() => acknowledge(done.incident, BOB, undefined, T0 + 2 * MIN), { name: 'TransitionConflict' });
});

t.test('an upgrade on an acknowledged incident keeps its deadline', async (t) => {
  const state = open([incoming('a', 'SlowAPI')]);
  const acked = stateAfter(state, acknowledge(state.incident, ALICE, undefined, T0 + MIN)!);
  const up = applyNotification(acked, null, notification([incoming('c', 'DDoSAttack')]), ctx(T0 + 2 * MIN))!;
  t.equal(up.incident.severity, 'critical');
  t.equal(up.incident.status, 'acknowledged');
  t.equal(up.incident.respondBy, state.incident.respondBy);
});

t.test('truncation is noted when a notification changes something, not on re-delivery', async (t) => {
  const opened = applyNotification(null, null, notification([incoming('a', 'ServiceDown')], { truncatedAlerts: 7 }), ctx())!;
  t.same(
    opened.timeline.map((e) => e.kind),
    ['opened', 'alerts_truncated'],
  );
  t.match(opened.timeline[1], { kind: 'alerts_truncated', actor: 'alertmanager', count: 7 });
  const state = stateAfter(null, opened);
  t.equal(applyNotification(state, null, notification([incoming('a', 'ServiceDown')], { truncatedAlerts: 7 }), ctx(T0 + MIN)), null);
});

t.test('many alerts changed by one notification: one entry that counts them, not one each', async (t) => {
  const state = open([incoming('a', 'ServiceDown')]);
  const many = Array.from({ length: 40 }, (_, i) => incoming(`d${i}`, i < 30 ? 'DiskFull' : 'CPUHigh'));
  const change = applyNotification(state, null, groupNotification([incoming('a', 'ServiceDown'), ...many]), decisionContext(T0 + MIN))!;
  t.equal(change.alerts.length, 40, 'every alert is kept');
  const entries = change.timeline.filter((e) => e.kind.startsWith('alert'));
  t.same(
    entries.map((e) => e.kind),
    ['alerts_changed'],
  );
  t.match(entries[0], {
    firing: 40,
    resolved: 0,
    alertnames: [
      { alertname: 'DiskFull', count: 30 },
      { alertname: 'CPUHigh', count: 10 },
    ],
  });
  t.equal(describeEntry(entries[0]!), '40 alerts firing (DiskFull ×30, CPUHigh ×10)');
  const few = applyNotification(
    state,
    null,
    groupNotification([incoming('a', 'ServiceDown'), ...many.slice(0, 10)]),
    decisionContext(T0 + MIN),
  )!;
  t.equal(few.timeline.filter((e) => e.kind === 'alert_firing').length, 10, 'ten or fewer: one entry each, as before');
});
