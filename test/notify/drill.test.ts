// Drills (alert-triage fire) never page the real route unless asked, say DRILL on every page, and
// count apart from real incidents.
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { main } from '../../src/cli/main.js';
import { freePort, metric, shippedConfigText, WEBHOOK_TOKEN } from '../helpers.js';
import { pagingApp } from './paging-helpers.js';

const MIN = 60_000;
const triage = parseConfig(`${shippedConfigText()}\ndrill: { channels: ["#drills"], notify: [], email: true }\n`, 'triage.yml');
const quiet = { out: () => {}, err: (l: string) => console.error(l) };

async function listening(t: Parameters<typeof pagingApp>[0]) {
  const ctx = await pagingApp(t, { triage });
  const port = await freePort();
  await ctx.app.listen({ port, host: '127.0.0.1' });
  return { ...ctx, url: `http://127.0.0.1:${port}` };
}

t.test('a drill pages the drill route, never the real one, escalation included; every page says DRILL', async (t) => {
  const { app, url, expect, fastForward, settle } = await listening(t);
  t.equal(await main(['fire', '--scenario', 'breach', '--url', url], { WEBHOOK_TOKEN }, quiet), 0);
  await settle();
  expect.slack('#drills', /\[DRILL\] DataExfiltrationSuspected/);
  // A Critical escalates after 5 and 15 minutes: its steps page the drill's people (none here), not the Security Lead.
  await fastForward(20 * MIN, MIN);
  await settle();
  expect.slack('#drills', /Response deadline missed/);
  expect.slack('#drills', /Escalated \(step 1 of 2.*paging nobody/);
  expect.slack('#drills', /Escalated \(step 2 of 2.*paging nobody/);
  expect.slack('#drills', /Reminder 1 of 12/);
  expect.nothingElse();
  t.equal(await metric(app, 'triage_drills_total{severity="critical"}'), 1, 'counted as a drill');
  t.equal(await metric(app, 'triage_incidents_opened_total{severity="critical"}'), 0, 'not as a real incident');
  t.equal(await metric(app, 'triage_sla_breaches_total{severity="critical"}'), 0, 'nor its missed deadline');
});

t.test('fire --to pages the person running it; --live pages the real route', async (t) => {
  const { url, expect, settle } = await listening(t);
  t.equal(await main(['fire', '--scenario', 'service-down', '--to', 'carol', '--url', url], { WEBHOOK_TOKEN }, quiet), 0);
  await settle();
  expect.slack('#drills', /\[DRILL\] TargetDown/);
  expect.email(['carol@example.com'], /\[DRILL\] TargetDown/);
  t.equal(await main(['fire', '--scenario', 'disk', '--live', '--url', url], { WEBHOOK_TOKEN }, quiet), 0);
  await settle();
  expect.slack('#alerts', /\[DRILL\] LowDiskSpace/); // the real route of a Low
  expect.nothingElse();
  t.equal(await main(['fire', '--to', 'carol', '--live', '--url', url], { WEBHOOK_TOKEN }, quiet), 2, '--to and --live do not go together');
});
