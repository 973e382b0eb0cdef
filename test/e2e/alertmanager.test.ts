import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { StoreUnavailableError, type IncidentStore } from '../../src/store/store.js';
import { API_TOKEN, freePort, makeApp, tempDir, WEBHOOK_TOKEN } from '../helpers.js';
import { MailServer } from '../fakes/mail-server.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { SLACK_TOKEN } from '../notify/paging-helpers.js';
import { skipWithoutAlertmanager, startAlertmanager, until } from './alertmanager-process.js';
import { systemClock } from '../../src/clock.js';

// Skipped with a message saying how to get Alertmanager when it is missing, failed under CI.
const skip = skipWithoutAlertmanager();

t.test('a real Alertmanager posts to the receiver: group, retry on 503, resolve', { skip }, async (t) => {
  const dir = tempDir(t);
  // The first two commits fail as a full disk would: Alertmanager must retry, not drop.
  let failures = 2;
  const real = new SqliteStore({ path: join(dir, 'e2e.db') });
  const flaky = new Proxy(real, {
    get(target, prop) {
      if (prop === 'applyNotification') {
        return (...args: Parameters<IncidentStore['applyNotification']>) =>
          failures-- > 0 ? Promise.reject(new StoreUnavailableError('simulated outage')) : target.applyNotification(...args);
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  // Real pages too: a Slack-API-compatible server and a real SMTP server, the outbox loop running.
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  t.teardown(() => slack.stop());
  const mail = await new MailServer().start();
  t.teardown(() => mail.stop());
  const { app } = await makeApp(t, {
    store: flaky,
    clock: systemClock,
    config: {
      channels: { slackBotToken: SLACK_TOKEN, slackApiUrl: slack.url, smtpUrl: mail.url, emailFrom: 'alert-triage@example.com' },
      dispatch: { autoStart: true, pollMs: 100 },
    },
  });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });

  const am = await startAlertmanager(t, { webhook: { url: `http://127.0.0.1:${port}/webhook/alertmanager`, token: WEBHOOK_TOKEN } });
  const amUrl = am.url;

  const startsAt = new Date().toISOString();
  const post = async (alerts: object[]) => {
    const res = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    t.equal(res.status, 200, 'Alertmanager took the alerts');
  };
  const ddos = (instance: string, endsAt?: string) => ({
    labels: { alertname: 'DDoSAttack', instance, severity: 'critical' },
    annotations: { summary: `request flood on ${instance}`, runbook_url: 'https://runbooks.example/ddos' },
    startsAt,
    ...(endsAt ? { endsAt } : {}),
    generatorURL: 'http://prometheus:9090/graph',
  });
  const disk = { labels: { alertname: 'LowDiskSpace', instance: 'db:9100' }, annotations: { summary: 'disk 85% full' }, startsAt };
  await post([ddos('lb-1:443'), ddos('lb-2:443'), disk]);

  const incidents = async () =>
    (await app.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: `Bearer ${API_TOKEN}` } })).json().incidents as {
      id: number;
      title: string;
      severity: string;
      status: string;
      key: string;
    }[];
  const details = async (id: number) =>
    (await app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: { authorization: `Bearer ${API_TOKEN}` } })).json();

  await until(async () => (await incidents()).length === 2, 'two incidents, one per group', am.logs);
  t.ok(failures < 0, 'the simulated 503s happened and Alertmanager retried past them');
  const list = await incidents();
  const d = list.find((i) => i.title.startsWith('DDoSAttack'))!;
  const low = list.find((i) => i.title.startsWith('LowDiskSpace'))!;
  t.match(d, { severity: 'critical', status: 'open', key: /^triage\/\{\}:\{alertname="DDoSAttack"\}$/ });
  t.match(low, { severity: 'low', status: 'open' });
  await until(async () => (await details(d.id)).alerts.length === 2, 'both DDoS alerts in one incident');

  // Resolve one DDoS alert, then the other: the incident resolves itself.
  const now = new Date().toISOString();
  await post([ddos('lb-1:443', now)]);
  await until(async () => (await details(d.id)).alerts.some((a: { status: string }) => a.status === 'resolved'), 'one alert resolved');
  t.equal((await details(d.id)).status, 'open');
  await post([ddos('lb-2:443', new Date().toISOString())]);
  await until(async () => (await details(d.id)).status === 'resolved', 'incident resolved');
  const done = await details(d.id);
  t.equal(done.resolvedBy, 'alertmanager');
  t.same(
    done.alerts.map((a: { status: string }) => a.status),
    ['resolved', 'resolved'],
  );

  // Give Alertmanager a few more group intervals: nothing is opened twice.
  await new Promise((r) => setTimeout(r, 3500));
  t.equal((await incidents()).length, 2);

  // The pages: the critical DDoS in #security-incident and by e-mail, the low disk alert in #alerts;
  // one announcement each, then the resolution in the DDoS thread.
  await until(async () => slack.postedTo('#security-incident').some((m) => /Resolved/.test(m.text)), 'the resolution in Slack');
  const [announcement, ...thread] = slack.postedTo('#security-incident');
  t.match(announcement!.text, /\[CRITICAL\] DDoSAttack/);
  t.equal(announcement!.updates, 1, 'the announcement was updated to resolved');
  t.match(
    thread.map((m) => m.text),
    [/^(<@\w+> )*Resolved automatically/],
  );
  t.equal(slack.postedTo('#alerts').length, 1);
  t.match(slack.postedTo('#alerts')[0]!.text, /\[LOW\] LowDiskSpace/);
  await until(async () => mail.received.length >= 1, 'the e-mail');
  t.equal(mail.received.length, 1, 'one e-mail: for the critical incident');
  t.match(mail.received[0]!.mail.subject, /^\[CRITICAL\] DDoSAttack/);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /triage_webhook_requests_total\{code="503"\} 2/);
  t.match(metrics, /triage_incidents_opened_total\{severity="critical"\} 1/);
});
