import t from 'tap';
import { compileClassifier, RuleError } from '../../src/classify/classifier.js';
import { toLabels } from '../../src/classify/labels.js';
import { shippedConfig } from '../helpers.js';

t.test('first matching rule wins, explicit label overrides, default otherwise', async (t) => {
  const classify = compileClassifier({
    severityLabel: 'triage_severity',
    defaultSeverity: 'low',
    rules: [
      { name: 'db', severity: 'critical', matchers: ['job="postgres"', 'alertname=~".*Down"'] },
      { name: 'any-down', severity: 'high', matchers: ['alertname=~".*Down"'] },
    ],
  });
  const table: [Record<string, string>, string, string][] = [
    [{ alertname: 'DatabaseDown', job: 'postgres' }, 'critical', 'db'],
    [{ alertname: 'DatabaseDown', job: 'mysql' }, 'high', 'any-down'],
    [{ alertname: 'WebDown' }, 'high', 'any-down'],
    [{ alertname: 'Something' }, 'low', 'default'],
    [{ alertname: 'Something', triage_severity: 'critical' }, 'critical', 'explicit-label'],
    [{ alertname: 'WebDown', triage_severity: ' Medium ' }, 'medium', 'explicit-label'],
    // An unknown value in the explicit label is ignored rather than trusted.
    [{ alertname: 'WebDown', triage_severity: 'urgent' }, 'high', 'any-down'],
  ];
  for (const [labels, severity, rule] of table) {
    t.same(classify(toLabels(labels)), { severity, rule }, JSON.stringify(labels));
  }
});

t.test('a bad matcher names its rule and position', async (t) => {
  let caught: unknown;
  try {
    compileClassifier({
        severityLabel: 'triage_severity',
        defaultSeverity: 'low',
        rules: [
          { name: 'ok', severity: 'high', matchers: ['a="b"'] },
          { name: 'bad', severity: 'high', matchers: ['a="b"', 'c=~"("'] },
        ],
    });
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof RuleError, 'a RuleError');
  t.equal((caught as RuleError).path, 'classification.rules[1].matchers[1]');
  t.match((caught as RuleError).message, /invalid regular expression/);
});

t.test('the shipped config encodes the plan table', async (t) => {
  const table: [Record<string, string>, string][] = [
    // Critical: system down / data exposed.
    [{ alertname: 'DatabaseBreachSuspected' }, 'critical'],
    [{ alertname: 'RansomwareActivity' }, 'critical'],
    [{ alertname: 'DDoSAttack' }, 'critical'],
    [{ alertname: 'Anything', category: 'data-breach' }, 'critical'],
    [{ alertname: 'Anything', category: 'ddos' }, 'critical'],
    [{ alertname: 'Anything', category: 'system-down' }, 'critical'],
    // High: partial outage / security risk.
    [{ alertname: 'ServiceDown', job: 'api' }, 'high'],
    [{ alertname: 'InstanceDown' }, 'high'],
    [{ alertname: 'DatabaseDown', severity: 'critical' }, 'high'],
    [{ alertname: 'AuthBypassAttempt' }, 'high'],
    [{ alertname: 'X', category: 'auth-bypass' }, 'high'],
    // Medium: performance issue / suspicious activity.
    [{ alertname: 'RateLimitSpike' }, 'medium'],
    [{ alertname: 'AuthFailureSurge' }, 'medium'],
    [{ alertname: 'HighErrorRate' }, 'medium'],
    [{ alertname: 'HighCPUUsage' }, 'medium'],
    // Low: minor issue.
    [{ alertname: 'SlowAPI' }, 'low'],
    [{ alertname: 'LowDiskSpace' }, 'low'],
    [{ alertname: 'DiskSpaceLow' }, 'low'],
    // The usual severity label values, for alerts the table does not name.
    [{ alertname: 'Custom', severity: 'critical' }, 'critical'],
    [{ alertname: 'Custom', severity: 'page' }, 'critical'],
    [{ alertname: 'Custom', severity: 'error' }, 'high'],
    [{ alertname: 'Custom', severity: 'warning' }, 'medium'],
    [{ alertname: 'Custom', severity: 'info' }, 'low'],
    [{ alertname: 'Custom', severity: 'none' }, 'low'],
    // Nothing matches: the default.
    [{ alertname: 'Custom' }, 'medium'],
    // The explicit label beats the plan.
    [{ alertname: 'DDoSAttack', triage_severity: 'low' }, 'low'],
  ];
  for (const [labels, severity] of table) {
    t.equal(shippedConfig.classify(toLabels(labels)).severity, severity, JSON.stringify(labels));
  }
});
