// npx tsx test/bench/phone-latency.ts: how long after the webhook's 200 a Critical's text and call
// leave, against the Slack page of the same incident as the baseline of the same run. The service
// runs in a child process with Slack pointed at the Slack-compatible fake and Twilio at the Twilio
// stand-in, both in this process; each isolated Critical is timed from the 200 to the
// chat.postMessage, the POST Messages.json and the POST Calls.json arriving. Each incident pages a
// different person (a team per person, matched by a label), so the per-person pacing (a text every
// 30 s, a call a minute) never holds a page back; texts and calls come from two numbers, each paced
// at Twilio's one request a second. Not a test: it prints p50/p99 and the ratios, and asserts nothing.
// On SQLite, then on PostgreSQL (a fresh database at TEST_DATABASE_URL) when one answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, shippedConfigText } from '../helpers.js';
import { start, waitFor } from '../fakes/server-process.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { TwilioApiServer } from '../fakes/twilio-api-server.js';
import { postGroup, quantile, until, withPostgres } from './latency-tools.js';

const N = Number(process.env['PAGES'] ?? 50);
const WARMUP = 3;
const TOKEN = 'xoxb-bench';
const SID = 'AC00000000000000000000000000000b01';
const AUTH = 'bench-auth-token';
const SMS_FROM = '+15005550006';
const VOICE_FROM = '+15005550007';
// Slack takes a message a second per channel, and each from-number a request a second.
const SPACING_MS = 1200;

/** The shipped config with one person per incident: team pN matches n="N" and has pN alone on call. */
function config(people: number): string {
  const contacts = Array.from(
    { length: people },
    (_, i) => `  - { id: p${i}, name: Person ${i}, phone: "+3361${String(i).padStart(7, '0')}", roles: [bench] }\n`,
  ).join('');
  const teams = Array.from(
    { length: people },
    (_, i) =>
      `  - id: t${i}\n    name: Team ${i}\n    match: ['n="${i}"']\n    oncall: { timeZone: UTC, handoff: "09:00", rotation: 1w, start: 2026-01-05, members: [p${i}], overrides: [] }\n`,
  ).join('');
  return (
    shippedConfigText()
      .replace('contacts:\n', `contacts:\n${contacts}`)
      // The on-call alone, no e-mail: the text, the call and the room's Slack message are what is timed.
      .replace(
        'critical: { channels: ["#security-incident"], notify: [oncall, security-lead, cto], email: true }',
        'critical: { channels: ["#security-incident"], notify: [oncall], email: false }',
      ) +
    `\nnotificationRules:\n  critical: [{ method: slack, after: 0s }, { method: sms, after: 0s }, { method: voice, after: 0s }]\nteams:\n${teams}`
  );
}

async function measure(label: string, databaseUrl: string, dir: string): Promise<void> {
  const slack = await new SlackApiServer(TOKEN).start();
  const twilio = await new TwilioApiServer(SID, AUTH, [SMS_FROM, VOICE_FROM]).start();
  const file = join(dir, `triage-${label.replace(/\W+/g, '-')}.yml`);
  writeFileSync(file, config(N + WARMUP));
  const port = await freePort();
  const server = start({
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    TRIAGE_CONFIG: file,
    WEBHOOK_TOKEN: 'bench',
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: slack.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: AUTH,
    TWILIO_API_URL: twilio.url,
    TWILIO_FROM: SMS_FROM,
    TWILIO_VOICE_FROM: VOICE_FROM,
  });
  const posts = () => slack.calls.filter((c) => c.method === 'chat.postMessage');
  const creates = (kind: string) => twilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${kind}.json`));
  try {
    await waitFor(server, 'alert-triage ready', 90_000);
    const ms: Record<'slack' | 'sms' | 'voice', number[]> = { slack: [], sms: [], voice: [] };
    for (let n = 0; n < N + WARMUP; n++) {
      const before = { slack: posts().length, sms: creates('Messages').length, voice: creates('Calls').length };
      const answered = await postGroup(port, 'PaymentsApiDown', n, { severity: 'critical' }, 'error rate 34%');
      await until(() => posts().length > before.slack && creates('Messages').length > before.sms && creates('Calls').length > before.voice);
      if (n >= WARMUP) {
        ms.slack.push(Math.max(0, posts()[before.slack]!.at - answered));
        ms.sms.push(Math.max(0, creates('Messages')[before.sms]!.at - answered));
        ms.voice.push(Math.max(0, creates('Calls')[before.voice]!.at - answered));
      }
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
    };
    const base = stats(ms.slack);
    for (const [name, xs] of [
      ['Slack chat.postMessage (baseline)', ms.slack],
      ['Twilio POST Messages.json', ms.sms],
      ['Twilio POST Calls.json', ms.voice],
    ] as const) {
      const s = stats(xs);
      console.log(
        `${label}: ${name}: n=${xs.length} p50=${s.p50.toFixed(1)} ms (${(s.p50 / base.p50).toFixed(2)}x Slack) p99=${s.p99.toFixed(1)} ms (${(s.p99 / base.p99).toFixed(2)}x Slack)`,
      );
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await slack.stop();
    await twilio.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'phone-latency-'));
try {
  await measure('SQLite', `sqlite:${join(dir, 'db.sqlite')}`, dir);
  await withPostgres('alert_triage_phone_latency', (url) => measure('PostgreSQL', url, dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
