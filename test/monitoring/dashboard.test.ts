import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { alert, api, freePort, payload, postWebhook, tempDir, uniqueGroup } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';
import { replicaAggregationProblems } from './replica-aggregation.js';
import { needs, ROOT } from './tools.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const dashboard = JSON.parse(readFileSync(join(ROOT, 'monitoring/grafana/dashboards/alert-triage.json'), 'utf8')) as {
  panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] }[];
  templating: { list: { name: string; type: string; query: string; datasource: { uid: string } }[] };
};
const targets = dashboard.panels.flatMap((p) => p.targets.map((target) => ({ panel: p.title, expr: target.expr })));

t.test('with several replicas no panel counts a database gauge twice, and counters add up', async (t) => {
  for (const { panel, expr } of targets) t.same(replicaAggregationProblems(expr), [], `${panel}: ${expr}`);
});

t.test('the dashboard is provisioned against the provisioned data source', async (t) => {
  const datasources = parse(readFileSync(join(ROOT, 'monitoring/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  const uid = datasources.datasources[0].uid;
  const provider = parse(readFileSync(join(ROOT, 'monitoring/grafana/provisioning/dashboards/alert-triage.yml'), 'utf8'));
  t.equal(provider.providers[0].options.path, '/var/lib/grafana/dashboards');
  const titles = dashboard.panels.map((p) => p.title);
  for (const want of [
    'Open incidents by severity',
    'SLA breaches',
    'Past deadline, nobody on it',
    'Time to acknowledge (p50 / p90)',
    'Time to resolve (MTTR)',
    'Escalations',
    'Pages sent and failed',
    'Notification latency (p50 / p99)',
    'Notification queue depth',
    'Webhooks by status code',
    'Webhook latency (p50 / p99)',
  ]) {
    t.ok(titles.includes(want), `panel "${want}"`);
  }
  for (const p of dashboard.panels) {
    t.equal(p.datasource.uid, uid, `${p.title} uses the provisioned data source`);
    for (const target of p.targets) t.equal(target.datasource.uid, uid);
  }
  const job = dashboard.templating.list.find((v) => v.name === 'job');
  t.match(
    job,
    { type: 'query', datasource: { uid }, query: /^label_values\(triage_\w+, job\)$/ },
    '$job lists the jobs that export alert-triage metrics',
  );
});

t.test("every panel's every series selector is scoped to the dashboard's $job", async (t) => {
  t.ok(targets.length >= 20, `${targets.length} queries`);
  for (const { panel, expr } of targets) {
    // A selector: a metric name not followed by "(" (a function) or within a by/without list.
    const selectors = [...expr.matchAll(/\b([a-zA-Z_:][\w:]*)\b(\{[^}]*\})?(?!\s*\()/g)].filter(([, name]) =>
      /^(triage_|up$|nodejs_|process_)/.test(name!),
    );
    t.ok(selectors.length > 0, `${panel}: ${expr} reads a metric`);
    for (const [sel, , matchers] of selectors) t.match(matchers ?? '', /job=~"\$job"/, `${panel}: ${sel} has job=~"$job"`);
  }
});

t.test(
  'every panel query returns data from a real Prometheus scraping a running receiver',
  { skip: needs(PROMETHEUS, 'prometheus') },
  async (t) => {
    // Slack and SMTP configured (loopback servers), so pages are delivered and their latency is observed.
    const { app, clock, settle } = await pagingApp(t);
    const appPort = await freePort();
    await app.listen({ port: appPort, host: '127.0.0.1' });

    const dir = tempDir(t);
    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: alert-triage\n    static_configs:\n      - targets: ['127.0.0.1:${appPort}']\n`,
    );
    const prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    let log = '';
    prom.stderr.on('data', (d) => (log += d));
    t.teardown(() => {
      prom.kill('SIGKILL');
    });
    const base = `http://127.0.0.1:${promPort}`;
    const query = async (expr: string) => {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await res.json()) as {
        status: string;
        error?: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
    };
    const until = async (what: string, check: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await check().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await until('the first scrape', async () => (await query('up{job="alert-triage"} == 1')).data.result.length === 1);

    // A morning's worth of incidents: every severity, a missed deadline, acknowledgements, a resolution, a bad token.
    for (const name of ['DDoSAttack', 'ServiceDown', 'RateLimitSpike', 'LowDiskSpace', 'DDoSAttack']) {
      await postWebhook(app, payload(uniqueGroup(), [alert(name)]));
    }
    clock.advance(6 * 60_000);
    await app.triage.scheduler.tick();
    await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice' });
    await api(app, 'POST', '/api/incidents/2/ack', { by: 'bob' });
    await api(app, 'POST', '/api/incidents/3/resolve', { by: 'carol' });
    await app.inject({ method: 'POST', url: '/webhook/alertmanager', payload: {} });
    // A Watchdog: the last-beat panel's series.
    await postWebhook(app, { ...payload('{}:{alertname="Watchdog"}', [alert('Watchdog')]), externalURL: 'http://am-1:9093' });
    await settle();

    const expand = (expr: string, job = 'alert-triage') => expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', job);
    await until(
      'the changes to be scraped',
      async () => (await query('sum(increase(triage_sla_breaches_total[1m])) > 0')).data.result.length > 0,
    );
    await until(
      'the pages to be scraped',
      async () => (await query('sum(triage_notification_latency_seconds_count) > 0')).data.result.length > 0,
    );
    await until(
      'the resolution to be scraped',
      async () => (await query('sum(triage_time_to_resolve_seconds_count) > 0')).data.result.length > 0,
    );
    // rate() needs two samples of every series, including the ones the webhooks just created.
    await until(
      'two scrapes after them',
      async () => (await query('min(count_over_time(triage_webhook_requests_total[15s])) >= 2')).data.result.length > 0,
    );
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const r = await query(expand(target.expr));
        t.equal(r.status, 'success', `${panel.title}: ${target.expr} ${r.error ?? ''}`);
        const values = r.data.result.map((s) => Number(s.value[1]));
        t.ok(
          values.some((v) => Number.isFinite(v)),
          `${panel.title}: ${target.expr} returns data (${JSON.stringify(r.data.result.map((s) => [s.metric, s.value[1]]))})`,
        );
        // And only the chosen job's: another job gets nothing from it.
        const other = await query(expand(target.expr, 'another-job'));
        t.same(other.data.result, [], `${panel.title}: ${target.expr} shows nothing for another $job`);
      }
    }
    // The $job variable's own query finds the scrape job.
    const jobs = (await (await fetch(`${base}/api/v1/label/job/values?match[]=triage_incidents_open`)).json()) as { data: string[] };
    t.same(jobs.data, ['alert-triage'], '$job offers the scrape job');
    // And the numbers mean what the panels say.
    const open = Object.fromEntries(
      (await query('sum by (severity) (triage_incidents_open)')).data.result.map((s) => [s.metric['severity'], Number(s.value[1])]),
    );
    t.same(open, { critical: 2, high: 1, medium: 0, low: 1 });
    const breached = Object.fromEntries(
      (await query('sum by (severity) (triage_incidents_breached_open)')).data.result.map((s) => [
        s.metric['severity'],
        Number(s.value[1]),
      ]),
    );
    t.same(breached, { critical: 1, high: 0, medium: 0, low: 0 }, 'one critical past its deadline and nobody on it');
    const mttr = await query(
      expand(
        'sum by (severity) (triage_time_to_resolve_seconds_sum{job=~"$job"}) / sum by (severity) (triage_time_to_resolve_seconds_count{job=~"$job"})',
      ),
    );
    t.same(
      mttr.data.result.filter((s) => s.value[1] !== 'NaN').map((s) => [s.metric['severity'], Number(s.value[1])]),
      [['medium', 360]],
      'the medium incident resolved by hand six minutes after it opened',
    );
    const escalated = await query('sum(triage_escalations_total{severity="critical"})');
    t.ok(Number(escalated.data.result[0]?.value[1]) > 0, 'the missed critical deadline escalated');
  },
);

t.test("the receiver's whole /metrics passes promtool check metrics", { skip: needs(PROMTOOL, 'prometheus') }, async (t) => {
  // Every series present: incidents of each kind, a resolution, pages delivered, a bad request.
  const { app, clock, settle } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  clock.advance(6 * 60_000);
  await app.triage.scheduler.tick();
  await api(app, 'POST', '/api/incidents/2/resolve', { by: 'bob' });
  await app.inject({ method: 'POST', url: '/webhook/alertmanager', payload: {} });
  await settle();
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  // promtool accepts empty input, so make sure the text is the whole of it.
  for (const family of [
    'process_cpu_seconds_total',
    'nodejs_active_handles',
    'triage_time_to_resolve_seconds',
    'triage_notification_latency_seconds',
  ]) {
    t.match(res.body, `# TYPE ${family} `, `${family} is in the text`);
  }
  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: res.body, encoding: 'utf8', timeout: 60_000 });
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  t.equal(`${check.stdout}${check.stderr}`.trim(), '', 'no lint findings');
});
