import t from 'tap';
import { classificationSpec, compileClassifier, RuleError } from '../../src/classify/classifier.js';
import { toLabels } from '../../src/classify/labels.js';
import { shippedConfig } from '../helpers.js';

t.test('first matching rule wins, explicit label overrides, default otherwise', async (t) => {
  const classify = compileClassifier(
    classificationSpec({
      defaultSeverity: 'low',
      rules: [
        { name: 'db', severity: 'critical', matchers: ['job="postgres"', 'alertname=~".*Down"'] },
        { name: 'any-down', severity: 'high', matchers: ['alertname=~".*Down"'] },
      ],
    }),
  );
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
    compileClassifier(
      classificationSpec({
        defaultSeverity: 'low',
        rules: [
          { name: 'ok', severity: 'high', matchers: ['a="b"'] },
          { name: 'bad', severity: 'high', matchers: ['a="b"', 'c=~"("'] },
        ],
      }),
    );
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
    // The alert's own severity label is a floor: a name rule cannot page a declared critical as high.
    [{ alertname: 'DatabaseDown', severity: 'critical' }, 'critical'],
    [{ alertname: 'DatabaseDown', severity: 'warning' }, 'high'],
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

t.test('never below the declared severity label: the more severe of the label and the rules, and which one decided', async (t) => {
  const rules = [
    { name: 'db-down', severity: 'high' as const, matchers: ['alertname="DatabaseDown"'] },
    { name: 'ddos', severity: 'critical' as const, matchers: ['alertname="DDoS"'] },
    { name: 'slow', severity: 'low' as const, matchers: ['alertname="SlowAPI"'] },
  ];
  const builtIn = compileClassifier(classificationSpec({ defaultSeverity: 'medium', rules }));
  const table: [Record<string, string>, string, string][] = [
    // The built-in table: critical, error, warning, info.
    [{ alertname: 'DatabaseDown', severity: 'critical' }, 'critical', 'label:severity=critical'],
    [{ alertname: 'DatabaseDown', severity: ' CRITICAL ' }, 'critical', 'label:severity=critical'],
    [{ alertname: 'DatabaseDown', severity: 'error' }, 'high', 'db-down'],
    [{ alertname: 'DatabaseDown', severity: 'warning' }, 'high', 'db-down'],
    [{ alertname: 'DatabaseDown', severity: 'info' }, 'high', 'db-down'],
    [{ alertname: 'DDoS', severity: 'info' }, 'critical', 'ddos'],
    [{ alertname: 'SlowAPI', severity: 'warning' }, 'medium', 'label:severity=warning'],
    [{ alertname: 'SlowAPI', severity: 'error' }, 'high', 'label:severity=error'],
    [{ alertname: 'SlowAPI' }, 'low', 'slow'],
    // No rule matches: the declared severity decides, before the default (even when lower).
    [{ alertname: 'Custom', severity: 'info' }, 'low', 'label:severity=info'],
    [{ alertname: 'Custom', severity: 'critical' }, 'critical', 'label:severity=critical'],
    [{ alertname: 'Custom', severity: 'page' }, 'medium', 'default'],
    [{ alertname: 'Custom' }, 'medium', 'default'],
    // triage_severity still decides outright, below the declared label too.
    [{ alertname: 'DatabaseDown', severity: 'critical', triage_severity: 'low' }, 'low', 'explicit-label'],
  ];
  for (const [labels, severity, rule] of table) t.same(builtIn(toLabels(labels)), { severity, rule }, `built-in ${JSON.stringify(labels)}`);

  const custom = compileClassifier(
    classificationSpec({ defaultSeverity: 'medium', rules, severityLabels: { label: 'priority', values: { P1: 'critical', p2: 'high' } } }),
  );
  const customTable: [Record<string, string>, string, string][] = [
    [{ alertname: 'DatabaseDown', priority: 'p1' }, 'critical', 'label:priority=p1'],
    [{ alertname: 'SlowAPI', priority: 'P2' }, 'high', 'label:priority=p2'],
    // The table replaces the built-in one, and another label is read.
    [{ alertname: 'DatabaseDown', severity: 'critical' }, 'high', 'db-down'],
    [{ alertname: 'Custom', priority: 'p3' }, 'medium', 'default'],
  ];
  for (const [labels, severity, rule] of customTable)
    t.same(custom(toLabels(labels)), { severity, rule }, `custom ${JSON.stringify(labels)}`);

  const off = compileClassifier(classificationSpec({ defaultSeverity: 'medium', rules, severityLabels: { values: {} } }));
  t.same(
    off(toLabels({ alertname: 'DatabaseDown', severity: 'critical' })),
    { severity: 'high', rule: 'db-down' },
    'values: {} turns it off',
  );

  t.throws(
    () => classificationSpec({ defaultSeverity: 'low', rules: [], severityLabels: { values: { Critical: 'critical', critical: 'low' } } }),
    { name: 'Error', path: 'classification.severityLabels.values.critical', message: /"critical" is already mapped to critical/ },
  );
});

t.test('the shipped config: the README DatabaseDown example with severity="critical" is critical, by its label', async (t) => {
  t.same(shippedConfig.classify(toLabels({ alertname: 'DatabaseDown', instance: 'db:5432', severity: 'critical' })), {
    severity: 'critical',
    rule: 'label:severity=critical',
  });
  t.same(shippedConfig.classify(toLabels({ alertname: 'Custom', severity: 'none' })), { severity: 'low', rule: 'label:severity=none' });
});
