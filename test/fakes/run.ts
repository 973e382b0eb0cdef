// npm run fakes: the stand-ins the tests use, for a local trial without a Slack workspace, a mail
// server, Teams, Mattermost or ntfy. It starts a Slack-compatible server, an SMTP sink, a Teams
// Workflows trigger, a Mattermost API, an ntfy server and a webhook receiver, prints the environment
// that points the service at them, and prints every message they receive. Ctrl-C stops them.
import { randomBytes } from 'node:crypto';
import { MailServer } from './mail-server.js';
import { MattermostServer } from './mattermost-server.js';
import { NtfyServer } from './ntfy-server.js';
import { SlackApiServer } from './slack-api-server.js';
import { cardText, TeamsWorkflowsServer } from './teams-workflows-server.js';
import { WebhookReceiver } from './webhook-receiver.js';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TOKEN = 'xoxb-local-trial';
const MM_TOKEN = 'mm-local-trial';
const NTFY_TOKEN = 'tk_localtrial';
const HOOK_SECRET = randomBytes(16).toString('hex');

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

console.log(`Stand-ins running: Slack-compatible API at ${slack.url}, SMTP sink at ${mail.url}, Teams Workflows at ${teams.url},
Mattermost at ${mattermost.url}, ntfy at ${ntfy.url}, webhook receiver at ${receiver.url}.
In another terminal, start the service pointed at them:

  SLACK_BOT_TOKEN=${TOKEN} SLACK_API_URL=${slack.url} SMTP_URL=${mail.url} EMAIL_FROM=alert-triage@localhost \\
  TEAMS_WEBHOOK_URL_INCIDENTS='${teamsUrl}' \\
  MATTERMOST_URL=${mattermost.url} MATTERMOST_BOT_TOKEN=${MM_TOKEN} NTFY_URL=${ntfy.url} NTFY_TOKEN=${NTFY_TOKEN} \\
  OUTGOING_WEBHOOK_URL_TRIAL=${receiver.url}/hook OUTGOING_WEBHOOK_SECRET_TRIAL=${HOOK_SECRET} \\
  PUBLIC_URL=http://localhost:8080 npm start

with routes that name them, e.g. in config/triage.yml:
  high: { channels: ["#incidents"], to: ["teams:incidents", "mattermost:ops/incidents", "ntfy:ops", "webhook:trial"], ... }

then send it a test page (npx alert-triage fire --help). Every page is printed here. Ctrl-C stops.`);

const stop = () => {
  void Promise.all([slack.stop(), mail.stop(), teams.stop(), mattermost.stop(), ntfy.stop(), receiver.stop()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
