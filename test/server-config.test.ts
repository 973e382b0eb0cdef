// The process and its configuration: SIGHUP reloads, refusing a pager that cannot page, an
// unopenable database, tokens in URLs kept out of the log.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, shippedConfigText, TEAMS_YAML, tempDir } from './helpers.js';
import { start, waitFor } from './fakes/server-process.js';

const SECRET = 'very-secret-webhook-token-4242';

t.test('SIGHUP reloads the config file: a good file adds a team at once, a bad one is refused and the old config kept', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'triage.yml');
  writeFileSync(file, shippedConfigText());
  const port = await freePort();
  const run = start({ TRIAGE_CONFIG: file, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'h.db')}`, API_TOKEN: 'api-77' });
  t.teardown(() => run.child.kill('SIGKILL'));
  await waitFor(run, 'alert-triage ready');
  const oncall = (team: string) =>
    fetch(`http://127.0.0.1:${port}/api/oncall?team=${team}`, { headers: { authorization: 'Bearer api-77' } });
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
  const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager?token=${SECRET}&x=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  t.equal(res.status, 401);
  await waitFor(run, 'request completed');
  t.match(run.output(), '/webhook/alertmanager?token=[redacted]&x=[redacted]');
  const lost = await fetch(`http://127.0.0.1:${port}/nowhere?token=${SECRET}`);
  t.equal(lost.status, 404);
  t.notMatch(await lost.text(), SECRET, "nor an unknown route's answer");
  await waitFor(run, '/nowhere?token=[redacted]');
  t.notMatch(run.output(), SECRET);
  run.child.kill('SIGTERM');
  await run.exited;
});

t.test('the listen backlog: 4096 by default (capped by somaxconn), server.backlog when set', async (t) => {
  // A storm opens a connection per alert group at once; with Node's 511 the queue overflowed while
  // the event loop was busy, and the kernel reset connections that Alertmanager then counted as failed.
  const dir = tempDir(t);
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  /** listen(2)'s backlog of the socket on `port`: ss shows it as a listener's Send-Q. */
  const backlogOf = (port: number) =>
    Number(
      execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)[2],
    );
  const run = async (config: string, expected: number, what: string) => {
    const file = join(dir, `${expected}.yml`);
    writeFileSync(file, config);
    const port = await freePort();
    const r = start({ TRIAGE_CONFIG: file, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, `${expected}.db`)}` });
    t.teardown(() => r.child.kill('SIGKILL'));
    // A service may take a minute to start on a busy machine.
    await waitFor(r, 'alert-triage ready', 90_000);
    t.equal(backlogOf(port), expected, what);
    r.child.kill('SIGTERM');
    await r.exited;
  };
  const shipped = shippedConfigText().replace(/^ {2}backlog: .*\n/m, '');
  await run(shipped, Math.min(4096, somaxconn), "the default, not Node's 511");
  await run(shipped.replace('server:\n', 'server:\n  backlog: 1000\n'), Math.min(1000, somaxconn), 'as configured');
});
