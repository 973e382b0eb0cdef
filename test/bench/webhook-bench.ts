// npm run bench: webhooks per second and p99 latency of the real service (b) against a bare
// Fastify route with the same schema (a), measured in the same run, reported as the ratio b/a.
// Every request is a new Alertmanager group, so the service opens (and commits) an incident each time.
// (c), the storage floor: the bare route plus the same store's durable write of the same rows, decided
// by a fixed function (no classifier, paging policy or dispatcher), as the ratio c/a: what the
// service could reach if everything but storing its rows were free; b/c is how close the service
// comes to it (issue 26's goal: 0.9).
// In the same run, when a PostgreSQL answers at TEST_DATABASE_URL: one replica on PostgreSQL and two
// replicas on one PostgreSQL database (the same total connections, half to each), against the one
// SQLite replica, as ratios. Each PostgreSQL measurement gets a fresh database, dropped after.
// With each service measurement, the CPU time per webhook (user + system, from /proc) of the service
// processes and of the PostgreSQL backends serving its database. BENCH_SECONDS, BENCH_CONNECTIONS
// (16,64) and BENCH_ALERTS (5,100) make a quicker run.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { scratchDatabase, type ScratchDatabase } from '../store/postgres-test-db.js';
import { benchBody } from './bench-payload.js';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
// 16 concurrent groups is a busy Alertmanager; 64 is an alert storm.
const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '16,64').split(',').map(Number);
const ALERTS = (process.env['BENCH_ALERTS'] ?? '5,100').split(',').map(Number);
const ROOT = new URL('../..', import.meta.url).pathname;

/** CPU seconds (user + system) of a process so far, from /proc; 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after the command's ") ".
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The server processes (backends) connected to the database at `url`, from pg_stat_activity. */
async function backends(url: string): Promise<number[]> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [
      name,
    ]);
    return rows.map((r) => r.pid);
  } finally {
    await admin.end();
  }
}

// The channels the service pages through live here, in the load generator's process, not the service's.
const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();

async function startServer(
  mode: 'bare' | 'service' | 'floor',
  dir: string,
  databaseUrl?: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', mode, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      BENCH_SLACK_URL: slack.url,
      BENCH_SMTP_URL: mail.url,
      ...(databaseUrl ? { BENCH_DATABASE_URL: databaseUrl } : {}),
    },
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

interface Result {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers with a 2xx. */
  ok: number;
  /** CPU time per answered webhook, ms: the service processes, and PostgreSQL's backends serving them. */
  cpu?: { service: number; postgres: number };
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
    requests: [{ setupRequest: (req) => ({ ...req, body: benchBody(alerts, next++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx, ok: r['2xx'] };
}

/**
 * Several replicas loaded at once, the connections split evenly (the load balancer's round robin):
 * the answers per second add up; the p99 reported is the worse of the replicas' (autocannon gives
 * percentiles, not histograms that could be merged).
 */
async function loadSplit(ports: number[], alerts: number, connections: number, duration: number): Promise<Result> {
  const share = (i: number) => Math.floor(connections / ports.length) + (i < connections % ports.length ? 1 : 0);
  const parts = await Promise.all(ports.map((port, i) => load(port, alerts, share(i), duration)));
  return {
    rps: parts.reduce((n, r) => n + r.rps, 0),
    p99: Math.max(...parts.map((r) => r.p99)),
    errors: parts.reduce((n, r) => n + r.errors, 0),
    non2xx: parts.reduce((n, r) => n + r.non2xx, 0),
    ok: parts.reduce((n, r) => n + r.ok, 0),
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** `replicas` service processes on one database (SQLite: one process on a file of its own), loaded together. */
async function measure(replicas: number, alerts: number, connections: number, serverDir: string, databaseUrl?: string): Promise<Result> {
  const servers: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    // One after the other: the first migrates, the others find the schema current.
    for (let i = 0; i < replicas; i++) {
      const { child, port } = await startServer('service', serverDir, databaseUrl);
      servers.push(child);
      ports.push(port);
    }
    await loadSplit(ports, alerts, connections, Math.min(3, DURATION)); // warm-up, discarded
    // The pools are warm: the backends now connected are the ones that serve the measured load.
    const pgPids = databaseUrl && !databaseUrl.startsWith('sqlite:') ? await backends(databaseUrl) : [];
    const cpu = () => [servers.reduce((n, s) => n + cpuSeconds(s.pid), 0), pgPids.reduce((n, pid) => n + cpuSeconds(pid), 0)];
    const [service0, postgres0] = cpu();
    const r = await loadSplit(ports, alerts, connections, DURATION);
    const [service1, postgres1] = cpu();
    return { ...r, cpu: { service: ((service1! - service0!) * 1000) / r.ok, postgres: ((postgres1! - postgres0!) * 1000) / r.ok } };
  } finally {
    await Promise.all(servers.map(stop));
  }
}

// PostgreSQL rows only when one answers; a fresh database per measurement, dropped right after.
const probe = await scratchDatabase('alert_triage_bench');
const postgres = !('unavailable' in probe);
if ('unavailable' in probe) console.log(`PostgreSQL rows skipped: ${probe.unavailable}`);
else await probe.drop();

async function onPostgres(replicas: number, alerts: number, connections: number, serverDir: string): Promise<Result> {
  const db = (await scratchDatabase('alert_triage_bench')) as ScratchDatabase;
  try {
    return await measure(replicas, alerts, connections, serverDir, db.url);
  } finally {
    await db.drop();
  }
}

const fmt = (r: Result) => [r.rps.toFixed(0), `${r.p99.toFixed(1)} ms`];
const dir = mkdtempSync(join(tmpdir(), 'alert-triage-bench-'));
const rows: string[] = [];
const pgRows: string[] = [];
const cpuRows: string[] = [];
const notes: string[] = [];
try {
  for (const connections of CONNECTIONS) {
    for (const alerts of ALERTS) {
      const results: Record<string, Result> = {};
      for (const mode of ['bare', 'floor'] as const) {
        const server = await startServer(mode, join(dir, `${mode}-${alerts}-${connections}`));
        try {
          await load(server.port, alerts, connections, Math.min(3, DURATION)); // warm-up, discarded
          results[mode] = await load(server.port, alerts, connections, DURATION);
        } finally {
          await stop(server.child);
        }
      }
      results['service'] = await measure(1, alerts, connections, join(dir, `service-${alerts}-${connections}`));
      if (postgres) {
        results['postgres, 1 replica'] = await onPostgres(1, alerts, connections, dir);
        results['postgres, 2 replicas'] = await onPostgres(2, alerts, connections, dir);
      }
      // Reported, not fatal: on a loaded machine a request can time out (autocannon's 10 s), and
      // losing the whole run to one of them helps nobody. The row says so.
      for (const [mode, r] of Object.entries(results)) {
        if (r.errors || r.non2xx) {
          const note = `${mode} with ${alerts} alerts and ${connections} connections: ${r.errors} errors (timeouts), ${r.non2xx} non-2xx answers`;
          notes.push(note);
          console.log(`! ${note}`);
        }
      }
      for (const mode of ['service', 'postgres, 1 replica', 'postgres, 2 replicas']) {
        const cpu = results[mode]?.cpu;
        if (!cpu) continue;
        cpuRows.push(
          `| ${alerts} alerts | ${connections} | ${mode === 'service' ? 'SQLite' : mode} | ${cpu.service.toFixed(2)} ms | ${
            mode === 'service' ? '-' : `${cpu.postgres.toFixed(2)} ms`
          } | ${(cpu.service + cpu.postgres).toFixed(2)} ms | ${((cpu.service + cpu.postgres) / results['service'].cpu!.service).toFixed(1)} |`,
        );
        console.log(cpuRows.at(-1));
      }
      const a = results['bare']!;
      const b = results['service'];
      const c = results['floor']!;
      const cells = [
        `${alerts} alerts`,
        String(connections),
        ...fmt(a),
        ...fmt(b),
        (b.rps / a.rps).toFixed(2),
        c.rps.toFixed(0),
        (c.rps / a.rps).toFixed(2),
        (b.rps / c.rps).toFixed(2),
      ];
      rows.push(`| ${cells.join(' | ')} |`);
      console.log(rows.at(-1));
      if (postgres) {
        const p1 = results['postgres, 1 replica']!;
        const p2 = results['postgres, 2 replicas']!;
        const pgCells = [
          `${alerts} alerts`,
          String(connections),
          ...fmt(b),
          ...fmt(p1),
          (p1.rps / b.rps).toFixed(2),
          ...fmt(p2),
          (p2.rps / b.rps).toFixed(2),
        ];
        pgRows.push(`| ${pgCells.join(' | ')} |`);
        console.log(pgRows.at(-1));
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await slack.stop();
  await mail.stop();
}
console.log(
  `\n${DURATION}s per run after a warm-up; every request is a new group (an incident opened, committed and synced to disk), Slack and SMTP configured\n`,
);
console.log(
  '| payload | connections | (a) bare req/s | (a) p99 | (b) service req/s | (b) p99 | ratio b/a | (c) storage floor req/s | ratio c/a | service/floor b/c |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
if (postgres) {
  console.log(
    "\nThe service on PostgreSQL (same total connections; two replicas get half each, p99 is the worse replica's) against one replica on SQLite (goal for two replicas: at least 0.8)\n",
  );
  console.log(
    '| payload | connections | SQLite req/s | SQLite p99 | PG 1 replica req/s | PG 1 p99 | ratio PG1/SQLite | PG 2 replicas req/s | PG 2 p99 | ratio PG2/SQLite |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of pgRows) console.log(r);
}
console.log(
  "\nCPU time per webhook (user + system, from /proc): the service's processes, and the PostgreSQL backends connected to its database; the ratio is to SQLite's\n",
);
console.log('| payload | connections | store | service | PostgreSQL backends | total | ratio to SQLite |');
console.log('|---|---:|---|---:|---:|---:|---:|');
for (const r of cpuRows) console.log(r);
if (notes.length) console.log(`\nNot clean:\n${notes.map((n) => `- ${n}`).join('\n')}`);
