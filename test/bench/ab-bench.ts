// npx tsx test/bench/ab-bench.ts LABEL=DIR[:ENV=V,ENV=V] ...: the bench's bare route, then the
// service from each given checkout (DIR holds test/bench/bench-server.ts; ENV for its knobs, e.g.
// BENCH_NO_DISPATCH=1), interleaved in ROUNDS rounds under the same load (ALERTS, CONN, SECS).
// Prints each one's req/s, its ratio to the bare route of the same round, and its CPU time per
// request (all threads, from /proc) with the CPU ratio bare/service: on a machine shared with other
// work, CPU per request moves far less than req/s does. `main` is the share of the wall time the
// main thread was on a CPU: near 1, the event loop is the limit. A variant with the knob BENCH_PG=1
// runs on a fresh PostgreSQL database at TEST_DATABASE_URL (dropped after), and its CPU per request
// adds the PostgreSQL backends serving it (`pg` is their part). Not a test: for comparing versions.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import pg from 'pg';
import { scratchDatabase } from '../store/postgres-test-db.js';
import { benchBody } from './bench-payload.js';
import { parseVariant } from './variant.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const alerts = Number(process.env['ALERTS'] ?? 5),
  connections = Number(process.env['CONN'] ?? 16),
  seconds = Number(process.env['SECS'] ?? 5),
  rounds = Number(process.env['ROUNDS'] ?? 2);
const variants = process.argv.slice(2); // each "label=dir[:ENV=v,ENV=v]"
const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();
let next = Math.floor(Math.random() * 1e9);
const body = (n: number) => benchBody(alerts, n);
const CLK = 100; // USER_HZ
function cpuMs(pid: number, main = false): number {
  const f = readFileSync(main ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK;
}
const cpu: Record<string, number> = {};
const pgCpu: Record<string, number> = {};
const mainBusy: Record<string, number> = {};
/** The PostgreSQL backends connected to the database at `url` (pg_stat_activity). */
async function backends(url: string): Promise<number[]> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return rows.map((r) => r.pid);
  } finally {
    await admin.end();
  }
}
const cpuOf = (pids: number[]) =>
  pids.reduce((n, pid) => {
    try {
      return n + cpuMs(pid);
    } catch {
      return n; // a backend that ended
    }
  }, 0);
async function run(label: string, mode: string, root: string, env: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ab-'));
  const db = env['BENCH_PG'] ? await scratchDatabase('alert_triage_ab') : undefined;
  if (db && 'unavailable' in db) throw new Error(db.unavailable);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', mode, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url, ...(db ? { BENCH_DATABASE_URL: db.url } : {}) },
  });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const { port } = JSON.parse(line) as { port: number };
  const go = (d: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}/webhook/alertmanager`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
      connections,
      duration: d,
      requests: [{ setupRequest: (req) => ({ ...req, body: body(next++) }) }],
    });
  await go(2);
  // After the warm-up the pool is open: these backends serve the measured load.
  const pids = db ? await backends(db.url) : [];
  const c0 = cpuMs(child.pid!);
  const p0 = cpuOf(pids);
  const m0 = cpuMs(child.pid!, true);
  const t0 = performance.now();
  const r = await go(seconds);
  const n = r.requests.total || 1;
  pgCpu[label] = ((cpuOf(pids) - p0) * 1000) / n;
  cpu[label] = ((cpuMs(child.pid!) - c0) * 1000) / n + pgCpu[label];
  // The main thread's share of the wall time: near 1, it is the limit.
  mainBusy[label] = (cpuMs(child.pid!, true) - m0) / (performance.now() - t0);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  if (db) await db.drop();
  if (r.non2xx || r.errors) console.log(`!! ${mode} ${root}: ${r.non2xx} non-2xx ${r.errors} errors`);
  return r.requests.average;
}
const sums: Record<string, number[]> = {};
const cpuSums: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  const bare = await run('bare', 'bare', ROOT, {});
  const bareCpu = cpu['bare']!;
  const cells = [`bare ${bare.toFixed(0)} ${bareCpu.toFixed(0)}us main ${mainBusy['bare']!.toFixed(2)}`];
  (cpuSums['bare'] ??= []).push(bareCpu);
  for (const v of variants) {
    const { label, root, env } = parseVariant(v);
    // BENCH_MODE=floor (or bare) in a variant's knobs runs that mode of bench-server instead of the service.
    const mode = env['BENCH_MODE'] ?? 'service';
    const rps = await run(label, mode, root, env);
    (sums[label] ??= []).push(rps / bare);
    (cpuSums[label] ??= []).push(cpu[label]!);
    cells.push(
      `${label} ${rps.toFixed(0)} (${(rps / bare).toFixed(3)}) ${cpu[label]!.toFixed(0)}us${env['BENCH_PG'] ? ` (pg ${pgCpu[label]!.toFixed(0)}us)` : ''} cpu-ratio ${(bareCpu / cpu[label]!).toFixed(3)} main ${mainBusy[label]!.toFixed(2)}`,
    );
  }
  console.log(`${alerts} alerts, ${connections} conn, round ${round + 1}: ${cells.join(' | ')}`);
}
const range = (xs: number[], d: number) => `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;
console.log(`\nover ${rounds} rounds (min-max): ratio to bare req/s, CPU per request (µs)`);
for (const [label, xs] of Object.entries(cpuSums))
  console.log(`${label}: ${sums[label] ? range(sums[label], 3) : '1'}, ${range(xs, 0)} µs`);
await slack.stop();
await mail.stop();
