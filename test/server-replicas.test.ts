// The process with pages in flight and with a second replica: shutdown mid-send, two replicas on PostgreSQL.
import { join } from 'node:path';
import t from 'tap';
import { fixture, freePort, tempDir } from './helpers.js';
import { start, waitFor } from './fakes/server-process.js';

const SECRET = 'very-secret-webhook-token-4242';

t.test(
  'SIGTERM with a Slack call hanging: exits within its grace, leaves the page unknown, and the next start finds it instead of posting again',
  async (t) => {
    const { SlackApiServer } = await import('./fakes/slack-api-server.js');
    const slack = await new SlackApiServer('xoxb-t').start();
    t.teardown(() => slack.stop());
    // Slack stores the message but never answers, and the client would wait a full minute.
    slack.failNext('chat.postMessage', { hang: true, record: true });
    const dir = tempDir(t);
    const port = await freePort();
    const env = {
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      WEBHOOK_TOKEN: SECRET,
      API_TOKEN: 'api',
      SLACK_BOT_TOKEN: 'xoxb-t',
      SLACK_API_URL: slack.url,
      SLACK_TIMEOUT: '60s',
    };
    const first = start(env);
    t.teardown(() => first.child.kill('SIGKILL'));
    await waitFor(first, 'alert-triage ready');
    const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...fixture('firing-two-alerts').body,
        groupKey: '{}:{alertname="RateLimitSpike"}',
        alerts: fixture('firing-two-alerts').body.alerts.map((a) => ({
          ...a,
          labels: { ...a.labels, alertname: 'RateLimitSpike', severity: 'warning' },
        })),
      }),
    });
    t.equal(res.status, 200);
    for (const deadline = Date.now() + 20_000; slack.hanging.length === 0;) {
      if (Date.now() > deadline) throw new Error('the Slack call never came');
      await new Promise((r) => setTimeout(r, 20));
    }
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    t.equal(await first.exited, 0, 'a clean exit, not the hard deadline');
    t.comment(`SIGTERM to exit with a Slack call hanging: ${Date.now() - signalled} ms`);
    t.match(first.output(), /aborting them/);
    t.notMatch(first.output(), /took too long/);

    const second = start(env);
    t.teardown(() => second.child.kill('SIGKILL'));
    await waitFor(second, 'alert-triage ready');
    let timeline: { kind: string; detail: string }[] = [];
    for (const deadline = Date.now() + 20_000; !timeline.some((e) => e.kind === 'paged');) {
      if (Date.now() > deadline) throw new Error('the page was never settled');
      await new Promise((r) => setTimeout(r, 50));
      timeline = (
        (await (await fetch(`http://127.0.0.1:${port}/api/incidents/1`, { headers: { authorization: 'Bearer api' } })).json()) as {
          timeline: typeof timeline;
        }
      ).timeline;
    }
    t.match(timeline.find((e) => e.kind === 'paged')!.detail, /found already delivered, not sent again/);
    t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0);
  },
);

t.test(
  'two replicas on one PostgreSQL database: the same group posted to both gives one incident; the password is never logged',
  async (t) => {
    const { testDatabase } = await import('./store/postgres-test-db.js');
    const db = await testDatabase(t);
    if ('skip' in db) return t.plan(0, db.skip);
    const url = new URL(db.url);
    // The test server trusts local connections, so a password is accepted and ignored: enough to check it stays out of the log.
    url.password = 'pg-hunter2';
    const ports = [await freePort(), await freePort()];
    const replicas = ports.map((port) =>
      start({ PORT: String(port), DATABASE_URL: url.toString(), WEBHOOK_TOKEN: SECRET, API_TOKEN: 'api', LOG_LEVEL: 'info' }),
    );
    for (const r of replicas) {
      t.teardown(() => r.child.kill('SIGKILL'));
    }
    // Both start together on an empty database: the migrations take turns under the advisory lock.
    await Promise.all(replicas.map((r) => waitFor(r, 'alert-triage ready')));
    const post = (port: number) =>
      fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify(fixture('firing-two-alerts').body),
      });
    const answers = await Promise.all([post(ports[0]!), post(ports[1]!), post(ports[0]!), post(ports[1]!)]);
    t.same(
      answers.map((r) => r.status),
      [200, 200, 200, 200],
    );
    const list = (await (
      await fetch(`http://127.0.0.1:${ports[1]}/api/incidents`, { headers: { authorization: 'Bearer api' } })
    ).json()) as { incidents: { alerts?: unknown }[] };
    t.equal(list.incidents.length, 1, 'one incident');
    t.equal((await fetch(`http://127.0.0.1:${ports[0]}/readyz`)).status, 200);
    for (const r of replicas) r.child.kill('SIGTERM');
    t.same(await Promise.all(replicas.map((r) => r.exited)), [0, 0]);
    for (const r of replicas) {
      t.match(r.output(), /"store":"postgres:\/\/\*\*\*@127\.0\.0\.1:5432\//, 'the store is named, masked');
      t.notMatch(r.output(), 'pg-hunter2', 'the password is never logged');
    }
  },
);
