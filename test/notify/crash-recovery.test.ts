import { join } from 'node:path';
import t, { type Test } from 'tap';
import { alert, freePort, payload, tempDir, uniqueGroup, WEBHOOK_TOKEN } from '../helpers.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { start, waitFor } from '../fakes/server-process.js';
import { SLACK_TOKEN } from './paging-helpers.js';

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * kill -9 while Slack is handling the page. `slackGotIt`: Slack had posted the message before the
 * process died (the answer never came back), or had not. `databaseUrl`: SQLite in a temp dir unless
 * given; on PostgreSQL the restarted process is a new lease owner, so it waits out the dead one's lease.
 */
async function killDuringSend(t: Test, slackGotIt: boolean, databaseUrl?: string) {
  const slack = await new SlackApiServer(SLACK_TOKEN).start();
  t.teardown(() => slack.stop());
  slack.failNext('chat.postMessage', { hang: true, record: slackGotIt });
  const dir = tempDir(t);
  const port = await freePort();
  const env = {
    PORT: String(port),
    DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'db.sqlite')}`,
    WEBHOOK_TOKEN,
    API_TOKEN: 'api',
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_API_URL: slack.url,
  };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');
  const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload(uniqueGroup(), [alert('RateLimitSpike')])),
  });
  t.equal(res.status, 200, 'committed');
  await until('the dispatcher to call chat.postMessage', () => slack.calls.some((c) => c.method === 'chat.postMessage'));
  first.child.kill('SIGKILL');
  await first.exited;

  const second = start(env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitFor(second, 'alert-triage ready');
  // SQLite (one process per file) takes the page back at start; PostgreSQL when the 30 s lease runs out.
  await until(
    'the page to be settled',
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/incidents/1`, { headers: { authorization: 'Bearer api' } });
      return ((await r.json()) as { timeline: { kind: string }[] }).timeline.some((e) => e.kind === 'paged');
    },
    databaseUrl ? 60_000 : 20_000,
  );
  const incident = (await (
    await fetch(`http://127.0.0.1:${port}/api/incidents/1`, { headers: { authorization: 'Bearer api' } })
  ).json()) as { timeline: { kind: string; detail: string }[] };
  second.child.kill('SIGTERM');
  await second.exited;
  return { slack, incident };
}

t.test(
  'killed (-9) while Slack was posting the page: after the restart it finds the page in the channel and does not post it again',
  async (t) => {
    const { slack, incident } = await killDuringSend(t, true);
    t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
    t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'never posted twice');
    t.ok(
      slack.calls.some((c) => c.method === 'conversations.history'),
      'looked in the channel first',
    );
    t.match(incident.timeline.find((e) => e.kind === 'paged')?.detail, /found already delivered, not sent again/);
  },
);

t.test('killed (-9) before Slack had the page: after the restart it is sent, once', async (t) => {
  const { slack, incident } = await killDuringSend(t, false);
  t.equal(slack.postedTo('#incidents').length, 1, 'delivered once');
  t.equal(incident.timeline.filter((e) => e.kind === 'paged').length, 1);
});

t.test('on PostgreSQL: killed (-9) mid-send, restarted; the incident is kept and the page found once the lease runs out', async (t) => {
  const { testDatabase } = await import('../store/postgres-test-db.js');
  const db = await testDatabase(t);
  if ('skip' in db) return t.plan(0, db.skip);
  const { slack, incident } = await killDuringSend(t, true, db.url);
  t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1, 'never posted twice');
  t.match(incident.timeline.find((e) => e.kind === 'paged')?.detail, /found already delivered, not sent again/);
});
