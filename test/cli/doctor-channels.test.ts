// doctor checks each configured channel: what can be called without sending a page is called
// (Mattermost's users/me, ntfy's health and account), routed rooms without their variables fail,
// and no secret is printed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../src/cli/main.js';
import { shippedConfigText, tempDir } from '../helpers.js';
import { MattermostServer } from '../fakes/mattermost-server.js';
import { NtfyServer } from '../fakes/ntfy-server.js';
import { TeamsWorkflowsServer } from '../fakes/teams-workflows-server.js';

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

t.test('a line per configured channel: called where a call sends nothing, refused where a route lacks its variable', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'triage.yml');
  writeFileSync(
    config,
    shippedConfigText().replace(
      'critical: { channels: ["#security-incident"],',
      'critical: { channels: ["#security-incident"], to: ["teams:sec-ops", "teams:night", "webhook:status-page", "ntfy:sec"],',
    ),
  );
  const mm = await new MattermostServer('mm-token', { channels: ['ops/incidents'] }).start();
  const ntfy = await new NtfyServer({ tokens: { tk_good: ['*'] } }).start();
  const teams = await new TeamsWorkflowsServer().start();
  for (const s of [mm, ntfy, teams]) t.teardown(() => s.stop());
  const teamsUrl = teams.workflowUrl('Security');
  const env = {
    TRIAGE_CONFIG: config,
    DATABASE_URL: `sqlite:${join(dir, 'd.db')}`,
    TEAMS_WEBHOOK_URL_SEC_OPS: teamsUrl,
    MATTERMOST_URL: mm.url,
    MATTERMOST_BOT_TOKEN: 'mm-token',
    NTFY_URL: ntfy.url,
    NTFY_TOKEN: 'tk_bad',
    OUTGOING_WEBHOOK_URL_STATUS_PAGE: 'https://status.example.com/hook?key=webhook-url-secret',
    OUTGOING_WEBHOOK_SECRET_STATUS_PAGE: 'whsec-0123456789abcdef',
  };
  const { lines, io } = capture();
  const code = await main(['doctor', '--url', 'http://127.0.0.1:9', '--monitoring', join(dir, 'none')], env, io);
  t.equal(code, 1);
  const out = lines.join('\n');
  t.match(out, /^✗ teams: TEAMS_WEBHOOK_URL_NIGHT: not set, but the config routes pages to Teams room "night"/m);
  t.match(out, /^✓ mattermost: 127\.0\.0\.1:\d+: the bot token works \(@alert-triage\)$/m);
  t.match(out, /^✗ ntfy: 127\.0\.0\.1:\d+: ntfy HTTP 401: .*unauthorized/m);
  t.match(out, /^✓ webhooks: 1 webhook\(s\) with URL and secret \(STATUS_PAGE\); not called/m);
  t.equal(teams.requests.length, 0, 'the Workflows URL was not called');
  for (const secret of [new URL(teamsUrl).searchParams.get('sig')!, 'mm-token', 'tk_bad', 'webhook-url-secret', 'whsec-0123456789abcdef'])
    t.notOk(out.includes(secret), 'no secret printed');

  const ok = capture();
  await main(['doctor', '--url', 'http://127.0.0.1:9', '--monitoring', join(dir, 'none')], { ...env, NTFY_TOKEN: 'tk_good' }, ok.io);
  t.match(ok.lines.join('\n'), /^✓ ntfy: 127\.0\.0\.1:\d+ is healthy and takes NTFY_TOKEN$/m);
});

t.test('none configured nor routed: no line for them', async (t) => {
  const dir = tempDir(t);
  const { lines, io } = capture();
  await main(
    ['doctor', '--url', 'http://127.0.0.1:9', '--monitoring', join(dir, 'none')],
    { DATABASE_URL: `sqlite:${join(dir, 'd.db')}` },
    io,
  );
  t.notMatch(lines.join('\n'), /^. (teams|mattermost|ntfy|webhooks):/m);
});
