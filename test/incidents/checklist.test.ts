import t from 'tap';
import { checklistFor, checklistStatus, firstResponse, latestReview, parseChecklists, PLAN_CHECKLISTS } from '../../src/incidents/checklist.js';
import type { TimelineEntry } from '../../src/incidents/timeline.js';
import { shippedConfig } from '../helpers.js';
import { toLabels } from '../../src/classify/labels.js';

const fail = (key: string, message: string): never => {
  throw new Error(`${key}: ${message}`);
};

t.test("the plan's steps per severity, then the After any incident list", async (t) => {
  const c = parseChecklists(undefined, [], fail);
  const critical = checklistFor(c, { severity: 'critical', rule: 'ddos' });
  t.same(critical.map((s) => s.section), ['Immediate actions (first 5 minutes)', 'Containment (first hour)', 'Investigation (first 24 hours)', 'Recovery (hour 4+)', 'After any incident']);
  t.equal(critical.flatMap((s) => s.steps).length, 14 + 10);
  t.same(checklistFor(c, { severity: 'high', rule: 'x' })[0]!.steps.length, 5);
  t.same(firstResponse(c, { severity: 'critical', rule: 'x' })[0], 'STOP: take the affected systems offline');
});

t.test('a rule override replaces the severity steps; its name must be a rule', async (t) => {
  const c = parseChecklists({ rules: { budget: [{ section: 'Response', steps: ['ROLL BACK'] }] } }, ['budget'], fail);
  t.same(firstResponse(c, { severity: 'critical', rule: 'budget' }), ['ROLL BACK']);
  t.same(checklistFor(c, { severity: 'critical', rule: 'budget' }).map((s) => s.section), ['Response', 'After any incident']);
  t.throws(() => parseChecklists({ rules: { nope: [{ section: 'S', steps: ['a'] }] } }, ['budget'], fail), /checklists.rules.nope: no classification rule is named "nope"/);
  t.throws(() => parseChecklists({ low: [{ section: 'S', steps: ['a', 'a'] }] }, [], fail), /checklists.low: the step "a" appears twice/);
});

t.test('the shipped config keeps the breach playbook off an error-budget alert', async (t) => {
  const { checklists, classify } = shippedConfig;
  const decided = classify(toLabels({ alertname: 'CheckoutErrorBudgetBurn', severity: 'critical' }));
  t.equal(decided.rule, 'error-budget');
  const steps = checklistFor(checklists, { severity: decided.severity, rule: decided.rule }).flatMap((s) => s.steps);
  t.notOk(steps.some((s) => /offline/i.test(s)), 'no "take systems offline"');
  t.ok(checklistFor(checklists, { severity: 'critical', rule: 'ddos' })[0]!.steps[0]!.startsWith('STOP'));
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
  t.same(sections.map((s) => s.section), ['Detection and verification', 'Containment', 'Eradication and recovery', 'Post-incident documentation', 'After any incident']);
  t.equal(checklistFor(shippedConfig.checklists, { severity: 'high', rule: 'service-down' })[0]!.steps[0], 'IDENTIFY: which service is down');
});
