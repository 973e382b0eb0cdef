import t from 'tap';
import { escalate, resolveTargets, withPages } from '../../src/paging/paging-policy.js';
import { acknowledge, applyNotification, sweepBreach } from '../../src/incidents/incident-machine.js';
import type { Incident } from '../../src/incidents/model.js';
import { describeEntry } from '../../src/incidents/timeline-text.js';
import { toLabels } from '../../src/classify/labels.js';
import { parseConfig } from '../../src/config/load-config.js';
import { teamFor } from '../../src/paging/paging-config.js';
import { decisionContext, groupNotification, incomingAlert, shippedConfig, shippedConfigText, T0, TEAMS_YAML } from '../helpers.js';

const paging = shippedConfig.paging;
const MIN = 60_000;
// Wednesday 2026-03-25: alice is on call (see test/api/oncall-routes.test.ts).
const T = Date.parse('2026-03-25T12:00:00Z');

function opened(name: string): { incident: Incident; pages: NonNullable<ReturnType<typeof withPages>>['pages'] } {
  const change = withPages(applyNotification(null, null, groupNotification([incomingAlert('a', name)]), decisionContext(T)), paging, T)!;
  return { incident: { ...change.incident, id: 1 }, pages: change.pages };
}

t.test('targets: oncall is whoever is on call then; roles expand to their contacts', async (t) => {
  t.same(
    resolveTargets(['oncall'], paging, T).map((c) => c.id),
    ['alice'],
  );
  t.same(
    resolveTargets(['oncall', 'security-lead', 'cto', 'devops'], paging, T).map((c) => c.id),
    ['alice', 'bob', 'carol', 'dan'],
    'no one twice',
  );
  t.same(
    resolveTargets(['oncall'], paging, Date.parse('2026-03-30T07:00:00Z')).map((c) => c.id),
    ['carol'],
    'after the handoff',
  );
});

t.test('a new critical incident pages its channel, its people and their inboxes; escalation is scheduled', async (t) => {
  const { incident, pages } = opened('DDoSAttack');
  t.same(pages, [
    {
      channel: 'slack',
      target: '#security-incident',
      event: 'opened',
      severity: 'critical',
      mentions: ['U0000000A01', 'U0000000B02'],
      recipients: [],
      cause: null,
      at: T,
    },
    {
      channel: 'email',
      target: 'alice@example.com, bob@example.com',
      event: 'opened',
      severity: 'critical',
      mentions: [],
      recipients: ['alice@example.com', 'bob@example.com'],
      cause: null,
      at: T,
    },
  ]);
  t.equal(incident.nextEscalationAt, T + 5 * MIN, 'first step after 5m');
});

t.test('routing by severity: medium pages on-call in Slack only; low only posts to the channel', async (t) => {
  t.same(
    opened('RateLimitSpike').pages!.map((p) => [p.channel, p.target, p.mentions]),
    [['slack', '#incidents', ['U0000000A01']]],
  );
  const low = opened('LowDiskSpace');
  t.same(
    low.pages!.map((p) => [p.channel, p.target, p.mentions]),
    [['slack', '#alerts', []]],
  );
  t.equal(low.incident.nextEscalationAt, null, 'no steps and no reminders for low');
});

t.test('escalation: steps, a breach takes the next one at once, reminders with a cap, an ack stops it', async (t) => {
  let { incident } = opened('DDoSAttack');
  t.equal(escalate(incident, paging, T + 4 * MIN), null, 'not due yet');

  // The SLA deadline (5m) passes: the breach makes the next step due now.
  const breach = withPages(sweepBreach(incident, T + 5 * MIN), paging, T + 5 * MIN)!;
  t.same(
    breach.pages!.map((p) => [p.event, p.target]),
    [['sla_breached', '#security-incident']],
  );
  incident = breach.incident;
  t.equal(incident.nextEscalationAt, T + 5 * MIN);

  const step1 = escalate(incident, paging, T + 5 * MIN)!;
  t.same(step1.timeline, [
    {
      at: T + 5 * MIN,
      actor: 'system',
      kind: 'escalated',
      step: 1,
      steps: 2,
      unackedMs: 5 * MIN,
      paged: [
        { id: 'alice', name: 'Alice Martin' },
        { id: 'bob', name: 'Bob Chen' },
      ],
    },
  ]);
  t.equal(describeEntry(step1.timeline[0]!), 'Escalated (step 1 of 2, 5m without acknowledgement): paging Alice Martin, Bob Chen');
  t.same(
    step1.pages!.map((p) => p.cause),
    [step1.timeline[0], step1.timeline[0]],
    'each page carries the entry it tells about',
  );
  t.same(
    step1.pages!.map((p) => [p.channel, p.event, p.channel === 'slack' ? p.mentions : p.recipients]),
    [
      ['slack', 'escalated', ['U0000000A01', 'U0000000B02']],
      ['email', 'escalated', ['alice@example.com', 'bob@example.com']],
    ],
  );
  incident = step1.incident;
  t.equal(incident.nextEscalationAt, T + 15 * MIN);
  const step2 = escalate(incident, paging, T + 15 * MIN)!;
  t.match(describeEntry(step2.timeline[0]!), /step 2 of 2.*Bob Chen, Carol Diaz, Dan Okafor/);
  incident = step2.incident;

  // Then reminders every 5m, twelve at most.
  let reminders = 0;
  let now = T + 15 * MIN;
  while (incident.nextEscalationAt !== null && reminders < 20) {
    now = incident.nextEscalationAt;
    const r = escalate(incident, paging, now)!;
    t.equal(r.timeline[0]!.kind, 'reminder');
    incident = r.incident;
    reminders++;
  }
  t.equal(reminders, 12, 'capped at maxReminders');
  t.equal(now, T + 15 * MIN + 12 * 5 * MIN);

  // An acknowledgement clears the schedule: nothing more is due.
  const fresh = opened('DDoSAttack').incident;
  const ack = withPages(acknowledge(fresh, { name: 'alice', via: 'api' }, undefined, T + MIN), paging, T + MIN)!;
  t.equal(ack.incident.nextEscalationAt, null);
  t.same(
    ack.pages!.map((p) => [p.channel, p.event]),
    [['slack', 'acknowledged']],
  );
  t.equal(escalate(ack.incident, paging, T + 60 * MIN), null);
});

t.test("teams: an incident is routed by its labels and paged by its team's on-call, routing and escalation", async (t) => {
  const teams = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');
  const ctx = { ...decisionContext(T0), teamOf: (sets: Parameters<typeof teamFor>[1]) => teamFor(teams.paging.teams, sets)?.id ?? null };
  const open = (team: string | undefined, name = 'ServiceDown') => {
    const alert = incomingAlert('a', name);
    const labelled = { ...alert, labels: toLabels({ ...alert.labels, ...(team ? { team } : {}) }) };
    return withPages(applyNotification(null, null, groupNotification([labelled]), ctx), teams.paging, T0)!;
  };
  // At T0 (Monday 2026-11-23 22:08Z) payments has alice on call, platform carol, the top level dan.
  const payments = open('payments');
  t.equal(payments.incident.team, 'payments');
  t.same(
    payments.pages!.map((p) => [p.channel, p.target]),
    [
      ['slack', '#payments'],
      ['email', 'alice@example.com'],
    ],
  );
  const platform = open('infra');
  t.equal(platform.incident.team, 'platform');
  t.same(
    platform.pages!.map((p) => [p.channel, p.target]),
    [
      ['slack', '#incidents'],
      ['email', 'carol@example.com, dan@example.com'],
    ],
    "the top level's high route, with the team's on-call",
  );
  const none = open(undefined);
  t.equal(none.incident.team, null);
  t.same(
    none.pages!.map((p) => [p.channel, p.target]),
    [
      ['slack', '#incidents'],
      ['email', 'dan@example.com, carol@example.com'],
    ],
    'no team: exactly as before',
  );

  // The platform team escalates high after 10 minutes to the CTO; the top level has no high steps.
  t.equal(platform.incident.nextEscalationAt, T0 + 10 * MIN);
  const step = escalate({ ...platform.incident, id: 2 }, teams.paging, T0 + 10 * MIN)!;
  t.match(step.timeline, [{ kind: 'escalated', step: 1, steps: 1, paged: [{ id: 'bob' }] }]);

  // A run-time override for payments pages bob instead of alice; one for another rotation changes nothing here.
  const overrides = [
    { id: 1, team: 'payments', contact: 'bob', from: T0 - MIN, to: T0 + 60 * MIN, by: 'bob', createdAt: T0 - MIN, covers: null },
    { id: 2, team: null, contact: 'alice', from: T0 - MIN, to: T0 + 60 * MIN, by: 'alice', createdAt: T0 - MIN, covers: null },
  ];
  const alert = incomingAlert('b', 'ServiceDown');
  const overridden = withPages(
    applyNotification(null, null, groupNotification([{ ...alert, labels: toLabels({ ...alert.labels, team: 'payments' }) }]), ctx),
    teams.paging,
    T0,
    { overrides },
  )!;
  t.same(
    overridden.pages!.map((p) => p.target),
    ['#payments', 'bob@example.com'],
  );
  const topOverridden = withPages(
    applyNotification(null, null, groupNotification([incomingAlert('c', 'ServiceDown')]), ctx),
    teams.paging,
    T0,
    { overrides },
  )!;
  t.same(
    topOverridden.pages!.map((p) => p.target),
    ['#incidents', 'alice@example.com, carol@example.com, dan@example.com'],
    "the top level's override puts alice on call",
  );
});

t.test('an incident keeps its team through a reload that removes the team: it falls back to the top level', async (t) => {
  const incident = { ...opened('ServiceDown').incident, team: 'gone' };
  const ack = withPages(acknowledge(incident, { name: 'alice', via: 'api' }, undefined, T + MIN), paging, T + MIN)!;
  t.equal(ack.incident.team, 'gone', 'the team stays recorded');
  t.same(
    ack.pages!.map((p) => p.target),
    ['#incidents'],
    "paged by the top level's route",
  );
});
