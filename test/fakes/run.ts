// npm run fakes: the stand-ins the tests use, for a local trial without a Slack workspace, a mail
// server or a Twilio account. It starts the Slack-compatible server, an SMTP sink and the Twilio
// stand-in, prints the environment that points the service at them, and prints every message they
// receive. Typed lines answer the phone: `answer`, `press 4`, `ring-out`, `reply +33600000003 4 12`.
// Ctrl-C stops them.
import { MailServer } from './mail-server.js';
import { SlackApiServer } from './slack-api-server.js';
import { createInterface } from 'node:readline';
import { TwilioApiServer } from './twilio-api-server.js';

const SLACK_PORT = Number(process.env['FAKES_SLACK_PORT'] ?? 4580);
const SMTP_PORT = Number(process.env['FAKES_SMTP_PORT'] ?? 4525);
const TOKEN = 'xoxb-local-trial';
const TWILIO_PORT = Number(process.env['FAKES_TWILIO_PORT'] ?? 4590);
const TWILIO_SID = 'AC0000000000000000000000000000trial';
const TWILIO_TOKEN = 'twilio-local-trial';
const TWILIO_FROM = '+15005550006';
const SERVICE_URL = process.env['PUBLIC_URL'] ?? 'http://localhost:8080';

const slack = new SlackApiServer(TOKEN);
slack.onMessage = (m, channel) => console.log(`\n[slack ${channel}${m.thread_ts ? ' (thread)' : ''}] ${m.text}`);
await slack.start(SLACK_PORT);
const mail = await new MailServer().start(SMTP_PORT, (m) =>
  console.log(`\n[e-mail to ${m.rcptTo.join(', ')}] ${m.mail.subject ?? ''}\n${(m.mail.text ?? '').slice(0, 600)}`),
);

const twilio = await new TwilioApiServer(TWILIO_SID, TWILIO_TOKEN, [TWILIO_FROM]).start(TWILIO_PORT);
twilio.smsUrl = `${SERVICE_URL}/twilio/sms`;
twilio.onMessage = (m) => console.log(`\n[text to ${m.to}] ${m.body}`);
twilio.onCall = (c) => console.log(`\n[call to ${c.to}] type "answer", then "press 4" (or 6, 5, 1); or "ring-out"`);

console.log(`Stand-ins running: Slack-compatible API at ${slack.url}, SMTP sink at ${mail.url}, Twilio at ${twilio.url}.
In another terminal, start the service pointed at them:

  SLACK_BOT_TOKEN=${TOKEN} SLACK_API_URL=${slack.url} SMTP_URL=${mail.url} EMAIL_FROM=alert-triage@localhost PUBLIC_URL=${SERVICE_URL} \\
  TWILIO_ACCOUNT_SID=${TWILIO_SID} TWILIO_AUTH_TOKEN=${TWILIO_TOKEN} TWILIO_API_URL=${twilio.url} TWILIO_FROM=${TWILIO_FROM} npm start

then send it a test page (npx alert-triage fire --help). Every page is printed here. Ctrl-C stops.`);

// The phone in the terminal: the latest call is answered, keyed or rung out; a text is replied to.
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [verb, ...rest] = line.trim().split(/\s+/);
  const call = twilio.calls.at(-1);
  const said = (tw: { says: string[] }) => console.log(`[call says] ${tw.says.join(' ')}`);
  const run = async () => {
    if (verb === 'answer' && call) said(await twilio.answer(call));
    else if (verb === 'press' && call) said(await twilio.press(call, rest[0] ?? ''));
    else if (verb === 'ring-out' && call) await twilio.ringOut(call);
    else if (verb === 'reply' && rest.length >= 2)
      console.log(`[reply] ${(await twilio.reply(rest[0]!, rest.slice(1).join(' '))).messages.join(' ')}`);
    else console.log('answer | press <key> | ring-out | reply <from number> <text>');
  };
  run().catch((err: unknown) => console.log(`[phone] ${(err as Error).message}`));
});

const stop = () => {
  lines.close();
  void Promise.all([slack.stop(), mail.stop(), twilio.stop()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
