// The status page under a burst (issue 24; docs/status-page.md "Load"): webhooks per second and p99
// latency of the real service alone, then under a crowd of visitors reloading /status and its JSON
// summary (test/bench/status-crowd.ts, a process of its own), reported as ratios to the alone run
// of the same service process in the same run:
// - `servicePort`: the crowd on the service's own port, within its answer budget
//   (server.statusAnswersPerSecond: beyond it visitors wait their turn, then get a 503);
// - `statusPort`: the crowd on the status listener (STATUS_PORT), a thread of its own;
// - `unbudgeted`: a second service process whose budget is out of reach (BENCH_STATUS_RATE), the
//   crowd on its own port: what the budget spares the webhooks.
// Each measure is taken BENCH_ROUNDS times, interleaved (alone, under the crowd, alone, ...), and
// the median of each kept: on a shared machine the neighbours' load drifts within a minute. Beside
// each, the service process's CPU (user + system, all threads, from /proc) per second of the run.
// tsx test/bench/status-bench.ts; BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), STATUS_CONNECTIONS (200).
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { benchBody } from './bench-payload.js';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const VISITORS = Number(process.env['STATUS_CONNECTIONS'] ?? 200);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ROOT = new URL('../..', import.meta.url).pathname;

const slack = await new SlackApiServer('xoxb-bench').start();
const mail = await new MailServer().start();
const dirs: string[] = [];
const children: ChildProcess[] = [];

interface Service {
  port: number;
  statusPort?: number;
  pid: number;
}

/** CPU seconds the process has used, all its threads (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function service(env: Record<string, string>): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'status-bench-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', 'service', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SLACK_URL: slack.url, BENCH_SMTP_URL: mail.url, ...env },
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { ...(JSON.parse(line) as { port: number; statusPort?: number }), pid: child.pid! };
}

async function webhooks(svc: Service) {
  let next = Math.floor(Math.random() * 1e9);
  const cpu = cpuSeconds(svc.pid);
  const r = await autocannon({
    url: `http://127.0.0.1:${svc.port}/webhook/alertmanager`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ setupRequest: (req) => ({ ...req, body: benchBody(5, next++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, serviceCpu: (cpuSeconds(svc.pid) - cpu) / DURATION };
}

/** Starts the crowd; resolves once it is loaded and asking, with the promise of its result. */
async function crowd(port: number): Promise<{ done: Promise<Crowd> }> {
  const child = spawn(
    process.execPath,
    // A second longer than the webhooks' run, which starts half a second after it.
    ['--import', 'tsx', 'test/bench/status-crowd.ts', `http://127.0.0.1:${port}`, String(DURATION + 1), String(VISITORS)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the crowd exited without a result');
    return JSON.parse(value) as Crowd;
  };
  await next(); // {"ready":true}
  return { done: next() };
}

type Webhooks = Awaited<ReturnType<typeof webhooks>>;
type Crowd = Record<string, number>;
/** The median, not the mean: one round hit by a neighbour's burst should not move the result. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return +(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2).toFixed(2);
};
const average = <T extends Record<string, number>>(runs: T[]): T =>
  Object.fromEntries(Object.keys(runs[0]!).map((k) => [k, median(runs.map((r) => r[k]!))])) as T;
const ratio = (under: Webhooks, alone: Webhooks) => ({
  rps: +(under.rps / alone.rps).toFixed(2),
  p99: +(under.p99 / alone.p99).toFixed(2),
});

/** Webhooks under the crowd on `crowdPort`; the crowd starts first, so that it is at full speed throughout. */
async function underCrowd(svc: Service, crowdPort: number): Promise<{ webhooks: Webhooks; crowd: Crowd }> {
  const visitors = await crowd(crowdPort);
  await new Promise((r) => setTimeout(r, 500));
  const [burst, status] = await Promise.all([webhooks(svc), visitors.done]);
  return { webhooks: burst, crowd: status };
}

const report = (alone: Webhooks[], under: { webhooks: Webhooks; crowd: Crowd }[]) => {
  const a = average(alone);
  const w = average(under.map((u) => u.webhooks));
  // Each round's webhooks per second and p99 under the crowd, to see the spread.
  const each = under.map((u) => `${u.webhooks.rps}/s p99 ${u.webhooks.p99} ms`);
  return { webhooks: w, ratio: ratio(w, a), crowd: average(under.map((u) => u.crowd)), rounds: each };
};

try {
  const loadBefore = loadavg().map((l) => +l.toFixed(2));
  const main = await service({ BENCH_STATUS_PORT: '1' });
  const open = await service({ BENCH_STATUS_RATE: '1000000000' });
  await webhooks(main); // warm-up
  await webhooks(open);
  const runs = {
    alone: [] as Webhooks[],
    servicePort: [] as Awaited<ReturnType<typeof underCrowd>>[],
    statusPort: [] as Awaited<ReturnType<typeof underCrowd>>[],
  };
  const openRuns = { alone: [] as Webhooks[], under: [] as Awaited<ReturnType<typeof underCrowd>>[] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.alone.push(await webhooks(main));
    runs.servicePort.push(await underCrowd(main, main.port));
    runs.alone.push(await webhooks(main));
    runs.statusPort.push(await underCrowd(main, main.statusPort!));
    openRuns.alone.push(await webhooks(open));
    openRuns.under.push(await underCrowd(open, open.port));
  }
  console.log(
    JSON.stringify(
      {
        seconds: DURATION,
        rounds: ROUNDS,
        webhookConnections: CONNECTIONS,
        statusConnections: VISITORS,
        loadAverage: { before: loadBefore, after: loadavg().map((l) => +l.toFixed(2)) },
        webhooksAlone: { ...average(runs.alone), rounds: runs.alone.map((w) => `${w.rps}/s p99 ${w.p99} ms`) },
        servicePort: report(runs.alone, runs.servicePort),
        statusPort: report(runs.alone, runs.statusPort),
        unbudgeted: { webhooksAlone: average(openRuns.alone), ...report(openRuns.alone, openRuns.under) },
      },
      null,
      2,
    ),
  );
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await slack.stop();
  await mail.stop();
  await new Promise((r) => setTimeout(r, 500));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
