// npm run bench:storm [-- --groups N --repeat K --receivers bare,sqlite,bare-ha,postgres --soak]: an alert storm
// from a real Alertmanager (Debian's 0.25). N distinct groups (10,000 by default) are posted to it at
// once and flushed together after group_wait 1s; in the middle of the storm one more Critical, in a
// group of its own, is posted. Receivers, one after the other in each repetition:
// - bare: a Fastify route with the service's schema and auth that answers 200 (bench-server.ts);
// - sqlite: the service on a SQLite file, Slack and e-mail pointed at the fakes;
// - postgres: two replicas on one fresh PostgreSQL database behind one address (a round-robin TCP
//   balancer in processes of its own, balancer-process.ts), posted to by two clustered
//   Alertmanagers, as an HA pair does;
// - bare-ha: the bare route in the postgres receiver's setting: two processes behind the same
//   balancer, posted to by two clustered Alertmanagers (twice the notifications, and the balancer's
//   and the second Alertmanager's CPU on the same cores).
// Reported as ratios to the bare route of the same repetition and setting (postgres to bare-ha when
// it ran, else to bare): (a) the time until Alertmanager has
// delivered every group, (b) its failed notifications (each retried), (c) the incidents stored (all,
// once), (d) the Critical from Alertmanager's receipt to its Slack post at the Slack-compatible fake
// (to its arrival, for the bare route) and to its first text at the Twilio stand-in, (e) peak RSS of the receiver processes. After each repetition
// it prints each receiver process's RSS and open file descriptors (/proc/<pid>/fd) once the outbox has
// drained. --soak keeps the receivers running through every repetition (each a new storm of new
// groups, from new Alertmanagers), so that what grows from one repetition to the next shows. Not a
// test: it prints and asserts nothing. Every process it starts is stopped by its pid.
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MailServer } from '../fakes/mail-server.js';
import { start, waitFor, type Running } from '../fakes/server-process.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { TwilioApiServer } from '../fakes/twilio-api-server.js';
import { freePort, shippedConfigText } from '../helpers.js';
import { scratchDatabase } from '../store/postgres-test-db.js';

const { values: opts } = parseArgs({
  options: {
    groups: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '1' },
    receivers: { type: 'string', default: 'bare,sqlite,bare-ha,postgres' },
    soak: { type: 'boolean', default: false },
  },
});
const GROUPS = Number(opts.groups);
const REPEAT = Number(opts.repeat);
const RECEIVERS = opts.receivers.split(',') as ReceiverKind[];
const SOAK = opts.soak;
const AM_BIN = process.env['ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager';
const WEBHOOK = 'storm-bench-webhook-token';
const SLACK_TOKEN = 'xoxb-storm';
const CRITICAL = 'DDoSAttack';
const ROOT = new URL('../..', import.meta.url).pathname;
/** Processes of the balancer in front of the PostgreSQL replicas: enough that 2 × N connections fit each one's open files. */
const BALANCER_WORKERS = Math.max(2, Math.ceil((4 * GROUPS) / 15_000));
/** STORM_PROFILE=<dir>: a CPU profile of each service process, written when it stops (read it with profile-summary.ts). */
const PROFILING = process.env['STORM_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['STORM_PROFILE']}`] : [];
const TWILIO = { sid: 'AC00000000000000000000000000000s01', token: 'storm-bench-twilio', from: '+15005550006' };

/**
 * The shipped config, each person given a phone and a Critical texted at once as well as posted to
 * Slack ("Wake a human"): (d) times the text too. No call: it would only repeat the text's path.
 */
function stormConfig(dir: string): string {
  let n = 0;
  const text = shippedConfigText('\nnotificationRules:\n  critical: [{ method: slack, after: 0s }, { method: sms, after: 0s }]\n').replace(
    /^( {4})slack: (U\w+)$/gm,
    (line, indent: string) => `${line}\n${indent}phone: "+3361000000${n++}"`,
  );
  const file = join(dir, 'triage.yml');
  writeFileSync(file, text);
  return file;
}

type ReceiverKind = 'bare' | 'sqlite' | 'bare-ha' | 'postgres';
/** Receivers posted to by two clustered Alertmanagers through the balancer (twice the notifications). */
const HA = new Set<ReceiverKind>(['bare-ha', 'postgres']);
/**
 * What a receiver's ratios are to: the bare route in the same setting (one Alertmanager posting to
 * one process, or two clustered ones posting through the balancer to two), else the single bare route.
 */
function baseOf(round: Result[], kind: ReceiverKind): Result | undefined {
  const same = HA.has(kind) ? round.find((r) => r.kind === 'bare-ha') : undefined;
  return same ?? round.find((r) => r.kind === 'bare');
}

interface Result {
  kind: ReceiverKind;
  /** (a) from posting the storm to Alertmanager's last successful notification of it, ms. */
  deliveredMs: number;
  /** (b) failed notification attempts, summed over the Alertmanagers (each one is retried), and notifications given up. */
  failed: number;
  gaveUp: number;
  /** Successful notifications, summed over the Alertmanagers. */
  sent: number;
  /**
   * Connections dropped at a full listen queue during the storm (the kernel's ListenOverflows, for
   * the whole machine): each is a SYN Alertmanager sends again 1, 3, 7, 15 s later. And the longest
   * accept queue seen at each listener (ss, every 250 ms).
   */
  listenDrops: number;
  acceptQueue: Record<string, number>;
  /** (c) incidents stored and distinct groups among them (undefined for the bare route). */
  stored?: { incidents: number; keys: number };
  /** (d) the Critical from Alertmanager's receipt to its Slack post (bare: its arrival), ms. */
  criticalMs: number | undefined;
  /** (d) the same to its first text at the Twilio stand-in, ms (the service only). */
  criticalSmsMs?: number | undefined;
  /** The part of it until the service opened the incident (the rest is the outbox's), ms. */
  criticalOpenedMs?: number | undefined;
  /** (e) peak RSS (VmHWM) of each receiver process, MiB. */
  rssMiB: number[];
  /** The largest V8 heap (total) of the service seen during the storm (sampled each second), MiB. */
  peakHeapMiB?: number;
  /** CPU seconds of the receiver processes during the storm (until every group was delivered). */
  cpuS: number;
  /** Slack messages in the storm's channel, how many were digests, and the most in any 1 s. */
  slack?: { messages: number; digests: number; folded: number; maxPerSecond: number };
  /**
   * Each receiver process after the repetition (the outbox drained): resident set (MiB), open file
   * descriptors and, for the service (its /metrics), the V8 heap in use (MiB) and Node's active handles.
   */
  after: { rssMiB: number; fds: number; heapMiB?: number; handles?: number; liveHeapMiB?: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sum of every series of `name` whose labels include all of `labels`. */
function total(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m && labels.every((l) => (m[1] ?? '').includes(l))) sum += Number(m[2]);
  }
  return sum;
}

/** Peak resident set of a process, from /proc (MiB); 0 once it is gone. */
function peakRssMiB(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process's resident set now (MiB) and its open file descriptors, from /proc; zeros once it is gone. */
function residentAndFds(pid: number | undefined): { rssMiB: number; fds: number } {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { rssMiB: m ? Number(m[1]) / 1024 : 0, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rssMiB: 0, fds: 0 };
  }
}

/**
 * The V8 heap a service process holds on to, MiB: a full garbage collection asked for through its
 * inspector (a soak starts the service with --inspect on `inspectPort`), then its /metrics. The
 * client is a child node with a WebSocket (global in Node 22, behind a flag in 20).
 */
async function liveHeap(inspectPort: number, metricsUrl: string): Promise<number | undefined> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  if (!target) return undefined;
  const client = `const ws = new WebSocket(${JSON.stringify(target.webSocketDebuggerUrl)});
ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
ws.onmessage = (m) => { if (JSON.parse(m.data).id === 1) { ws.close(); process.exit(0); } };
ws.onerror = () => process.exit(1);
setTimeout(() => process.exit(2), 60000);`;
  const code = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, ['--experimental-websocket', '-e', client], { stdio: 'ignore' }).once('exit', resolve),
  );
  if (code !== 0) return undefined;
  const text = await (await fetch(metricsUrl)).text();
  return total(text, 'nodejs_heap_size_used_bytes') / 2 ** 20;
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command's ") ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Stops a child by its pid and waits for it (SIGKILL after 10 s). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The kernel's count of connections dropped at a full listen queue (TcpExt ListenOverflows), machine-wide. */
function listenOverflows(): number {
  const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'))
    .map((l) => l.split(/\s+/));
  const i = names?.indexOf('ListenOverflows') ?? -1;
  return i > 0 ? Number(values?.[i]) : 0;
}

/** Samples the accept queue of each listener (ss's Recv-Q of a listening socket) every 250 ms; stop() gives the longest seen (NaN: no ss). */
function acceptQueues(listeners: Record<string, number>): { stop: () => Record<string, number> } {
  const longest: Record<string, number> = Object.fromEntries(Object.keys(listeners).map((name) => [name, 0]));
  const byPort = new Map(Object.entries(listeners).map(([name, port]) => [port, name]));
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    execFile('ss', ['-ltnH'], (err, out) => {
      busy = false;
      // No ss (iproute2): unknown, not zero.
      if (err) for (const name of Object.keys(longest)) longest[name] = Number.NaN;
      if (err) return;
      for (const line of out.split('\n')) {
        const [, recvQ, , local] = line.trim().split(/\s+/);
        const name = byPort.get(Number(local?.slice(local.lastIndexOf(':') + 1)));
        if (name !== undefined) longest[name] = Math.max(longest[name]!, Number(recvQ));
      }
    });
    // Four times a second: a process spawned each time is load of its own on the cores measured.
  }, 250);
  return {
    stop: () => {
      clearInterval(timer);
      return longest;
    },
  };
}

/** Alertmanagers (one, or a cluster of two) whose one receiver posts every group to `webhookUrl`. */
async function alertmanagers(dir: string, webhookUrl: string, count: 1 | 2) {
  const config = join(dir, 'alertmanager.yml');
  // The storm is grouped by `storm`, one group per alert, flushed after 1 s. A Critical is routed
  // on its own with no group_wait, as a paging route is: what is timed is Alertmanager and the
  // receiver under the storm, not the wait Alertmanager is told to make.
  writeFileSync(
    config,
    `route:
  receiver: triage
  group_by: [storm]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - receiver: triage
      matchers: ['severity="critical"']
      group_wait: 0s
receivers:
  - name: triage
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: false
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: ${WEBHOOK}
`,
  );
  const web = await Promise.all(Array.from({ length: count }, () => freePort()));
  const cluster = await Promise.all(Array.from({ length: count }, () => freePort()));
  const warnings = new Map<string, { count: number; first: string[] }>();
  const children = web.map((port, i) => {
    const args = [
      `--config.file=${config}`,
      `--storage.path=${join(dir, `am-${i}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ];
    if (count === 2) {
      // As in test/e2e/replicas.test.ts: slow gossip, so both peers post (nearly) every group, as
      // an HA pair does when gossip lags: the receiver absorbs the duplicates.
      args.push(
        `--cluster.listen-address=127.0.0.1:${cluster[i]}`,
        `--cluster.advertise-address=127.0.0.1:${cluster[i]}`,
        `--cluster.peer=127.0.0.1:${cluster[1 - i]}`,
        '--cluster.gossip-interval=10s',
        '--cluster.pushpull-interval=1m',
        '--cluster.peer-timeout=10ms',
        '--cluster.settle-timeout=2s',
      );
    } else {
      args.push('--cluster.listen-address=');
    }
    const child = spawn(AM_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Its warnings (a failed notification says why), kept for STORM_DEBUG: the first 20 of each kind.
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        const kind = /err="?([^"]{0,120})/.exec(line)?.[1]?.replace(/\d+/g, 'N') ?? line.slice(0, 80);
        if (!line.trim()) continue;
        const seen = warnings.get(kind) ?? { count: 0, first: [] as string[] };
        seen.count++;
        if (seen.first.length < 3) seen.first.push(`am${i}: ${line.slice(0, 600)}`);
        warnings.set(kind, seen);
      }
    });
    return child;
  });
  const urls = web.map((p) => `http://127.0.0.1:${p}`);
  for (const url of urls) await until(async () => (await fetch(`${url}/-/ready`)).ok, `${url} ready`, 30_000);
  if (count === 2) {
    for (const url of urls)
      await until(
        async () =>
          ((await (await fetch(`${url}/api/v2/status`)).json()) as { cluster: { peers?: unknown[] } }).cluster.peers?.length === 2,
        `${url} to see both peers`,
        30_000,
      );
  }
  /**
   * Webhook notifications, summed over the Alertmanagers: attempts finished (requests_total counts
   * an attempt once it has an answer; notifications_total counts at the start, in flight included),
   * failed attempts (each retried), and notifications given up.
   */
  const counts = async () => {
    let sent = 0;
    let failed = 0;
    let gaveUp = 0;
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const bad = total(text, 'alertmanager_notification_requests_failed_total', 'integration="webhook"');
      sent += total(text, 'alertmanager_notification_requests_total', 'integration="webhook"') - bad;
      failed += bad;
      gaveUp += total(text, 'alertmanager_notifications_failed_total', 'integration="webhook"');
    }
    return { sent, failed, gaveUp };
  };
  /** Posts alerts to every Alertmanager at once, as Prometheus does; resolves when all took them. */
  const post = async (alerts: object[]) => {
    const body = JSON.stringify(alerts);
    const res = await Promise.all(
      urls.map((url) => fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })),
    );
    for (const r of res) if (r.status !== 200) throw new Error(`Alertmanager answered ${r.status}: ${await r.text()}`);
  };
  return { children, counts, post, count, warnings };
}

function stormAlerts(rep: number): object[] {
  const startsAt = new Date().toISOString();
  const endsAt = new Date(Date.now() + 3_600_000).toISOString();
  return Array.from({ length: GROUPS }, (_, i) => ({
    labels: { alertname: 'StormDiskFilling', severity: 'info', storm: `r${rep}-g${i}`, instance: `node-${i % 500}:9100` },
    annotations: { summary: `Disk filling on node-${i % 500}` },
    startsAt,
    endsAt,
    generatorURL: 'http://prometheus:9090/graph',
  }));
}

function criticalAlert(rep: number): object {
  return {
    labels: { alertname: CRITICAL, severity: 'critical', storm: `r${rep}-critical`, instance: 'edge-1:443' },
    annotations: { summary: 'Traffic flood on the edge' },
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    generatorURL: 'http://prometheus:9090/graph',
  };
}

/** The receiver processes of one kind, started and ready, with how to stop them and read what they stored. */
interface Receiver {
  url: string;
  /** The listening sockets Alertmanager's connections queue at (the balancer's, each replica's), by name. */
  listeners: Record<string, number>;
  pids: () => (number | undefined)[];
  /** performance.now() when the Critical reached its destination (Slack, or the bare route), the first time after `since`. */
  criticalAt: (since: number) => number | undefined;
  /** performance.now() when the Critical's first text reached the Twilio stand-in after `since`. */
  smsAt?: (since: number) => number | undefined;
  stored?: () => Promise<{ incidents: number; keys: number }>;
  slack?: SlackApiServer;
  /** What went wrong on the way (the proxy's socket errors), for STORM_DEBUG. */
  debug?: () => string;
  /** The service's /metrics, each replica's. */
  metricsUrls?: string[];
  /** Each replica's inspector port (--soak). */
  inspectPorts?: number[];
  /** When the service opened the Critical's incident, as performance.now(). */
  criticalOpenedAt?: () => Promise<number | undefined>;
  stop: () => Promise<void>;
}

function serviceEnv(
  slack: SlackApiServer,
  mail: MailServer,
  twilio: TwilioApiServer,
  config: string,
  databaseUrl: string,
  port: number,
  inspectPort: number | undefined,
): Record<string, string> {
  return {
    // A soak collects the garbage of each service process after each repetition through its
    // inspector, so that the heap in use then is what the process holds on to (see liveHeap).
    ...(inspectPort ? { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` } : {}),
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    WEBHOOK_TOKEN: WEBHOOK,
    API_TOKEN: 'storm-bench-api-token',
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_API_URL: slack.url,
    SMTP_URL: mail.url,
    EMAIL_FROM: 'alert-triage@example.com',
    TRIAGE_CONFIG: config,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_API_URL: twilio.url,
    TWILIO_FROM: TWILIO.from,
    // As deployed: a line per request, which the parent keeps in memory.
    LOG_LEVEL: 'info',
  };
}

/** When the service at `base` opened the Critical's incident (its openedAt), on this process's performance.now() clock. */
async function openedAt(base: string): Promise<number | undefined> {
  const res = await fetch(`${base}/api/incidents?severity=critical&limit=1`, {
    headers: { authorization: 'Bearer storm-bench-api-token' },
  });
  const [incident] = ((await res.json()) as { incidents: { openedAt: string }[] }).incidents;
  return incident ? Date.parse(incident.openedAt) - performance.timeOrigin : undefined;
}

/** When the first text after `since` reached the Twilio stand-in (the storm's Lows text nobody). */
function twilioSmsAt(twilio: TwilioApiServer, since: number): number | undefined {
  return twilio.requests.find((r) => r.at >= since && r.method === 'POST' && r.path.endsWith('/Messages.json'))?.at;
}

/** When the first chat.postMessage to the Critical's channel after `since` arrived at the fake. */
function slackCriticalAt(slack: SlackApiServer, since: number): number | undefined {
  return slack.calls.find((c) => c.at >= since && c.method === 'chat.postMessage' && c.args['channel'] === '#security-incident')?.at;
}

/**
 * One address in front of the replicas: a round-robin TCP balancer in BALANCER_WORKERS processes
 * (balancer-process.ts), each holding its share of the storm's connections within its own limit of
 * open files.
 */
async function balancer(
  upstreams: number[],
): Promise<{ port: number; stats: { accepted: number; errors: Record<string, number> }; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/bench/balancer-process.ts', String(port), String(BALANCER_WORKERS), upstreams.join(',')],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stats = { accepted: 0, errors: {} as Record<string, number> };
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the balancer exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; accepted?: number; errors?: Record<string, number> };
      if (m.ready) resolve();
      if (m.accepted !== undefined) Object.assign(stats, m);
    });
  });
  return { port, stats, stop: () => stop(child) };
}

/** The bare route: one process, or (`replicas` 2) two behind the balancer, as the PostgreSQL replicas are. */
async function bare(replicas: 1 | 2): Promise<Receiver> {
  const seen: number[] = [];
  const routes = await Promise.all(
    Array.from({ length: replicas }, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-server.ts', 'bare'], {
        cwd: ROOT,
        env: { ...process.env, BENCH_TOKEN: WEBHOOK, BENCH_ANNOUNCE: CRITICAL },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buffered = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the bare route exited with ${code}`)));
        child.stdout.on('data', (d: Buffer) => {
          buffered += d.toString();
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = JSON.parse(buffered.slice(0, nl)) as { port?: number; seen?: string };
            buffered = buffered.slice(nl + 1);
            if (line.port) resolve(line.port);
            if (line.seen) seen.push(performance.now());
          }
        });
      });
      return { child, port };
    }),
  );
  const proxy = replicas === 2 ? await balancer(routes.map((r) => r.port)) : undefined;
  return {
    url: `http://127.0.0.1:${proxy?.port ?? routes[0]!.port}/webhook/alertmanager`,
    listeners: Object.fromEntries([...(proxy ? [['balancer', proxy.port]] : []), ...routes.map((r, i) => [`route ${i}`, r.port])]),
    pids: () => routes.map((r) => r.child.pid),
    criticalAt: (since) => seen.filter((at) => at >= since).sort((a, b) => a - b)[0],
    stop: async () => {
      await proxy?.stop();
      await Promise.all(routes.map((r) => stop(r.child)));
    },
  };
}

async function sqlite(dir: string): Promise<Receiver> {
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  const mail = await new MailServer().start();
  const twilio = await new TwilioApiServer(TWILIO.sid, TWILIO.token, [TWILIO.from]).start();
  const port = await freePort();
  const path = join(dir, 'storm.db');
  const inspectPort = SOAK ? await freePort() : undefined;
  const service = start(serviceEnv(slack, mail, twilio, stormConfig(dir), `sqlite:${path}`, port, inspectPort), PROFILING);
  await waitFor(service, 'alert-triage ready', 60_000);
  return {
    url: `http://127.0.0.1:${port}/webhook/alertmanager`,
    listeners: { service: port },
    pids: () => [service.child.pid],
    criticalAt: (since) => slackCriticalAt(slack, since),
    smsAt: (since) => twilioSmsAt(twilio, since),
    slack,
    metricsUrls: [`http://127.0.0.1:${port}/metrics`],
    ...(inspectPort ? { inspectPorts: [inspectPort] } : {}),
    criticalOpenedAt: () => openedAt(`http://127.0.0.1:${port}`),
    stored: async () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT count(*) AS incidents, count(DISTINCT key) AS keys FROM incidents`).get() as {
          incidents: number;
          keys: number;
        };
      } finally {
        db.close();
      }
    },
    stop: async () => {
      await stop(service.child);
      await slack.stop();
      await mail.stop();
      await twilio.stop();
    },
  };
}

async function postgres(dir: string): Promise<Receiver | string> {
  const db = await scratchDatabase('alert_triage_storm');
  if ('unavailable' in db) return db.unavailable;
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  const mail = await new MailServer().start();
  const twilio = await new TwilioApiServer(TWILIO.sid, TWILIO.token, [TWILIO.from]).start();
  const config = stormConfig(dir);
  const ports = [await freePort(), await freePort()];
  const replicas: Running[] = [];
  const inspectPorts: number[] = [];
  // One at a time: the first runs the migrations.
  for (const port of ports) {
    const inspectPort = SOAK ? await freePort() : undefined;
    if (inspectPort) inspectPorts.push(inspectPort);
    const r = start(serviceEnv(slack, mail, twilio, config, db.url, port, inspectPort), PROFILING);
    replicas.push(r);
    await waitFor(r, 'alert-triage ready', 60_000);
  }
  const proxy = await balancer(ports);
  return {
    url: `http://127.0.0.1:${proxy.port}/webhook/alertmanager`,
    listeners: { balancer: proxy.port, ...Object.fromEntries(ports.map((p, i) => [`replica ${i}`, p])) },
    pids: () => replicas.map((r) => r.child.pid),
    criticalAt: (since) => slackCriticalAt(slack, since),
    smsAt: (since) => twilioSmsAt(twilio, since),
    slack,
    metricsUrls: ports.map((p) => `http://127.0.0.1:${p}/metrics`),
    inspectPorts,
    debug: () =>
      `balancer: ${proxy.stats.accepted} connections, errors ${JSON.stringify(proxy.stats.errors)}\n` +
      replicas
        .map(
          (r, i) =>
            `replica ${i}: ${r
              .output()
              .split('\n')
              .filter((l) => /"level":(40|50)/.test(l) && !/is not set|not set, so/.test(l))
              .slice(0, 3)
              .join('\n  ')}`,
        )
        .join('\n'),
    criticalOpenedAt: () => openedAt(`http://127.0.0.1:${ports[0]}`),
    stored: async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ incidents: number; keys: number }>(
          `SELECT count(*)::int AS incidents, count(DISTINCT key)::int AS keys FROM incidents`,
        );
        return rows[0]!;
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      await proxy.stop();
      await Promise.all(replicas.map((r) => stop(r.child)));
      await slack.stop();
      await mail.stop();
      await twilio.stop();
      await db.drop();
    },
  };
}

/** Slack's side of the storm since `since`: messages to the storm's channel, digests among them, pages folded, the most in any second. */
function slackSummary(slack: SlackApiServer, since: number): Result['slack'] {
  const posts = slack.calls.filter((c) => c.at >= since && c.method === 'chat.postMessage' && c.args['channel'] === '#alerts');
  let folded = 0;
  let digests = 0;
  for (const p of posts) {
    const m = /^(\d+) incident updates/.exec(String(p.args['text']));
    if (m) {
      digests++;
      folded += Number(m[1]);
    }
  }
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < posts.length; i++) {
    while (posts[i]!.at - posts[j]!.at >= 1000) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  return { messages: posts.length, digests, folded, maxPerSecond };
}

/** A receiver of each kind, started for one repetition, or (--soak) once for all of them. */
interface Started {
  receiver: Receiver | string;
  dir: string;
  /** The incidents, and distinct groups among them, it had stored before this repetition. */
  storedBefore: { incidents: number; keys: number };
}

async function startReceiver(kind: ReceiverKind): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), `storm-${kind}-`));
  const receiver =
    kind === 'bare' ? await bare(1) : kind === 'bare-ha' ? await bare(2) : kind === 'sqlite' ? await sqlite(dir) : await postgres(dir);
  return { receiver, dir, storedBefore: { incidents: 0, keys: 0 } };
}

async function stopReceiver(started: Started): Promise<void> {
  if (typeof started.receiver !== 'string') await started.receiver.stop();
  rmSync(started.dir, { recursive: true, force: true });
}

async function run(kind: ReceiverKind, rep: number, started: Started): Promise<Result | string> {
  const receiver = started.receiver;
  if (typeof receiver === 'string') return receiver;
  const dir = mkdtempSync(join(started.dir, `am-${rep}-`));
  let am: Awaited<ReturnType<typeof alertmanagers>> | undefined;
  let sampling: NodeJS.Timeout | undefined;
  try {
    am = await alertmanagers(dir, receiver.url, HA.has(kind) ? 2 : 1);
    const expected = (GROUPS + 1) * am.count;

    const cpuBefore = receiver.pids().reduce<number>((n, pid) => n + cpuSeconds(pid), 0);
    const dropsBefore = listenOverflows();
    const queues = acceptQueues(receiver.listeners);
    const began = performance.now();
    // The service's V8 heap during the storm, each second (its /metrics): what the peak RSS is made of.
    let peakHeapMiB = 0;
    sampling = setInterval(() => {
      for (const url of receiver.metricsUrls ?? [])
        void fetch(url)
          .then((r) => r.text())
          .then((text) => (peakHeapMiB = Math.max(peakHeapMiB, total(text, 'nodejs_heap_size_total_bytes') / 2 ** 20)))
          .catch(() => {});
    }, 1000);
    await am.post(stormAlerts(rep));
    // The Critical goes in once half the storm is delivered.
    let criticalPostedAt: number | undefined;
    let last = { sent: 0, failed: 0, gaveUp: 0 };
    let lastChange = performance.now();
    for (;;) {
      const now = await am.counts();
      if (now.sent !== last.sent) lastChange = performance.now();
      last = now;
      if (criticalPostedAt === undefined && now.sent >= (GROUPS * am.count) / 2) {
        await am.post([criticalAlert(rep)]);
        criticalPostedAt = performance.now();
      }
      if (criticalPostedAt !== undefined && now.sent >= expected) break;
      // An HA peer may skip a group its peer's gossip says is sent: then the count stops short. A
      // single Alertmanager is waited for to the end (a slow receiver holds its notifications open).
      if (am.count === 2 && criticalPostedAt !== undefined && performance.now() - lastChange > 30_000) break;
      if (performance.now() - began > 1_200_000) throw new Error(`storm not delivered in 20 minutes: ${JSON.stringify(now)}`);
      await sleep(20);
    }
    const deliveredMs = lastChange - began;
    clearInterval(sampling);
    const acceptQueue = queues.stop();
    const listenDrops = listenOverflows() - dropsBefore;
    const cpuS = receiver.pids().reduce<number>((n, pid) => n + cpuSeconds(pid), 0) - cpuBefore;
    // The Critical's Slack post (or arrival), waited for a little longer if need be.
    await until(() => receiver.criticalAt(began) !== undefined, 'the Critical to arrive', 60_000).catch(() => {});
    const criticalAt = receiver.criticalAt(began);
    const smsAt = receiver.smsAt?.(began);
    const result: Result = {
      kind,
      deliveredMs,
      failed: last.failed,
      gaveUp: last.gaveUp,
      sent: last.sent,
      listenDrops,
      acceptQueue,
      criticalMs: criticalAt !== undefined && criticalPostedAt !== undefined ? criticalAt - criticalPostedAt : undefined,
      ...(receiver.smsAt
        ? { criticalSmsMs: smsAt !== undefined && criticalPostedAt !== undefined ? smsAt - criticalPostedAt : undefined }
        : {}),
      rssMiB: receiver.pids().map(peakRssMiB),
      ...(receiver.metricsUrls ? { peakHeapMiB } : {}),
      cpuS,
      after: [],
    };
    if (receiver.stored) {
      // This repetition's: a soak's receiver keeps the incidents of the ones before.
      const stored = await receiver.stored();
      result.stored = { incidents: stored.incidents - started.storedBefore.incidents, keys: stored.keys - started.storedBefore.keys };
      started.storedBefore = stored;
    }
    const opened = await receiver.criticalOpenedAt?.();
    if (opened !== undefined && criticalPostedAt !== undefined) result.criticalOpenedMs = opened - criticalPostedAt;
    if (process.env['STORM_DEBUG']) {
      for (const url of receiver.metricsUrls ?? [])
        console.log(
          `${url}:\n` +
            (await (await fetch(url)).text())
              .split('\n')
              .filter((l) => /^triage_(webhook_requests|incidents_opened|alerts_received)/.test(l))
              .join('\n'),
        );
      if (receiver.debug) console.log(receiver.debug());
      for (const [kind, w] of am.warnings) console.log(`Alertmanager, ${w.count}x: ${kind}\n  ${w.first.join('\n  ')}`);
    }
    if (receiver.slack) {
      // Slack's side once the outbox has folded every storm page into a message (60 s at most).
      const slack = receiver.slack;
      await until(
        () => {
          const s = slackSummary(slack, began)!;
          return s.folded + s.messages - s.digests >= GROUPS;
        },
        'the outbox to drain',
        60_000,
      ).catch(() => {});
      result.slack = slackSummary(slack, began);
    }
    // What the receiver holds once the storm is over (the outbox drained, Alertmanager's connections
    // closed): what a soak watches grow.
    await Promise.all(am.children.map(stop));
    am = undefined;
    await sleep(1000);
    result.after = receiver.pids().map(residentAndFds);
    for (const [i, url] of (receiver.metricsUrls ?? []).entries()) {
      const text = await (await fetch(url)).text();
      Object.assign(result.after[i] ?? {}, {
        heapMiB: total(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        handles: total(text, 'nodejs_active_handles'),
      });
      const inspectPort = receiver.inspectPorts?.[i];
      if (inspectPort) Object.assign(result.after[i] ?? {}, { liveHeapMiB: await liveHeap(inspectPort, url) });
    }
    return result;
  } finally {
    clearInterval(sampling);
    if (am) await Promise.all(am.children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const afterText = (a: Result['after'][number]) =>
  `${fmt(a.rssMiB, 0)} MiB, ${a.fds}${a.heapMiB === undefined ? '' : `, ${fmt(a.heapMiB, 0)} MiB, ${a.handles}`}${
    a.liveHeapMiB === undefined ? '' : `, live heap ${fmt(a.liveHeapMiB, 0)} MiB`
  }`;
const results: Result[][] = [];
const soaking = new Map<ReceiverKind, Started>();
for (let rep = 0; rep < REPEAT; rep++) {
  const round: Result[] = [];
  for (const kind of RECEIVERS) {
    let started = soaking.get(kind);
    if (!started) {
      started = await startReceiver(kind);
      if (SOAK) soaking.set(kind, started);
    }
    try {
      const r = await run(kind, rep, started);
      if (typeof r === 'string') console.log(`${kind}: skipped: ${r}`);
      else round.push(r);
    } finally {
      if (!SOAK || rep === REPEAT - 1) await stopReceiver(started);
    }
  }
  results.push(round);
  console.log(
    `\nrepetition ${rep + 1}/${REPEAT}: ${GROUPS} groups, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, listen queues capped at ${readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()} (net.core.somaxconn)`,
  );
  console.log(
    '| receiver | (a) delivered | ratio | (b) failed (gave up) | sent | SYNs dropped (longest accept queue) | (c) incidents (distinct) | (d) Critical | ratio | (e) peak RSS | CPU | Slack #alerts: messages, digests, folded, max/s | after: RSS, open fds, heap used, active handles |',
  );
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|');
  for (const r of round) {
    const base = baseOf(round, r.kind);
    console.log(
      `| ${r.kind} | ${fmt(r.deliveredMs / 1000)} s | ${base ? fmt(r.deliveredMs / base.deliveredMs) : '-'} | ${r.failed} (${r.gaveUp}) | ${r.sent} | ${r.listenDrops} (${Object.entries(
        r.acceptQueue,
      )
        .map(([name, n]) => `${name} ${n}`)
        .join(', ')}) | ${
        r.stored ? `${r.stored.incidents} (${r.stored.keys})` : '-'
      } | ${r.criticalMs === undefined ? 'never' : `${fmt(r.criticalMs, 0)} ms`}${
        r.criticalOpenedMs === undefined ? '' : ` (opened at ${fmt(r.criticalOpenedMs, 0)} ms)`
      }${'criticalSmsMs' in r ? `, text ${r.criticalSmsMs === undefined ? 'never' : `${fmt(r.criticalSmsMs, 0)} ms`}` : ''} | ${
        base?.criticalMs && r.criticalMs !== undefined ? fmt(r.criticalMs / base.criticalMs, 1) : '-'
      } | ${r.rssMiB.map((m) => `${fmt(m, 0)} MiB`).join(', ')}${r.peakHeapMiB ? ` (heap ${fmt(r.peakHeapMiB, 0)} MiB)` : ''} | ${fmt(r.cpuS, 1)} s | ${
        r.slack ? `${r.slack.messages}, ${r.slack.digests}, ${r.slack.folded}, ${r.slack.maxPerSecond}` : '-'
      } | ${r.after.map(afterText).join('; ')} |`,
    );
  }
}

if (REPEAT > 1) {
  console.log(`\nover ${REPEAT} repetitions (min-max; the Critical's p99 is the worst of them):`);
  for (const kind of RECEIVERS) {
    const rs = results.flatMap((round) => round.filter((r) => r.kind === kind));
    if (!rs.length) continue;
    const ratios = results
      .map((round) => {
        const b = baseOf(round, kind);
        const r = round.find((x) => x.kind === kind);
        return b && r ? r.deliveredMs / b.deliveredMs : undefined;
      })
      .filter((x): x is number => x !== undefined);
    const crit = rs.map((r) => r.criticalMs ?? Infinity).sort((a, b) => a - b);
    const texts = rs.filter((r) => 'criticalSmsMs' in r).map((r) => r.criticalSmsMs ?? Infinity);
    const rss = rs.flatMap((r) => r.rssMiB);
    console.log(
      `${kind}: (a) ratio ${fmt(Math.min(...ratios))}-${fmt(Math.max(...ratios))}; (b) failed ${Math.max(...rs.map((r) => r.failed))} at most, gave up ${Math.max(...rs.map((r) => r.gaveUp))}; ` +
        `(d) Critical p50 ${fmt(crit[Math.floor((crit.length - 1) / 2)]!, 0)} ms, p99 ${fmt(crit.at(-1)!, 0)} ms${
          texts.length ? `, its text p99 ${fmt(Math.max(...texts), 0)} ms` : ''
        }; (e) peak RSS ${fmt(Math.min(...rss), 0)}-${fmt(Math.max(...rss), 0)} MiB`,
    );
  }
}

if (SOAK && REPEAT > 1) {
  console.log(
    '\nsoak: each receiver process after each repetition (RSS MiB / open fds / heap used MiB / active handles / heap in use after a full GC MiB), and the growth from the second-last to the last:',
  );
  for (const kind of RECEIVERS) {
    const rs = results.flatMap((round) => round.filter((r) => r.kind === kind));
    if (rs.length < 2) continue;
    const [prev, last] = [rs.at(-2)!, rs.at(-1)!];
    const series = rs
      .map((r) =>
        r.after
          .map((a) =>
            [
              fmt(a.rssMiB, 0),
              a.fds,
              a.heapMiB === undefined ? undefined : fmt(a.heapMiB, 0),
              a.handles,
              a.liveHeapMiB === undefined ? undefined : fmt(a.liveHeapMiB, 0),
            ]
              .filter((x) => x !== undefined)
              .join('/'),
          )
          .join(' + '),
      )
      .join(' -> ');
    const growth = last.after
      .map((a, i) => {
        const b = prev.after[i];
        const heap =
          a.heapMiB !== undefined && b?.heapMiB !== undefined
            ? `, heap ${fmt(a.heapMiB - b.heapMiB, 1)} MiB, ${a.handles! - b.handles!} handles`
            : '';
        const live =
          a.liveHeapMiB !== undefined && b?.liveHeapMiB !== undefined ? `, live heap ${fmt(a.liveHeapMiB - b.liveHeapMiB, 1)} MiB` : '';
        return `RSS ${fmt(a.rssMiB - (b?.rssMiB ?? 0), 1)} MiB, ${a.fds - (b?.fds ?? 0)} fds${heap}${live}`;
      })
      .join('; ');
    console.log(`${kind}: ${series}; last growth ${growth}`);
  }
}
