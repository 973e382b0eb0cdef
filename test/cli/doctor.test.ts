import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SMTPServer } from 'smtp-server';
import { main } from '../../src/cli/main.js';
import { freePort, makeApp, tempDir } from '../helpers.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

async function smtp(t: Parameters<typeof makeApp>[0], reject = false): Promise<number> {
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _session, cb) =>
      auth.password === 'hunter2' ? cb(null, { user: auth.username }) : cb(new Error('535 authentication failed')),
    onConnect: (_session, cb) => (reject ? cb(Object.assign(new Error('421 service not available'), { responseCode: 421 })) : cb()),
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return port;
}

t.test('everything healthy: one ✓ line per check, exit 0', async (t) => {
  const dir = tempDir(t);
  const { app } = await makeApp(t);
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  const slack = await new SlackApiServer('xoxb-good').start();
  t.teardown(() => slack.stop());
  const smtpPort = await smtp(t);
  const { lines, io } = capture();
  const code = await main(
    ['doctor', '--url', `http://127.0.0.1:${port}`],
    {
      DATABASE_URL: `sqlite:${join(dir, 'd.db')}`,
      WEBHOOK_TOKEN: 'w',
      API_TOKEN: 'a',
      SLACK_BOT_TOKEN: 'xoxb-good',
      SLACK_API_URL: slack.url,
      SMTP_URL: `smtp://user:hunter2@127.0.0.1:${smtpPort}`,
    },
    io,
  );
  t.equal(code, 0, lines.join('\n'));
  t.match(lines, [
    /^✓ config: config\/triage\.yml: 14 classification rules; SLA critical 5m, high 1h, medium 4h, low 1d$/,
    /^✓ environment: tokens set$/,
    /^✓ store: sqlite:.*d\.db answers; 0 open incidents$/,
    /^✓ slack: auth\.test ok: alert-triage in Acme$/,
    /^- slack user groups: no rotation names a slackUsergroup$/,
    /^✓ smtp: 127\.0\.0\.1:\d+ accepts connections$/,
    /^- twilio: not configured \(TWILIO_ACCOUNT_SID unset\)$/,
    /^✓ rules: /,
    /^✓ receiver: http:\/\/127\.0\.0\.1:\d+ is ready$/,
    'all checks passed',
  ]);
  t.same(
    slack.calls.map((c) => c.method),
    ['auth.test'],
    'a real WebClient called auth.test',
  );
  t.notMatch(lines.join('\n'), 'hunter2', 'the SMTP password is never printed');
});

t.test('each broken part is a ✗ line with the reason, and the exit code is 1', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.yml'), 'sla: {critical: 5m}\nclassification: {defaultSeverity: low, rules: []}\n');
  const slack = await new SlackApiServer('xoxb-good').start();
  t.teardown(() => slack.stop());
  const smtpPort = await smtp(t, true);
  const { lines, io } = capture();
  const code = await main(
    ['doctor', '--url', `http://127.0.0.1:${await freePort()}`, '--monitoring', join(dir, 'nowhere')],
    {
      TRIAGE_CONFIG: join(dir, 'bad.yml'),
      DATABASE_URL: 'postgres://u:p@127.0.0.1/test',
      SLACK_BOT_TOKEN: 'xoxb-revoked',
      SLACK_API_URL: slack.url,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    },
    io,
  );
  t.equal(code, 1);
  const text = lines.join('\n');
  t.match(text, /✗ config: .*bad\.yml: sla\.high: is required/);
  t.match(text, /✓ environment: WEBHOOK_TOKEN and API_TOKEN not set/);
  t.match(text, /✗ store: DATABASE_URL: cannot open the PostgreSQL database postgres:\/\/\*\*\*@127\.0\.0\.1\/test \(/);
  t.notMatch(text, 'u:p@', 'the password is masked');
  t.match(text, /✗ slack: auth\.test failed: invalid_auth/);
  t.match(text, /✗ smtp: 127\.0\.0\.1:\d+: .*421/);
  t.match(text, /✗ rules: missing .*nowhere\/prometheus_rules\.yml/);
  t.match(text, /✗ receiver: nothing answers at http:\/\/127\.0\.0\.1:\d+ \(is alert-triage running\? use --url\)/);
  t.match(text, /6 checks failed$/);
});

t.test('usage errors and help', async (t) => {
  let c = capture();
  t.equal(await main(['doctor', '--bogus'], {}, c.io), 2);
  t.match(c.lines.join('\n'), /Unknown option '--bogus'[\s\S]*Usage: alert-triage doctor/);
  c = capture();
  t.equal(await main(['doctor', '--help'], {}, c.io), 0);
  t.match(c.lines[0], /^Usage: alert-triage doctor/);
  c = capture();
  t.equal(await main(['frobnicate'], {}, c.io), 2);
  t.match(c.lines.join('\n'), /unknown command "frobnicate"[\s\S]*Commands:/);
  c = capture();
  t.equal(await main([], {}, c.io), 0);
  t.match(c.lines[0], /^Usage: alert-triage <command>/);
});

t.test('an invalid environment fails one check and holds back those that read it', async (t) => {
  const { lines, io } = capture();
  const code = await main(
    ['doctor', '--url', 'http://127.0.0.1:1'],
    { NODE_ENV: 'production', DATABASE_URL: `sqlite:${join(tempDir(t), 'e.db')}` },
    io,
  );
  t.equal(code, 1);
  t.match(lines, [
    /^- config: not checked: the environment is invalid/,
    /^✗ environment: WEBHOOK_TOKEN and API_TOKEN: required when NODE_ENV=production$/,
    /^- store: not checked/,
    /^- slack: not checked/,
    /^- slack user groups: not checked/,
    /^- smtp: not checked/,
  ]);
  t.notOk(
    lines.some((l) => /^✗ (config|store|slack|smtp)/.test(l)),
    'the one cause is reported once',
  );
});

t.test('a channel the routing sends to but that is not configured is a ✗ line naming the routes that will not be delivered', async (t) => {
  const dir = tempDir(t);
  const run = async (env: Record<string, string>) => {
    const { lines, io } = capture();
    const code = await main(
      ['doctor', '--url', 'http://127.0.0.1:1'],
      { DATABASE_URL: `sqlite:${join(dir, 'd.db')}`, WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', ...env },
      io,
    );
    return { code, lines };
  };
  // The shipped config posts every severity to Slack, and e-mails Critical and High and their escalation steps.
  const shipped = await run({});
  t.equal(shipped.code, 1);
  t.match(shipped.lines, [
    /^✓ config/,
    /^✓ environment/,
    /^✓ store/,
    /^✗ slack: not configured \(SLACK_BOT_TOKEN unset\), but routing\.critical, routing\.high, routing\.medium and routing\.low send to it: those pages will not be delivered$/,
    /^- slack user groups: no rotation names a slackUsergroup$/,
    /^✗ smtp: not configured \(SMTP_URL unset\), but routing\.critical, escalation\.critical\.steps\[0\], escalation\.critical\.steps\[1\], routing\.high, escalation\.high\.steps\[0\] .*send to it: those pages will not be delivered$/,
  ]);

  // A team with rooms of its own is named too; what it inherits is named once, at the top level.
  const file = join(dir, 'teams.yml');
  writeFileSync(
    file,
    `sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}
classification: {defaultSeverity: low, rules: []}
contacts: [{id: alice, name: Alice, email: alice@example.com}]
routing:
  critical: {channels: [], notify: [alice], email: true}
  high: {channels: [], notify: [alice], email: true}
  medium: {channels: []}
  low: {channels: []}
teams:
  - {id: payments, name: Payments, match: ['team="payments"'], routing: {critical: {channels: ["#payments"]}}}
`,
  );
  const teams = await run({ TRIAGE_CONFIG: file, SMTP_URL: 'smtp://127.0.0.1:1' });
  t.match(teams.lines.join('\n'), /^✗ slack: not configured \(SLACK_BOT_TOKEN unset\), but teams\[0\]\.routing\.critical sends to it: /m);

  // Nothing routed to Slack: not configured is neutral, as before.
  writeFileSync(file, readFileSync(file, 'utf8').replace('channels: ["#payments"]', 'channels: []'));
  const none = await run({ TRIAGE_CONFIG: file, SMTP_URL: 'smtp://127.0.0.1:1' });
  t.match(none.lines.join('\n'), /^- slack: not configured \(SLACK_BOT_TOKEN unset\)$/m);
});

t.test("slack user groups: the bot's scopes and each group named by a rotation, read-only", async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'groups.yml');
  writeFileSync(
    config,
    readFileSync('config/triage.yml', 'utf8').replace(
      '  members: [carol, dan, alice]',
      '  members: [carol, dan, alice]\n  slackUsergroup: oncall-top',
    ),
  );
  const slack = await new SlackApiServer('xoxb-good').start();
  t.teardown(() => slack.stop());
  const run = async () => {
    const { lines, io } = capture();
    await main(
      ['doctor', '--url', 'http://127.0.0.1:1'],
      {
        TRIAGE_CONFIG: config,
        DATABASE_URL: `sqlite:${join(dir, 'd.db')}`,
        WEBHOOK_TOKEN: 'w',
        API_TOKEN: 'a',
        SLACK_BOT_TOKEN: 'xoxb-good',
        SLACK_API_URL: slack.url,
      },
      io,
    );
    return lines.find((l) => l.includes('slack user groups'));
  };
  t.equal(await run(), '✗ slack user groups: @oncall-top: no Slack user group @oncall-top (create it in Slack first)');
  slack.usergroup('oncall-top');
  t.equal(await run(), '✓ slack user groups: @oncall-top found; the bot may update them');
  slack.scopes.delete('usergroups:write');
  t.equal(await run(), '✗ slack user groups: the bot token lacks the usergroups:write scope');
  t.notOk(
    slack.calls.some((c) => c.method === 'usergroups.users.update'),
    'nothing is changed',
  );
});
