// The status page under a burst (issue 24): webhooks per second and p99 latency of the real service
// alone (a), then the same load while a crowd of visitors reloads /status and its JSON summary (b),
// in the same run, reported as b/a; and what /status answered meanwhile (answers per second, p99,
// how many were 304s to a revalidation). /status reads the store at most every 5 s per replica and
// renders once per snapshot, so the crowd should cost the webhooks little.
// tsx test/bench/status-bench.ts; BENCH_SECONDS (10), BENCH_CONNECTIONS (16), STATUS_CONNECTIONS (200).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { benchBody } from './bench-payload.js';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const VISITORS = Number(process.env['STATUS_CONNECTIONS'] ?? 200);
const ROOT = new URL('../..', import.meta.url).pathname;

const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();
const dir = mkdtempSync(join(tmpdir(), 'status-bench-'));
const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', 'service', dir], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url },
});
const line = await new Promise<string>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  createInterface({ input: child.stdout }).once('line', resolve);
});
const port = (JSON.parse(line) as { port: number }).port;

async function webhooks() {
  let next = Math.floor(Math.random() * 1e9);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/webhook/alertmanager`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ setupRequest: (req) => ({ ...req, body: benchBody(5, next++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx };
}

async function visitors() {
  // Half the crowd revalidates with the ETag it has (a browser reloading), half asks afresh.
  const first = await fetch(`http://127.0.0.1:${port}/status`);
  const etag = first.headers.get('etag') ?? '';
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/status`,
    connections: VISITORS,
    duration: DURATION,
    requests: [
      { method: 'GET', path: '/status' },
      { method: 'GET', path: '/status', headers: { 'if-none-match': etag } },
      { method: 'GET', path: '/status/summary.json' },
    ],
  });
  return { rps: r.requests.average, p99: r.latency.p99, ok: r['2xx'], notModified: r['3xx'], errors: r.errors + r.non2xx - r['3xx'] };
}

try {
  await webhooks(); // warm-up
  const alone = await webhooks();
  const [burst, status] = await Promise.all([webhooks(), visitors()]);
  console.log(
    JSON.stringify(
      {
        seconds: DURATION,
        webhookConnections: CONNECTIONS,
        statusConnections: VISITORS,
        webhooksAlone: alone,
        webhooksUnderStatusBurst: burst,
        ratio: { rps: +(burst.rps / alone.rps).toFixed(2), p99: +(burst.p99 / alone.p99).toFixed(2) },
        status,
      },
      null,
      2,
    ),
  );
} finally {
  child.kill('SIGTERM');
  await slack.stop();
  await mail.stop();
  rmSync(dir, { recursive: true, force: true });
}
