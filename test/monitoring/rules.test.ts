import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { toLabels } from '../../src/classify/labels.js';
import { shippedConfig } from '../helpers.js';
import { replicaAggregationProblems } from './replica-aggregation.js';
import { needs, ROOT, run } from './tools.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const RULE_FILES = ['monitoring/prometheus_rules.yml', 'monitoring/detection_rules/security_alerts.yml'];
const rules = RULE_FILES.flatMap((f) =>
  (parse(readFileSync(join(ROOT, f), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) =>
    g.rules.map((r) => ({ file: f, ...r })),
  ),
);

t.test('with several replicas no rule counts a database gauge twice, and counters add up', async (t) => {
  for (const r of rules) t.same(replicaAggregationProblems(r.expr), [], `${r.alert}: ${r.expr}`);
  t.same(
    replicaAggregationProblems('sum by (severity) (triage_incidents_open)'),
    ['triage_incidents_open is read from the database: aggregate it with max by (…), not sum'],
    'the check itself catches a summed gauge',
  );
  t.same(
    replicaAggregationProblems('max(rate(triage_webhook_requests_total[5m]))'),
    ['triage_webhook_requests_total counts per replica: aggregate its rate or increase with sum'],
    'and a counter taken with max',
  );
});

t.test('every alert says what it is and is classified the way its severity label says', async (t) => {
  t.ok(rules.length >= 20, `${rules.length} rules`);
  for (const r of rules) {
    t.ok(r.alert, `${r.file}: only alerting rules`);
    t.match(
      r.annotations,
      { summary: String, description: String, runbook_url: /^https:\/\// },
      `${r.alert} has summary, description, runbook_url`,
    );
    t.match(r.labels?.['severity'], /^(critical|high|medium|low)$/, `${r.alert} has a plan severity`);
    if (r.labels?.['component'] === 'alert-triage') continue; // routed to the fallback receiver, not classified
    const got = shippedConfig.classify(toLabels({ alertname: r.alert!, ...r.labels }));
    t.equal(got.severity, r.labels?.['severity'], `${r.alert} → ${got.severity} by rule ${got.rule}`);
    t.notOk(
      got.rule === 'default' || got.rule.startsWith('label:'),
      `${r.alert} is decided by the plan's table, not a fallback (${got.rule})`,
    );
  }
});

t.test('promtool: rules and config load, and the rule unit tests pass', { skip: needs('/usr/bin/promtool', 'prometheus') }, async (t) => {
  const check = run('promtool', ['check', 'rules', ...RULE_FILES]);
  t.equal(check.code, 0, check.output);
  const config = run('promtool', ['check', 'config', 'monitoring/prometheus.yml']);
  t.equal(config.code, 0, config.output);
  t.match(config.output, /SUCCESS: 3 rule files found/);
  const tests = run('promtool', [
    'test',
    'rules',
    'monitoring/tests/prometheus_rules_test.yml',
    'monitoring/tests/security_alerts_test.yml',
  ]);
  t.equal(tests.code, 0, tests.output);
  t.notMatch(tests.output, /FAILED/);
});

t.test('every alert rule has a promtool unit test that expects it to fire', async (t) => {
  const tested = new Set<string>();
  for (const f of ['monitoring/tests/prometheus_rules_test.yml', 'monitoring/tests/security_alerts_test.yml']) {
    const doc = parse(readFileSync(join(ROOT, f), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    for (const g of doc.tests) for (const c of g.alert_rule_test ?? []) if (c.exp_alerts?.length) tested.add(c.alertname);
  }
  for (const r of rules) t.ok(tested.has(r.alert!), `${r.alert} is tested`);
});

t.test(
  'amtool: the Alertmanager config is valid and routes as intended',
  { skip: needs('/usr/bin/amtool', 'prometheus-alertmanager') },
  async (t) => {
    const check = run('amtool', ['check-config', 'monitoring/alertmanager.yml']);
    t.equal(check.code, 0, check.output);
    const route = (...labels: string[]) =>
      run('amtool', ['config', 'routes', 'test', '--config.file=monitoring/alertmanager.yml', ...labels])
        .output.split('\n')[0]!
        .trim();
    t.equal(route('alertname=DDoSSuspected', 'severity=critical', 'service=api'), 'alert-triage');
    t.equal(route('alertname=LowDiskSpace', 'severity=low'), 'alert-triage');
    t.equal(
      route('alertname=TriageReceiverDown', 'severity=critical', 'component=alert-triage'),
      'triage-ops',
      'self alerts do not go back into the receiver',
    );

    const am = parse(readFileSync(join(ROOT, 'monitoring/alertmanager.yml'), 'utf8'));
    const webhook = am.receivers.find((r: { name: string }) => r.name === 'alert-triage').webhook_configs[0];
    t.match(webhook, {
      send_resolved: true,
      max_alerts: 0,
      url: /\/webhook\/alertmanager$/,
      http_config: { authorization: { type: 'Bearer', credentials_file: String } },
    });
    t.match(am.inhibit_rules[0], {
      source_matchers: ['severity="critical"', 'service=~".+"'],
      target_matchers: ['severity=~"high|medium"'],
      equal: ['service'],
    });
  },
);
