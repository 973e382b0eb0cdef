import { spawnSync } from 'node:child_process';
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { main } from '../../src/cli/main.js';
import { api, freePort, makeApp, WEBHOOK_TOKEN } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

async function listening(t: Parameters<typeof makeApp>[0]) {
  const ctx = await makeApp(t, { clock: systemClock });
  const port = await freePort();
  await ctx.app.listen({ port, host: '127.0.0.1' });
  return { ...ctx, url: `http://127.0.0.1:${port}` };
}

t.test('a drill: one incident per severity, then --resolve clears them', async (t) => {
  const { app, url } = await listening(t);
  const env = { WEBHOOK_TOKEN };
  let c = capture();
  t.equal(await main(['fire', '--url', url], env, c.io), 0, c.lines.join('\n'));
  t.match(c.lines, [
    /^Drill: paging the drill route of the config \(drill:\), never the real one/,
    /^✓ fired breach \(1 × DataExfiltrationSuspected\): incident #\d+ open \(critical\)$/,
    /^✓ fired service-down \(1 × TargetDown\): incident #\d+ open \(high\)$/,
    /^✓ fired auth-surge \(2 × AuthFailureSurge\): incident #\d+ open \(medium\)$/,
    /^✓ fired disk \(1 × LowDiskSpace\): incident #\d+ open \(low\)$/,
  ]);
  const open = (await api(app, 'GET', '/api/incidents?status=open')).body.incidents;
  t.same(open.map((i: { severity: string }) => i.severity).sort(), ['critical', 'high', 'low', 'medium']);
  const one = (await api(app, 'GET', `/api/incidents/${open[0].id}`)).body;
  t.equal(one.alerts[0].labels.drill, 'true', 'marked as a drill');
  t.match(one.title, /^\[DRILL\] /, 'its title says so, and with it every page');

  c = capture();
  t.equal(await main(['fire', '--url', url], env, c.io), 0);
  t.equal((await api(app, 'GET', '/api/incidents')).body.incidents.length, 4, 'firing again opens nothing new');

  c = capture();
  t.equal(await main(['fire', '--resolve', '--url', url], env, c.io), 0, c.lines.join('\n'));
  t.match(c.lines[0], /^✓ resolved breach \(1 × DataExfiltrationSuspected\): incident #\d+ resolved \(critical\)$/);
  t.equal((await api(app, 'GET', '/api/incidents?status=open')).body.incidents.length, 0, 'all cleared');
});

t.test('named scenarios', async (t) => {
  const { app, url } = await listening(t);
  const c = capture();
  t.equal(await main(['fire', '--scenario', 'ddos', '--scenario', 'disk', '--url', url], { WEBHOOK_TOKEN }, c.io), 0);
  const incidents = (await api(app, 'GET', '/api/incidents')).body.incidents;
  t.same(incidents.map((i: { title: string; severity: string }) => [i.severity, i.title]).sort(), [
    ['critical', '[DRILL] DDoSSuspected (service=edge) - 2 alerts'],
    ['low', '[DRILL] LowDiskSpace: /var on db-1 is 12% free'],
  ]);
});

t.test('clear errors: unknown scenario, wrong token, nothing listening', async (t) => {
  const { url } = await listening(t);
  let c = capture();
  t.equal(await main(['fire', '--scenario', 'meteor', '--url', url], { WEBHOOK_TOKEN }, c.io), 2);
  t.match(c.lines[0], /unknown scenario meteor; choose from breach, ddos, service-down, auth-surge, disk/);
  c = capture();
  t.equal(await main(['fire', '--url', url], { WEBHOOK_TOKEN: 'wrong' }, c.io), 1);
  t.match(c.lines, [/^Drill: /, /refused the credentials: set WEBHOOK_TOKEN/], 'where the drill pages, then why it failed');
  c = capture();
  t.equal(await main(['fire', '--url', `http://127.0.0.1:${await freePort()}`], { WEBHOOK_TOKEN }, c.io), 1);
  t.match(c.lines[1], /nothing answers at http:\/\/127\.0\.0\.1:\d+/);
});

t.test('the installed command runs: npx alert-triage fire --help', async (t) => {
  const r = spawnSync('npx', ['--no-install', 'alert-triage', 'fire', '--help'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Usage: alert-triage fire/);
});
