// npx tsx test/bench/page-latency.ts: how long after the webhook's 200 a page leaves. The service runs
// in a child process with Slack pointed at the Slack-compatible fake and e-mail at the real SMTP test
// server, both in this process; each isolated Critical incident is timed from the 200 to the
// chat.postMessage arriving at the fake, and to the e-mail being accepted. Not a test: it prints
// p50/p99 and asserts nothing. It runs on SQLite, then (when a PostgreSQL answers at
// TEST_DATABASE_URL, in a database of its own) on PostgreSQL with one replica, and with two
// replicas where the webhook goes to one and either may send (woken by LISTEN/NOTIFY).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../helpers.js';
import { MailServer } from '../fakes/mail-server.js';
import { start, waitFor } from '../fakes/server-process.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { TEST_DATABASE_URL } from '../store/postgres-test-db.js';

const N = Number(process.env['PAGES'] ?? 50);
// The first pages pay for cold code paths (module loading, the first connections): not counted.
const WARMUP = 3;
const TOKEN = 'xoxb-bench';
// Slack takes one message per second per channel: isolated incidents are spaced beyond that.
const SPACING_MS = 1200;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a page');
    await new Promise((r) => setImmediate(r));
  }
}

/** Runs `fn` with the URL of a fresh PostgreSQL database, dropped after; undefined when none answers. */
async function withPostgres<T>(fn: (url: string) => Promise<T>): Promise<T | undefined> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`PostgreSQL rows skipped: none answers at TEST_DATABASE_URL (${(err as Error).message})`);
    return undefined;
  }
  const name = `alert_triage_latency_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Times pages with `replicas` service processes on `databaseUrl`; every webhook goes to the first. */
async function measure(label: string, databaseUrl: string, replicas = 1): Promise<void> {
  const slack = await new SlackApiServer(TOKEN).start();
  const mail = await new MailServer().start();
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const servers = ports.map((port) =>
    start({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      WEBHOOK_TOKEN: 'bench',
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
      SMTP_URL: mail.url,
      EMAIL_FROM: 'alert-triage@example.com',
    }),
  );
  const port = ports[0]!;
  try {
    await Promise.all(servers.map((s) => waitFor(s, 'alert-triage ready')));
    const slackMs: number[] = [];
    const mailMs: number[] = [];
    for (let n = 0; n < N + WARMUP; n++) {
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage').length;
      const mails = mail.received.length;
      const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
        body: JSON.stringify({
          receiver: 'bench',
          status: 'firing',
          version: '4',
          groupKey: `{}:{alertname="DDoSAttack",n="${n}"}`,
          truncatedAlerts: 0,
          groupLabels: { alertname: 'DDoSAttack', n: String(n) },
          commonLabels: {},
          commonAnnotations: {},
          externalURL: 'http://alertmanager:9093',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'DDoSAttack', n: String(n) },
              annotations: { summary: 'flood' },
              startsAt: new Date().toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: 'http://p',
              fingerprint: `fp${n}`,
            },
          ],
        }),
      });
      const answered = performance.now();
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      await res.arrayBuffer();
      await until(() => slack.calls.filter((c) => c.method === 'chat.postMessage').length > posts && mail.received.length > mails);
      if (n >= WARMUP) {
        slackMs.push(Math.max(0, slack.calls.filter((c) => c.method === 'chat.postMessage')[posts]!.at - answered));
        mailMs.push(Math.max(0, mail.received[mails]!.at - answered));
      }
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    for (const [name, xs] of [
      ['Slack call arrived', slackMs],
      ['e-mail accepted', mailMs],
    ] as const) {
      const s = [...xs].sort((a, b) => a - b);
      console.log(
        `${label}: ${name}: n=${s.length} p50=${quantile(s, 0.5).toFixed(1)} ms p90=${quantile(s, 0.9).toFixed(1)} ms p99=${quantile(s, 0.99).toFixed(1)} ms`,
      );
    }
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await slack.stop();
    await mail.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'page-latency-'));
try {
  await measure('SQLite', `sqlite:${join(dir, 'db.sqlite')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
await withPostgres((url) => measure('PostgreSQL, 1 replica', url));
await withPostgres((url) => measure('PostgreSQL, 2 replicas', url, 2));
