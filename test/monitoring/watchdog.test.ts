import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { parseDuration } from '../../src/incidents/duration.js';
import { shippedConfig } from '../helpers.js';
import { needs, ROOT, run } from './tools.js';

t.test('promtool: the Watchdog rule loads and always fires', { skip: needs('/usr/bin/promtool', 'prometheus') }, async (t) => {
  const check = run('promtool', ['check', 'rules', 'monitoring/watchdog_rules.yml']);
  t.equal(check.code, 0, check.output);
  const tests = run('promtool', ['test', 'rules', 'monitoring/tests/watchdog_test.yml']);
  t.equal(tests.code, 0, tests.output);
  t.notMatch(tests.output, /FAILED/);
  const prometheus = parse(readFileSync(join(ROOT, 'monitoring/prometheus.yml'), 'utf8')) as { rule_files: string[] };
  t.ok(prometheus.rule_files.includes('watchdog_rules.yml'), 'Prometheus loads it');
});

t.test(
  "amtool: the Watchdog goes to alert-triage at once and repeats inside alert-triage's timeout",
  { skip: needs('/usr/bin/amtool', 'prometheus-alertmanager') },
  async (t) => {
    const route = run('amtool', [
      'config',
      'routes',
      'test',
      '--config.file=monitoring/alertmanager.yml',
      'alertname=Watchdog',
      'severity=none',
    ]);
    t.equal(route.output.split('\n')[0]!.trim(), 'alert-triage');
    const am = parse(readFileSync(join(ROOT, 'monitoring/alertmanager.yml'), 'utf8')) as {
      route: {
        routes: { receiver: string; matchers?: string[]; group_wait?: string; group_interval?: string; repeat_interval?: string }[];
      };
    };
    const watchdog = am.route.routes.find((r) => r.matchers?.includes('alertname="Watchdog"'));
    t.ok(watchdog, 'a route of its own');
    t.equal(am.route.routes.indexOf(watchdog!), 0, 'first, so no other route takes it with longer timings');
    t.equal(watchdog!.group_wait, '0s');
    // The timeout alert-triage applies when a source sets none (heartbeats.watchdog.timeout, 5m).
    const timeoutMs = 5 * 60_000;
    for (const key of ['group_interval', 'repeat_interval'] as const) {
      const ms = parseDuration(watchdog![key]!)!;
      t.ok(ms * 2 < timeoutMs, `${key} ${watchdog![key]}: two deliveries fit inside the 5m timeout, so one lost is no alarm`);
    }
    // The shipped config expects no source (a trial has no Watchdog): the example is in its comments.
    t.same(shippedConfig.heartbeats.watchdog.sources, []);
    t.match(readFileSync(join(ROOT, 'config/triage.yml'), 'utf8'), /# heartbeats:\n# {3}watchdog:/);
  },
);
