// End to end with a real Alertmanager: one Critical alert reaches Slack, e-mail, Microsoft Teams,
// Mattermost, ntfy and an outgoing webhook, each exactly once, through the running outbox.
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { validateAdaptiveCard } from '../fakes/adaptive-card-validator.js';
import { MailServer } from '../fakes/mail-server.js';
import { MattermostServer } from '../fakes/mattermost-server.js';
import { NtfyServer } from '../fakes/ntfy-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { TeamsWorkflowsServer } from '../fakes/teams-workflows-server.js';
import { WebhookReceiver } from '../fakes/webhook-receiver.js';
import { API_TOKEN, freePort, makeApp, shippedConfigText, WEBHOOK_TOKEN } from '../helpers.js';
import { skipWithoutAlertmanager, startAlertmanager, until } from './alertmanager-process.js';
import { SLACK_TOKEN } from '../notify/paging-helpers.js';

// Skipped with a message saying how to get Alertmanager when it is missing, failed under CI.
const skip = skipWithoutAlertmanager();
const SECRET = 'whsec-e2e-0123456789abcdef';

t.test('one Critical from a real Alertmanager reaches every channel, each once', { skip }, async (t) => {
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  const mail = await new MailServer().start();
  const teams = await new TeamsWorkflowsServer().start();
  const mattermost = await new MattermostServer('mm-e2e-token', { channels: ['ops/incidents'] }).start();
  const ntfy = await new NtfyServer({ tokens: { tk_e2e: ['*'] } }).start();
  const receiver = await (await WebhookReceiver.create(SECRET)).start();
  for (const s of [slack, mail, teams, mattermost, ntfy, receiver]) t.teardown(() => s.stop());

  const triage = parseConfig(
    shippedConfigText().replace(
      'critical: { channels: ["#security-incident"],',
      'critical: { channels: ["#security-incident"], to: ["teams:sec-ops", "mattermost:ops/incidents", "ntfy:sec-alerts", "webhook:status-page"],',
    ),
    'triage.yml',
  );
  const { app } = await makeApp(t, {
    clock: systemClock,
    config: {
      triage,
      channels: {
        slackBotToken: SLACK_TOKEN,
        slackApiUrl: slack.url,
        smtpUrl: mail.url,
        emailFrom: 'alert-triage@example.com',
        publicUrl: 'https://triage.example.com',
        teamsWebhookUrls: { SEC_OPS: teams.workflowUrl('Security') },
        mattermostUrl: mattermost.url,
        mattermostBotToken: 'mm-e2e-token',
        ntfyUrl: ntfy.url,
        ntfyToken: 'tk_e2e',
        outgoingWebhooks: { STATUS_PAGE: { url: `${receiver.url}/hook`, secret: SECRET } },
      },
      dispatch: { autoStart: true, pollMs: 100 },
    },
  });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });

  const am = await startAlertmanager(t, { webhook: { url: `http://127.0.0.1:${port}/webhook/alertmanager`, token: WEBHOOK_TOKEN } });
  const amUrl = am.url;

  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname: 'DataExfiltration', instance: 'db-1:5432', severity: 'critical' },
        annotations: { summary: 'outbound transfer from db-1', runbook_url: 'https://runbooks.example/exfil' },
        startsAt: new Date().toISOString(),
        generatorURL: 'http://prometheus:9090/graph',
      },
    ]),
  });
  t.equal(res.status, 200, 'Alertmanager took the alert');

  const delivered = () =>
    slack.postedTo('#security-incident').length > 0 &&
    mail.received.length > 0 &&
    teams.posts.length > 0 &&
    mattermost.posts.length > 0 &&
    ntfy.messages.length > 0 &&
    receiver.events.length > 0;
  await until(async () => delivered(), 'a page on every channel', am.logs);
  // A few more group intervals and outbox passes: nothing arrives twice.
  await new Promise((r) => setTimeout(r, 2500));

  const incidents = (await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Bearer ${API_TOKEN}` } })).json()
    .incidents as { id: number; severity: string }[];
  t.equal(incidents.length, 1);
  t.equal(incidents[0]!.severity, 'critical');
  const id = incidents[0]!.id;

  t.equal(slack.postedTo('#security-incident').length, 1, 'Slack: once');
  t.match(slack.postedTo('#security-incident')[0]!.text, /\[CRITICAL\] DataExfiltration/);
  t.equal(mail.received.length, 1, 'e-mail: once');
  t.match(mail.received[0]!.mail.subject, /^\[CRITICAL\] DataExfiltration/);
  t.equal(teams.posts.length, 1, 'Teams: once');
  t.same(validateAdaptiveCard(teams.posts[0]!.card), [], 'a valid Adaptive Card 1.4');
  t.match(teams.posts[0]!.text, /CRITICAL: DataExfiltration/);
  t.equal(mattermost.posts.length, 1, 'Mattermost: once');
  t.match(mattermost.posts[0]!.props, { attachments: [{ title: /CRITICAL: DataExfiltration/ }] });
  t.equal(ntfy.messages.length, 1, 'ntfy: once');
  t.match(ntfy.messages[0], { topic: 'sec-alerts', priority: 5, click: `https://triage.example.com/incidents/${id}` });
  t.equal(receiver.events.length, 1, 'webhook: once');
  t.match(receiver.events[0]!.body, { type: 'incident.opened', incident: { id, severity: 'critical' } });
  t.equal(receiver.rejected.length + receiver.duplicates.length, 0, 'signed right, sent once');

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  for (const channel of ['slack', 'email', 'teams', 'mattermost', 'ntfy', 'webhook'])
    t.match(metrics, new RegExp(`triage_notifications_total\\{channel="${channel}",outcome="sent"\\} 1\\b`), `${channel} counted once`);
});
