import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { alert, api, freePort, makeApp, payload, postWebhook, tempDir, uniqueGroup } from '../helpers.js';
import { needs, ROOT } from './tools.js';

const PROMETHEUS = '/usr/bin/prometheus';
const dashboard = JSON.parse(readFileSync(join(ROOT, 'monitoring/grafana/dashboards/alert-triage.json'), 'utf8')) as {
  panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] }[];
};

t.test('the dashboard is provisioned against the provisioned data source', async (t) => {
  const datasources = parse(readFileSync(join(ROOT, 'monitoring/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  const uid = datasources.datasources[0].uid;
  const provider = parse(readFileSync(join(ROOT, 'monitoring/grafana/provisioning/dashboards/alert-triage.yml'), 'utf8'));
  t.equal(provider.providers[0].options.path, '/var/lib/grafana/dashboards');
  const titles = dashboard.panels.map((p) => p.title);
  for (const want of ['Open incidents by severity', 'SLA breaches', 'Past deadline, nobody on it', 'Time to acknowledge (p50 / p90)', 'Pages sent and failed', 'Notification queue depth', 'Webhooks by status code', 'Webhook latency (p50 / p99)']) {
    t.ok(titles.includes(want), `panel "${want}"`);
  }
  for (const p of dashboard.panels) {
    t.equal(p.datasource.uid, uid, `${p.title} uses the provisioned data source`);
    for (const target of p.targets) t.equal(target.datasource.uid, uid);
  }
});

t.test('every panel query returns data from a real Prometheus scraping a running receiver', { skip: needs(PROMETHEUS, 'prometheus') }, async (t) => {
  const { app, clock } = await makeApp(t);
  const appPort = await freePort();
  await app.listen({ port: appPort, host: '127.0.0.1' });

  const dir = tempDir(t);
  const promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: alert-triage\n    static_configs:\n      - targets: ['127.0.0.1:${appPort}']\n`,
  );
  const prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  let log = '';
  prom.stderr.on('data', (d) => (log += d));
  t.teardown(() => {
    prom.kill('SIGKILL');
  });
  const base = `http://127.0.0.1:${promPort}`;
  const query = async (expr: string) => {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
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

  const expand = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', 'alert-triage');
  await until('the changes to be scraped', async () => (await query('sum(increase(triage_sla_breaches_total[1m])) > 0')).data.result.length > 0);
  // rate() needs two samples of every series, including the ones the webhooks just created.
  await until('two scrapes after them', async () => (await query('min(count_over_time(triage_webhook_requests_total[15s])) >= 2')).data.result.length > 0);
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const r = await query(expand(target.expr));
      t.equal(r.status, 'success', `${panel.title}: ${target.expr} ${r.error ?? ''}`);
      const values = r.data.result.map((s) => Number(s.value[1]));
      t.ok(values.some((v) => Number.isFinite(v)), `${panel.title}: ${target.expr} returns data (${JSON.stringify(r.data.result.map((s) => [s.metric, s.value[1]]))})`);
    }
  }
  // And the numbers mean what the panels say.
  const open = Object.fromEntries((await query('sum by (severity) (triage_incidents_open)')).data.result.map((s) => [s.metric['severity'], Number(s.value[1])]));
  t.same(open, { critical: 2, high: 1, medium: 0, low: 1 });
  const breached = Object.fromEntries((await query('sum by (severity) (triage_incidents_breached_open)')).data.result.map((s) => [s.metric['severity'], Number(s.value[1])]));
  t.same(breached, { critical: 1, high: 0, medium: 0, low: 0 }, 'one critical past its deadline and nobody on it');
});
