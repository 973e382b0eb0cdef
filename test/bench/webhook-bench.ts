// npm run bench: webhooks per second and p99 latency of the real service (b) against a bare
// Fastify route with the same schema (a), measured in the same run, reported as the ratio b/a.
// Every request is a new Alertmanager group, so the service opens (and commits) an incident each time.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
// 16 concurrent groups is a busy Alertmanager; 64 is an alert storm.
const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '16,64').split(',').map(Number);
const ROOT = new URL('../..', import.meta.url).pathname;

function body(alerts: number, n: number): string {
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  return JSON.stringify({
    receiver: 'bench',
    status: 'firing',
    alerts: Array.from({ length: alerts }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'HighErrorRate', instance: `web-${i}:8080`, job: 'web', severity: 'warning', group: String(n) },
      annotations: { summary: `5xx ratio above 5% on web-${i}`, runbook_url: 'https://runbooks.example/5xx' },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `${n.toString(16)}-${i}`,
    })),
    groupLabels: { alertname: 'HighErrorRate', group: String(n) },
    commonLabels: { alertname: 'HighErrorRate', job: 'web' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: `{}:{alertname="HighErrorRate",group="${n}"}`,
    truncatedAlerts: 0,
  });
}

// The channels the service pages through live here, in the load generator's process, not the service's.
const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();

async function startServer(mode: 'bare' | 'service', dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', mode, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url },
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

interface Result {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(port: number, alerts: number, connections: number, duration: number): Promise<Result> {
  // Every request is a group the server has not seen yet.
  let next = Math.floor(Math.random() * 1e9);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/webhook/alertmanager`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
    connections,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, body: body(alerts, next++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

const dir = mkdtempSync(join(tmpdir(), 'alert-triage-bench-'));
const rows: string[] = [];
try {
  for (const connections of CONNECTIONS) {
    for (const alerts of [5, 100]) {
      const results: Record<string, Result> = {};
      for (const mode of ['bare', 'service'] as const) {
        const { child, port } = await startServer(mode, join(dir, `${mode}-${alerts}-${connections}`));
        try {
          await load(port, alerts, connections, Math.min(3, DURATION)); // warm-up, discarded
          results[mode] = await load(port, alerts, connections, DURATION);
        } finally {
          child.kill('SIGTERM');
        }
      }
      for (const [mode, r] of Object.entries(results)) {
        if (r.errors || r.non2xx) throw new Error(`${mode} with ${alerts} alerts: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
      }
      const a = results['bare']!;
      const b = results['service']!;
      const cells = [`${alerts} alerts`, String(connections), a.rps.toFixed(0), `${a.p99.toFixed(1)} ms`, b.rps.toFixed(0), `${b.p99.toFixed(1)} ms`, (b.rps / a.rps).toFixed(2)];
      rows.push(`| ${cells.join(' | ')} |`);
      console.log(rows.at(-1));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await slack.stop();
  await mail.stop();
}
console.log(`\n${DURATION}s per run after a warm-up; every request is a new group (an incident opened, committed and synced to disk), Slack and SMTP configured\n`);
console.log('| payload | connections | (a) bare req/s | (a) p99 | (b) service req/s | (b) p99 | ratio b/a |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
