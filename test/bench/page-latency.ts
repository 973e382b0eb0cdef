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
import { freePort } from '../helpers.js';
import { MailServer } from '../fakes/mail-server.js';
import { start, waitFor } from '../fakes/server-process.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { postGroup, quantile, until, withPostgres } from './latency-tools.js';

const N = Number(process.env['PAGES'] ?? 50);
// The first pages pay for cold code paths (module loading, the first connections): not counted.
const WARMUP = 3;
const TOKEN = 'xoxb-bench';
// Slack takes one message per second per channel: isolated incidents are spaced beyond that.
const SPACING_MS = 1200;

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
      const answered = await postGroup(port, 'DDoSAttack', n, {}, 'flood');
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
await withPostgres('alert_triage_latency', (url) => measure('PostgreSQL, 1 replica', url));
await withPostgres('alert_triage_latency', (url) => measure('PostgreSQL, 2 replicas', url, 2));
