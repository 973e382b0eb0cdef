// npm run fakes: the stand-ins the tests use, for a local trial without a Slack workspace or a mail
// server. It starts the Slack-compatible server and an SMTP sink, prints the environment that
// points the service at them, and prints every message they receive. Ctrl-C stops them.
import { MailServer } from './mail-server.js';
import { SlackApiServer } from './slack-api-server.js';

const SLACK_PORT = Number(process.env['FAKES_SLACK_PORT'] ?? 4580);
const SMTP_PORT = Number(process.env['FAKES_SMTP_PORT'] ?? 4525);
const TOKEN = 'xoxb-local-trial';

const slack = new SlackApiServer(TOKEN);
slack.onMessage = (m, channel) => console.log(`\n[slack ${channel}${m.thread_ts ? ' (thread)' : ''}] ${m.text}`);
await slack.start(SLACK_PORT);
const mail = await new MailServer().start(SMTP_PORT, (m) =>
  console.log(`\n[e-mail to ${m.rcptTo.join(', ')}] ${m.mail.subject ?? ''}\n${(m.mail.text ?? '').slice(0, 600)}`),
);

console.log(`Stand-ins running: Slack-compatible API at ${slack.url}, SMTP sink at ${mail.url}.
In another terminal, start the service pointed at them:

  SLACK_BOT_TOKEN=${TOKEN} SLACK_API_URL=${slack.url} SMTP_URL=${mail.url} EMAIL_FROM=alert-triage@localhost PUBLIC_URL=http://localhost:8080 npm start

then send it a test page (npx alert-triage fire --help). Every page is printed here. Ctrl-C stops.`);

const stop = () => {
  void Promise.all([slack.stop(), mail.stop()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
