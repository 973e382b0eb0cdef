// npm run fakes: the stand-ins the tests use, for a local trial without a Slack workspace, a mail
// server, Teams, Mattermost, ntfy or Twilio. It starts a Slack-compatible server, an SMTP sink, a
// Teams Workflows trigger, a Mattermost API, an ntfy server, a webhook receiver and a Twilio
// stand-in, prints the environment that points the service at them, and prints every message they
// receive. Typed lines answer the phone: `answer`, `press 4`, `ring-out`, `reply +33600000003 4 12`.
// Ctrl-C stops them.
import { randomBytes } from 'node:crypto';
import { MailServer } from './mail-server.js';
import { MattermostServer } from './mattermost-server.js';
import { NtfyServer } from './ntfy-server.js';
import { SlackApiServer } from './slack-api-server.js';
import { cardText, TeamsWorkflowsServer } from './teams-workflows-server.js';
import { WebhookReceiver } from './webhook-receiver.js';
import { createInterface } from 'node:readline';
import { TwilioApiServer } from './twilio-api-server.js';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TOKEN = 'xoxb-local-trial';
const MM_TOKEN = 'mm-local-trial';
const NTFY_TOKEN = 'tk_localtrial';
const HOOK_SECRET = randomBytes(16).toString('hex');
const TWILIO_PORT = Number(process.env['FAKES_TWILIO_PORT'] ?? 4590);
const TWILIO_SID = 'AC0000000000000000000000000000trial';
const TWILIO_TOKEN = 'twilio-local-trial';
const TWILIO_FROM = '+15005550006';
const SERVICE_URL = process.env['PUBLIC_URL'] ?? 'http://localhost:8080';

const slack = new SlackApiServer(TOKEN);
slack.onMessage = (m, channel) => console.log(`\n[slack ${channel}${m.thread_ts ? ' (thread)' : ''}] ${m.text}`);
await slack.start(port('FAKES_SLACK_PORT', 4580));
const mail = await new MailServer().start(port('FAKES_SMTP_PORT', 4525), (m) =>
  console.log(`\n[e-mail to ${m.rcptTo.join(', ')}] ${m.mail.subject ?? ''}\n${(m.mail.text ?? '').slice(0, 600)}`),
);
const teams = await new TeamsWorkflowsServer().start(port('FAKES_TEAMS_PORT', 4581));
teams.onPost = (p) => console.log(`\n[teams] ${cardText(p.card).join('\n').slice(0, 600)}`);
const teamsUrl = teams.workflowUrl('Incidents');
const mattermost = await new MattermostServer(MM_TOKEN, { channels: ['ops/incidents', 'ops/town-square'] }).start(
  port('FAKES_MATTERMOST_PORT', 4582),
);
mattermost.onPost = (p, channel) => console.log(`\n[mattermost ${channel}${p.root_id ? ' (thread)' : ''}] ${p.message}`);
const ntfy = await new NtfyServer({ tokens: { [NTFY_TOKEN]: ['*'] } }).start(port('FAKES_NTFY_PORT', 4583));
ntfy.onMessage = (m) => console.log(`\n[ntfy ${m.topic} p${m.priority ?? 3}] ${m.title ?? ''}\n${m.message.slice(0, 400)}`);
const receiver = await (await WebhookReceiver.create(HOOK_SECRET)).start(port('FAKES_WEBHOOK_PORT', 4584));
receiver.onEvent = (e) => console.log(`\n[webhook ${e.type}] ${e.key} ${JSON.stringify(e.body['summary'])}`);

const twilio = await new TwilioApiServer(TWILIO_SID, TWILIO_TOKEN, [TWILIO_FROM]).start(TWILIO_PORT);
twilio.smsUrl = `${SERVICE_URL}/twilio/sms`;
twilio.onMessage = (m) => console.log(`\n[text to ${m.to}] ${m.body}`);
twilio.onCall = (c) => console.log(`\n[call to ${c.to}] type "answer", then "press 4" (or 6, 5, 1); or "ring-out"`);

console.log(`Stand-ins running: Slack-compatible API at ${slack.url}, SMTP sink at ${mail.url}, Teams Workflows at ${teams.url},
Mattermost at ${mattermost.url}, ntfy at ${ntfy.url}, webhook receiver at ${receiver.url},
Twilio at ${twilio.url}.
In another terminal, start the service pointed at them:

  SLACK_BOT_TOKEN=${TOKEN} SLACK_API_URL=${slack.url} SMTP_URL=${mail.url} EMAIL_FROM=alert-triage@localhost \\
  TEAMS_WEBHOOK_URL_INCIDENTS='${teamsUrl}' \\
  MATTERMOST_URL=${mattermost.url} MATTERMOST_BOT_TOKEN=${MM_TOKEN} NTFY_URL=${ntfy.url} NTFY_TOKEN=${NTFY_TOKEN} \\
  OUTGOING_WEBHOOK_URL_TRIAL=${receiver.url}/hook OUTGOING_WEBHOOK_SECRET_TRIAL=${HOOK_SECRET} \\
  TWILIO_ACCOUNT_SID=${TWILIO_SID} TWILIO_AUTH_TOKEN=${TWILIO_TOKEN} TWILIO_API_URL=${twilio.url} TWILIO_FROM=${TWILIO_FROM} \\
  PUBLIC_URL=${SERVICE_URL} npm start

with routes that name them, e.g. in config/triage.yml:
  high: { channels: ["#incidents"], to: ["teams:incidents", "mattermost:ops/incidents", "ntfy:ops", "webhook:trial"], ... }

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
  void Promise.all([slack.stop(), mail.stop(), teams.stop(), mattermost.stop(), ntfy.stop(), receiver.stop(), twilio.stop()]).then(() =>
    process.exit(0),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
