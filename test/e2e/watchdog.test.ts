import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { api, freePort, shippedConfigText, tempDir, WEBHOOK_TOKEN } from '../helpers.js';
import { pagingApp } from '../notify/paging-helpers.js';
import { needs, ROOT } from '../monitoring/tools.js';

const AM = process.env['ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager';
const PROMETHEUS = '/usr/bin/prometheus';
const skip = needs(AM, 'prometheus-alertmanager (or set ALERTMANAGER_BIN)') || needs(PROMETHEUS, 'prometheus');

t.test(
  'a real Prometheus and Alertmanager: the shipped Watchdog beats; Alertmanager stopped, the pipeline-silent incident opens and is paged once; started again, it resolves',
  { skip },
  async (t) => {
    const dir = tempDir(t);
    const amPort = await freePort();
    const amUrl = `http://127.0.0.1:${amPort}`;
    const triage = parseConfig(
      shippedConfigText(`
heartbeats:
  watchdog:
    timeout: 5m
    sources:
      - { name: am-e2e, externalUrls: ["${amUrl}"] }
`),
      'triage.yml',
    );
    const p = await pagingApp(t, { triage });
    const appPort = await freePort();
    await p.app.listen({ port: appPort, host: '127.0.0.1' });

    // The shipped route's shape, with a short repeat so the test does not wait a minute.
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route:
  receiver: triage
  group_by: [alertname]
  routes:
    - receiver: triage
      matchers: ['alertname="Watchdog"']
      group_wait: 0s
      group_interval: 1s
      repeat_interval: 2s
receivers:
  - name: triage
    webhook_configs:
      - url: http://127.0.0.1:${appPort}/webhook/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${WEBHOOK_TOKEN}
`,
    );
    let amLog = '';
    const startAm = () => {
      const am = spawn(AM, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        `--web.external-url=${amUrl}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ]);
      am.stderr.on('data', (d) => (amLog += d));
      return am;
    };
    let am: ChildProcess = startAm();
    t.teardown(() => {
      am.kill('SIGKILL');
    });

    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:
  evaluation_interval: 1s
rule_files:
  - ${join(ROOT, 'monitoring/watchdog_rules.yml')}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
`,
    );
    let promLog = '';
    const prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--rules.alert.resend-delay=1s',
    ]);
    prom.stderr.on('data', (d) => (promLog += d));
    t.teardown(() => {
      prom.kill('SIGKILL');
    });
    const logs = () => `--- alertmanager\n${amLog.slice(-2000)}\n--- prometheus\n${promLog.slice(-2000)}`;

    const lastBeat = async () => (await p.store.listHeartbeats()).find((h) => h.name === 'am-e2e')?.lastBeatAt ?? null;
    await until(async () => (await lastBeat()) !== null, 'the first Watchdog to reach alert-triage', logs);
    const incidents = async () =>
      (await api(p.app, 'GET', '/api/incidents')).body.incidents as { id: number; title: string; status: string }[];
    t.same(await incidents(), [], 'the Watchdog opened no incident');

    // Alertmanager stops (by its pid); nothing reaches alert-triage any more.
    am.kill('SIGTERM');
    await once(am, 'exit');
    const seen = await lastBeat();
    // Time moves on past the timeout: the scheduler's passes notice.
    await p.fastForward(6 * 60_000, 30_000);
    t.equal(await lastBeat(), seen, 'no beat while Alertmanager was down');
    const list = await incidents();
    t.equal(list.length, 1);
    t.match(list[0], { title: 'Alerting pipeline silent: am-e2e', status: 'open' });
    p.expect.slack('#security-incident', /Alerting pipeline silent: am-e2e/);
    const mails = p.mail.received.filter((m) => /Alerting pipeline silent: am-e2e/.test(m.mail.subject ?? ''));
    t.equal(mails.length, 1, 'one e-mail');
    p.expect.email(mails[0]!.rcptTo, /Alerting pipeline silent: am-e2e/);
    t.equal((await api(p.app, 'POST', `/api/incidents/${list[0]!.id}/ack`, { by: 'carol' })).status, 200);
    await p.fastForward(2 * 60_000, 30_000);
    t.equal((await incidents()).length, 1, 'later passes open nothing more');

    // Started again (same storage and address): Prometheus re-sends the Watchdog, Alertmanager delivers it.
    am = startAm();
    await until(async () => (await incidents())[0]?.status === 'resolved', 'the incident to resolve on the next Watchdog', logs);
    await p.settle();
    p.expect.slack('#security-incident', /Acknowledged by carol/);
    p.expect.slack('#security-incident', /Resolved automatically/);
    p.expect.nothingElse();
  },
);

async function until(check: () => Promise<boolean>, what: string, log: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
