// npx tsx test/bench/memory-bench.ts: the service's resident memory with 100,000 open incidents.
// The parent fills a SQLite file through the real store and state machine, starts the service on it
// (a child process, Slack and SMTP configured), then reads the child's RSS from /proc after start,
// after a /metrics scrape and an incident list, and at the peak of a few seconds of webhooks.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { decider, groupNotification, incomingAlert } from '../helpers.js';

const INCIDENTS = Number(process.env['BENCH_INCIDENTS'] ?? 100_000);
const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-mem-'));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

try {
  const store = new SqliteStore({ path: join(dir, 'bench.db'), durability: 'none' });
  const now = Date.now();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < INCIDENTS; i++) {
    const alerts = [0, 1, 2].map((j) => incomingAlert(`${i}-${j}`, 'HighErrorRate', 'firing', now - 60_000));
    writes.push(store.applyNotification(groupNotification(alerts, { groupKey: `{}:{i="${i}"}` }), decider(now)));
    if (writes.length >= 2000) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  await store.close();

  const slack = await new SlackApiServer('xoxb-bench').start();
  const mail = await new MailServer().start();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', 'service', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url },
  });
  const { port } = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve))) as {
    port: number;
  };
  const base = `http://127.0.0.1:${port}`;
  const afterStart = rssMiB(child.pid!);
  await (await fetch(`${base}/metrics`)).text();
  await (await fetch(`${base}/api/incidents?limit=1000`)).text();
  const afterReads = rssMiB(child.pid!);
  let peak = afterReads;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!))), 100);
  let n = 0;
  await autocannon({
    url: `${base}/webhook/alertmanager`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
    connections: 16,
    duration: 5,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({
            version: '4',
            receiver: 'bench',
            status: 'firing',
            groupKey: `{}:{load="${n++}"}`,
            truncatedAlerts: 0,
            externalURL: 'http://am',
            groupLabels: {},
            commonLabels: {},
            commonAnnotations: {},
            alerts: [
              {
                status: 'firing',
                labels: { alertname: 'HighErrorRate', severity: 'warning', n: String(n) },
                annotations: {},
                startsAt: new Date().toISOString(),
                fingerprint: `load-${n}`,
              },
            ],
          }),
        }),
      },
    ],
  });
  clearInterval(sampler);
  child.kill('SIGTERM');
  await slack.stop();
  await mail.stop();
  console.log(
    `${INCIDENTS} open incidents: RSS ${afterStart.toFixed(0)} MiB after start, ${afterReads.toFixed(0)} MiB after a scrape and a list, ${peak.toFixed(0)} MiB at the peak of 5 s of webhooks (16 connections)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
