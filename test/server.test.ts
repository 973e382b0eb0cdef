import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixture, freePort, shippedConfigText, TEAMS_YAML, tempDir } from './helpers.js';
import { start, waitFor } from './fakes/server-process.js';

// This file starts the real service some fifteen times, each a new Node process loading TypeScript
// through tsx: alone it takes about 70 s, beside the rest of the suite on a shared 2-core machine
// over the default 120 s, which then cuts it off half-way.
t.setTimeout(300_000);

const SECRET = 'very-secret-webhook-token-4242';

t.test('serves, keeps secrets out of the log, shuts down on SIGTERM and keeps what it accepted', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const env = { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, WEBHOOK_TOKEN: SECRET, API_TOKEN: 'api-secret-77', LOG_LEVEL: 'trace' };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');
  const base = `http://127.0.0.1:${port}`;
  const res = await fetch(`${base}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify(fixture('firing-two-alerts').body),
  });
  t.equal(res.status, 200);
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'exits cleanly');
  t.match(first.output(), /shutting down/);
  t.notMatch(first.output(), SECRET, 'the webhook token is never logged');
  t.notMatch(first.output(), 'api-secret-77', 'the API token is never logged');

  const second = start(env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitFor(second, 'alert-triage ready');
  const got = await fetch(`${base}/api/incidents/1`, { headers: { authorization: 'Bearer api-secret-77' } });
  t.match(await got.json(), { id: 1, status: 'open', alerts: [{}, {}] });
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test('without tokens it starts for a trial with a loud warning; production refuses', async (t) => {
  const dir = tempDir(t);
  const trial = start({ PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'a.db')}` });
  t.teardown(() => trial.child.kill('SIGKILL'));
  await waitFor(trial, 'alert-triage ready');
  t.match(trial.output(), /WEBHOOK_TOKEN is not set/);
  t.match(trial.output(), /API_TOKEN is not set/);
  trial.child.kill('SIGTERM');
  await trial.exited;

  const prod = start({ NODE_ENV: 'production', PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'b.db')}` });
  t.equal(await prod.exited, 78);
  t.match(prod.output(), /WEBHOOK_TOKEN and API_TOKEN: required when NODE_ENV=production/);
});

t.test('a bad config file or DATABASE_URL stops it with a message naming the culprit', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'triage.yml');
  writeFileSync(file, 'sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}\nclassification: {defaultSeverity: severe, rules: []}\n');
  const bad = start({ TRIAGE_CONFIG: file, PORT: String(await freePort()) });
  t.equal(await bad.exited, 78);
  t.match(bad.output(), `${file}: classification.defaultSeverity: must be one of critical, high, medium, low`);

  const pg = start({ DATABASE_URL: 'postgres://triage:hunter2@127.0.0.1:5432/test', PORT: String(await freePort()) });
  t.equal(await pg.exited, 78);
  t.match(pg.output(), /PostgreSQL store is not supported yet/);
  t.notMatch(pg.output(), 'hunter2');
});

t.test('SIGTERM during a request: the request finishes and is committed, then the process exits', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const env = { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, WEBHOOK_TOKEN: SECRET, API_TOKEN: 'api' };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');

  // Send the headers and half the body, signal, then the rest: the request is in flight.
  const body = JSON.stringify(fixture('firing-two-alerts').body);
  const { request } = await import('node:http');
  const answer = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/webhook/alertmanager', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 200));
    setTimeout(() => {
      first.child.kill('SIGTERM');
      setTimeout(() => req.end(body.slice(200)), 300);
    }, 200);
  });
  const res = await answer;
  t.equal(res.status, 200, res.text);
  t.equal(await first.exited, 0);
  t.match(first.output(), /shutting down/);

  const second = start(env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitFor(second, 'alert-triage ready');
  const got = await fetch(`http://127.0.0.1:${port}/api/incidents`, { headers: { authorization: 'Bearer api' } });
  t.equal(((await got.json()) as { incidents: unknown[] }).incidents.length, 1, 'what was answered 200 is in the store');
  second.child.kill('SIGTERM');
  await second.exited;
});

t.test('SIGHUP reloads the config file: a good file adds a team at once, a bad one is refused and the old config kept', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'triage.yml');
  writeFileSync(file, shippedConfigText());
  const port = await freePort();
  const run = start({ TRIAGE_CONFIG: file, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'h.db')}`, API_TOKEN: 'api-77' });
  t.teardown(() => run.child.kill('SIGKILL'));
  await waitFor(run, 'alert-triage ready');
  const oncall = (team: string) => fetch(`http://127.0.0.1:${port}/api/oncall?team=${team}`, { headers: { authorization: 'Bearer api-77' } });
  t.equal((await oncall('payments')).status, 404, 'no such team yet');

  writeFileSync(file, shippedConfigText(TEAMS_YAML));
  run.child.kill('SIGHUP');
  await waitFor(run, 'config reloaded (SIGHUP)');
  t.equal((await oncall('payments')).status, 200, 'the new team answers without a restart');

  writeFileSync(file, shippedConfigText('teams: [{id: x}]\n'));
  run.child.kill('SIGHUP');
  await waitFor(run, 'config reload refused (SIGHUP)');
  t.match(run.output(), /teams\[0\]\.name: is required/);
  t.equal((await oncall('payments')).status, 200, 'the running config is kept');
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(metrics, 'triage_config_last_reload_successful 0');
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0);
});

t.test('a pager that cannot page: production refuses to start and names each variable; a trial warns', async (t) => {
  const dir = tempDir(t);
  const tokens = { WEBHOOK_TOKEN: 'w-token-1', API_TOKEN: 'a-token-1', SESSION_SECRET: 's'.repeat(32) };
  const prod = start({ ...tokens, NODE_ENV: 'production', PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'p.db')}` });
  t.equal(await prod.exited, 78);
  t.match(prod.output(), /SLACK_BOT_TOKEN: not set, but the config routes pages to Slack channels/);
  t.match(prod.output(), /SMTP_URL: not set, but the config routes pages to e-mail/);

  const odd = start({
    ...tokens,
    NODE_ENV: 'production',
    PORT: String(await freePort()),
    DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
    SLACK_BOT_TOKEN: 'xoxb-secret-999',
    SMTP_URL: 'mail.example.com:hunter2',
  });
  t.equal(await odd.exited, 78);
  t.match(odd.output(), /SLACK_SIGNING_SECRET: not set/);
  t.match(odd.output(), /SMTP_URL: not a URL such as smtp:/);
  t.match(odd.output(), /EMAIL_FROM: not set, but SMTP_URL is/);
  t.notMatch(odd.output(), 'hunter2', 'the URL is never echoed');
  t.notMatch(odd.output(), 'xoxb-secret-999');

  const trial = start({ PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 't.db')}` });
  t.teardown(() => trial.child.kill('SIGKILL'));
  await waitFor(trial, 'alert-triage ready');
  t.match(trial.output(), /SLACK_BOT_TOKEN: not set.*NODE_ENV=production refuses to start like this/);
  t.match(trial.output(), /SESSION_SECRET is not set: a secret was made up for this run/);
  trial.child.kill('SIGTERM');
  await trial.exited;
});

t.test('a database file that cannot be opened: exit 78 and a message, not a stack trace', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'not-a-folder'), 'x');
  const run = start({ PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'not-a-folder', 'db.sqlite')}` });
  t.equal(await run.exited, 78);
  t.match(run.output(), /DATABASE_URL: cannot open the SQLite database .*not-a-folder\/db\.sqlite \((ENOTDIR|EEXIST)\)/);
  t.notMatch(run.output(), /\n\s+at /, 'no stack trace');
});

t.test('a token put in the URL is refused and never reaches the log', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const run = start({ PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'u.db')}`, WEBHOOK_TOKEN: SECRET, LOG_LEVEL: 'info' });
  t.teardown(() => run.child.kill('SIGKILL'));
  await waitFor(run, 'alert-triage ready');
  const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager?token=${SECRET}&x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(res.status, 401);
  await waitFor(run, 'request completed');
  t.match(run.output(), '/webhook/alertmanager?token=[redacted]&x=[redacted]');
  t.notMatch(run.output(), SECRET);
  run.child.kill('SIGTERM');
  await run.exited;
});

t.test('SIGTERM with a Slack call hanging: exits within its grace, leaves the page unknown, and the next start finds it instead of posting again', async (t) => {
  const { SlackApiServer } = await import('./fakes/slack-api-server.js');
  const slack = await new SlackApiServer('xoxb-t').start();
  t.teardown(() => slack.stop());
  // Slack stores the message but never answers, and the client would wait a full minute.
  slack.failNext('chat.postMessage', { hang: true, record: true });
  const dir = tempDir(t);
  const port = await freePort();
  const env = {
    PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, WEBHOOK_TOKEN: SECRET, API_TOKEN: 'api',
    SLACK_BOT_TOKEN: 'xoxb-t', SLACK_API_URL: slack.url, SLACK_TIMEOUT: '60s',
  };
  const first = start(env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor(first, 'alert-triage ready');
  const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...fixture('firing-two-alerts').body, groupKey: '{}:{alertname="RateLimitSpike"}', alerts: fixture('firing-two-alerts').body.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: 'RateLimitSpike' } })) }),
  });
  t.equal(res.status, 200);
  for (const deadline = Date.now() + 20_000; slack.hanging.length === 0; ) {
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
  for (const deadline = Date.now() + 20_000; !timeline.some((e) => e.kind === 'paged'); ) {
    if (Date.now() > deadline) throw new Error('the page was never settled');
    await new Promise((r) => setTimeout(r, 50));
    timeline = ((await (await fetch(`http://127.0.0.1:${port}/api/incidents/1`, { headers: { authorization: 'Bearer api' } })).json()) as { timeline: typeof timeline }).timeline;
  }
  t.match(timeline.find((e) => e.kind === 'paged')!.detail, /found already delivered after a restart/);
  t.equal(slack.postedTo('#incidents').length, 1, 'exactly one message in the channel');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});
