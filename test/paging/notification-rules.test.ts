import t from 'tap';
import { DEFAULT_RULES, effectiveRules, personalRulesProblem, personalSteps } from '../../src/paging/notification-rules.js';
import {
  addMethod,
  markFailed,
  markWorking,
  NO_SETTINGS,
  reachOn,
  setRules,
  verifyMethod,
  type PersonSettings,
} from '../../src/paging/contact-methods.js';

const M = 60_000;

t.test('the shipped defaults follow the plan: Critical calls, High texts, Medium and Low never ring a phone', async (t) => {
  t.same(personalSteps(DEFAULT_RULES, 'critical'), [
    { step: { method: 'sms', afterMs: 0 }, lastOfMethod: true },
    { step: { method: 'voice', afterMs: M }, lastOfMethod: false },
    { step: { method: 'voice', afterMs: 5 * M }, lastOfMethod: true },
  ]);
  t.same(personalSteps(DEFAULT_RULES, 'high'), [{ step: { method: 'sms', afterMs: 0 }, lastOfMethod: true }]);
  t.same(personalSteps(DEFAULT_RULES, 'medium'), []);
  t.same(personalSteps(DEFAULT_RULES, 'low'), []);
});

t.test('a person may tighten their rules but never turn a Critical into silence', async (t) => {
  const table: [string, Parameters<typeof personalRulesProblem>[1], RegExp | undefined][] = [
    ['nothing of their own', {}, undefined],
    ['a Critical silenced', { critical: [] }, /cannot be silenced/],
    ['a Critical without its calls', { critical: [{ method: 'sms', afterMs: 0 }] }, /must keep voice at 1m/],
    [
      'the call later than the team’s',
      {
        critical: [
          { method: 'slack', afterMs: 0 },
          { method: 'sms', afterMs: 0 },
          { method: 'voice', afterMs: 2 * M },
          { method: 'voice', afterMs: 5 * M },
        ],
      },
      /voice at 1m/,
    ],
    [
      'sooner and more',
      {
        critical: [
          { method: 'slack', afterMs: 0 },
          { method: 'sms', afterMs: 0 },
          { method: 'voice', afterMs: 0 },
          { method: 'voice', afterMs: 2 * M },
          { method: 'ntfy', afterMs: 0 },
        ],
      },
      undefined,
    ],
    ['High loosened (allowed)', { high: [] }, undefined],
    ['a new channel as a method', { medium: [{ method: 'ntfy', afterMs: 0 }] }, undefined],
  ];
  for (const [name, rules, problem] of table) {
    const found = personalRulesProblem(DEFAULT_RULES, rules);
    if (problem) t.match(found, problem, name);
    else t.equal(found, undefined, name);
  }
  t.same(effectiveRules(DEFAULT_RULES, { critical: [] }), DEFAULT_RULES, 'rules that loosen a Critical do not apply');
  t.same(
    effectiveRules(DEFAULT_RULES, {
      high: [
        { method: 'voice', afterMs: 2 * M },
        { method: 'sms', afterMs: 0 },
      ],
    }).high,
    [
      { method: 'sms', afterMs: 0 },
      { method: 'voice', afterMs: 2 * M },
    ],
  );
  t.match(setRules(NO_SETTINGS, DEFAULT_RULES, { critical: [] }), { problem: /silenced/ });
});

t.test('a number added by a person is paged only once verified; a failed one is skipped until fixed', async (t) => {
  const carol = { id: 'carol', name: 'Carol', roles: [], phone: '+33600000003' };
  const dan = { id: 'dan', name: 'Dan', roles: [] };
  t.match(addMethod(NO_SETTINGS, 'sms', '0612', '123456', 0), { problem: /E\.164/ });
  let s = addMethod(NO_SETTINGS, 'sms', '+33611111111', '123456', 0) as PersonSettings;
  t.equal(reachOn(dan, 'sms', s), undefined, 'not verified yet: not paged');
  t.match(verifyMethod(s, 'sms', '+33611111111', '000000', 1000), { verified: false, problem: 'wrong code' });
  const late = verifyMethod(s, 'sms', '+33611111111', '123456', 11 * 60_000);
  t.match(late, { verified: false, problem: /expired/ });
  const v = verifyMethod(s, 'sms', '+33611111111', '123456', 1000);
  t.ok(v.verified);
  s = v.settings;
  t.same(reachOn(dan, 'sms', s), { address: '+33611111111' });

  t.same(reachOn(carol, 'voice', NO_SETTINGS), { address: '+33600000003' }, 'the config’s number');
  const stopped = markFailed(NO_SETTINGS, 'sms', '+33600000003', 'replied STOP', 5);
  t.same(reachOn(carol, 'sms', stopped), { address: '+33600000003', skipped: 'sms +33600000003 failed: replied STOP' });
  t.same(reachOn(carol, 'voice', stopped), { address: '+33600000003' }, 'calls still go');
  t.same(markWorking(stopped, 'sms', '+33600000003'), NO_SETTINGS, 'START clears it');
  const both = markFailed(s, 'sms', '+33611111111', 'invalid', 5);
  t.match(reachOn(dan, 'sms', both), { skipped: /invalid/ });

  let tries = addMethod(NO_SETTINGS, 'sms', '+33622222222', '111111', 0) as PersonSettings;
  for (let i = 0; i < 5; i++) tries = verifyMethod(tries, 'sms', '+33622222222', '999999', 1).settings;
  t.match(
    verifyMethod(tries, 'sms', '+33622222222', '111111', 2),
    { verified: false, problem: /expired/ },
    'five wrong tries end the code',
  );
});
