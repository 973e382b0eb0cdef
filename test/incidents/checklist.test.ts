import t from 'tap';
import {
  checklistFor,
  checklistStatus,
  firstResponse,
  latestReview,
  parseChecklists,
  PLAN_CHECKLISTS,
} from '../../src/incidents/checklist.js';
import type { TimelineEntry } from '../../src/incidents/timeline.js';
import { shippedConfig } from '../helpers.js';
import { toLabels } from '../../src/classify/labels.js';

const fail = (key: string, message: string): never => {
  throw new Error(`${key}: ${message}`);
};

t.test("the plan's steps per severity, then the After any incident list; a Critical's playbook by its rule's category", async (t) => {
  const c = parseChecklists(
    undefined,
    [{ name: 'exfil', category: 'security' }, { name: 'site-down', category: 'availability' }, { name: 'plain' }],
    fail,
  );
  const critical = checklistFor(c, { severity: 'critical', rule: 'exfil' });
  t.same(
    critical.map((s) => s.section),
    [
      'Immediate actions (first 5 minutes)',
      'Containment (first hour)',
      'Investigation (first 24 hours)',
      'Recovery (hour 4+)',
      'After any incident',
    ],
    'a security rule: the breach playbook',
  );
  t.equal(critical.flatMap((s) => s.steps).length, 14 + 10);
  t.same(checklistFor(c, { severity: 'high', rule: 'x' })[0]!.steps.length, 5);
  t.same(firstResponse(c, { severity: 'critical', rule: 'exfil' })[0], 'STOP: take the affected systems offline');
  const cases: [string, string][] = [
    ['site-down', 'an availability rule'],
    ['plain', 'a rule that names no category'],
    ['label:severity', 'the severity label alone'],
  ];
  for (const [rule, name] of cases) {
    const steps = checklistFor(c, { severity: 'critical', rule });
    t.equal(steps[0]!.section, 'Outage response (immediately)', `${name}: the outage playbook`);
    t.notOk(
      steps.flatMap((s) => s.steps).some((s) => /offline|REVOKE|FORENSICS/.test(s)),
      `${name}: no breach steps`,
    );
    t.ok(
      steps[0]!.steps.some((s) => /status update if it stays down over 15 minutes/.test(s)),
      `${name}: the status update after 15 minutes`,
    );
  }
});

t.test('a rule override replaces the severity steps; its name must be a rule', async (t) => {
  const c = parseChecklists({ rules: { budget: [{ section: 'Response', steps: ['ROLL BACK'] }] } }, [{ name: 'budget' }], fail);
  t.same(firstResponse(c, { severity: 'critical', rule: 'budget' }), ['ROLL BACK']);
  t.same(
    checklistFor(c, { severity: 'critical', rule: 'budget' }).map((s) => s.section),
    ['Response', 'After any incident'],
  );
  t.throws(
    () => parseChecklists({ rules: { nope: [{ section: 'S', steps: ['a'] }] } }, [{ name: 'budget' }], fail),
    /checklists.rules.nope: no classification rule is named "nope"/,
  );
  t.throws(() => parseChecklists({ low: [{ section: 'S', steps: ['a', 'a'] }] }, [], fail), /checklists.low: the step "a" appears twice/);
});

t.test('the shipped config keeps the breach playbook off an error-budget alert', async (t) => {
  const { checklists, classify } = shippedConfig;
  const decided = classify(toLabels({ alertname: 'CheckoutErrorBudgetBurn', severity: 'critical' }));
  t.equal(decided.rule, 'error-budget');
  const steps = checklistFor(checklists, { severity: decided.severity, rule: decided.rule }).flatMap((s) => s.steps);
  t.notOk(
    steps.some((s) => /offline/i.test(s)),
    'no "take systems offline"',
  );
  t.ok(
    checklistFor(checklists, { severity: 'critical', rule: 'data-exposed' })[0]!.steps[0]!.startsWith('STOP'),
    'a breach keeps the breach playbook',
  );
  const outage = classify(toLabels({ alertname: 'PaymentsAPIDown', severity: 'critical' }));
  t.equal(
    checklistFor(checklists, { severity: 'critical', rule: outage.rule })[0]!.section,
    'Outage response (immediately)',
    'PaymentsAPIDown: the outage playbook',
  );
  const exfil = classify(toLabels({ alertname: 'DataExfiltrationSuspected', severity: 'critical' }));
  t.ok(
    checklistFor(checklists, { severity: 'critical', rule: exfil.rule })[0]!.steps[0]!.startsWith('STOP'),
    'an exfiltration by name: the breach playbook',
  );
  t.not(PLAN_CHECKLISTS.bySeverity.critical, undefined);
});

t.test('status and review are read from the timeline, the latest entry standing', async (t) => {
  const e = (at: number, extra: object) => ({ at, actor: 'carol', ...extra }) as TimelineEntry;
  const timeline = [
    e(1, { kind: 'checklist', step: 'STOP', state: 'done' }),
    e(2, { kind: 'checklist', step: 'ASSESS', state: 'problem', note: 'no logs' }),
    e(3, { kind: 'review', rootCause: 'a', impact: 'b', prevention: 'c' }),
    e(4, { kind: 'checklist', step: 'STOP', state: 'undone' }),
    e(5, { kind: 'review', rootCause: 'A', impact: 'B', prevention: 'C' }),
  ];
  const status = checklistStatus(timeline);
  t.same(status.get('STOP'), { state: 'undone', actor: 'carol', at: 4 });
  t.same(status.get('ASSESS'), { state: 'problem', actor: 'carol', at: 2, note: 'no logs' });
  t.same(latestReview(timeline), { rootCause: 'A', impact: 'B', prevention: 'C', actor: 'carol', at: 5 });
  t.equal(latestReview([]), null);
});

t.test("the shipped config gives security risks the security checklist's sections 3 to 6", async (t) => {
  const sections = checklistFor(shippedConfig.checklists, { severity: 'high', rule: 'security-risk' });
  t.same(
    sections.map((s) => s.section),
    ['Detection and verification', 'Containment', 'Eradication and recovery', 'Post-incident documentation', 'After any incident'],
  );
  t.equal(
    checklistFor(shippedConfig.checklists, { severity: 'high', rule: 'service-down' })[0]!.steps[0],
    'IDENTIFY: which service is down',
  );
});
