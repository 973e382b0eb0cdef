// npx tsx test/bench/profile-run.ts [alerts] [connections] [seconds]: runs the bench's service
// (test/bench/bench-server.ts) under `node --cpu-prof` with Slack and SMTP stand-ins, loads it like
// `npm run bench` does, and leaves the .cpuprofile in PROFILE_DIR (default /tmp/prof) for
// test/bench/profile-summary.ts. For finding where the webhook path spends its time. BENCH_MODE=floor
// profiles the storage floor instead (see bench-server.ts). PROFILE_LOAD=status loads /status and its
// summary instead of the webhook (where a visitor's answer spends its time), half of them revalidating.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { benchBody } from './bench-payload.js';

const [alerts = 5, connections = 16, seconds = 10] = process.argv.slice(2).map(Number);
const ROOT = new URL('../..', import.meta.url).pathname;
const profileDir = process.env['PROFILE_DIR'] ?? '/tmp/prof';
const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-prof-'));
const child = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
    '--import',
    'tsx',
    'test/bench/bench-server.ts',
    process.env['BENCH_MODE'] ?? 'service',
    dir,
  ],
  {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url },
  },
);
const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
const { port } = JSON.parse(line) as { port: number };
let next = Math.floor(Math.random() * 1e9);
const body = (n: number) => benchBody(alerts, n);
const statusLoad = async (duration: number) => {
  const etag = (await fetch(`http://127.0.0.1:${port}/status`)).headers.get('etag') ?? '';
  return autocannon({
    url: `http://127.0.0.1:${port}/status`,
    connections,
    duration,
    requests: [
      { method: 'GET', path: '/status', headers: { 'accept-encoding': 'gzip, deflate, br' } },
      { method: 'GET', path: '/status', headers: { 'if-none-match': etag } },
      { method: 'GET', path: '/status/summary.json', headers: { 'accept-encoding': 'gzip, deflate, br' } },
    ],
  });
};
const load = (duration: number) =>
  process.env['PROFILE_LOAD'] === 'status'
    ? statusLoad(duration)
    : autocannon({
        url: `http://127.0.0.1:${port}/webhook/alertmanager`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
        connections,
        duration,
        requests: [{ setupRequest: (req) => ({ ...req, body: body(next++) }) }],
      });
await load(2); // warm-up
const r = await load(seconds);
console.log(`${r.requests.average} req/s, p99 ${r.latency.p99} ms, ${r.non2xx} non-2xx, ${r.errors} errors`);
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
// What the outbox looks like after the run: a backlog of pending pages makes every claim slower.
const db = new Database(join(dir, 'bench.db'), { readonly: true });
console.log(JSON.stringify(db.prepare(`SELECT status, count(*) AS n FROM outbox GROUP BY status`).all()));
db.close();
rmSync(dir, { recursive: true, force: true });
await slack.stop();
await mail.stop();
