import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfigFile } from '../../src/config/load-config.js';
import { alert, api, metric, payload, postWebhook, shippedConfigText, TEAMS_YAML, tempDir, uniqueGroup } from '../helpers.js';
import { SlackApiServer } from '../fakes/slack-api-server.js';
import { pagingApp } from '../notify/paging-helpers.js';

// At T0 (Monday 2026-11-23 22:08Z) payments has alice on call, platform carol, the top level dan.

/** The app paging through the real SMTP test server, its config read from a file that the test rewrites and reloads. */
async function teamsApp(t: Test) {
  const file = join(tempDir(t), 'triage.yml');
  writeFileSync(file, shippedConfigText(TEAMS_YAML));
  const ctx = await pagingApp(t, { triage: loadConfigFile(file), loadConfig: () => loadConfigFile(file) });
  const reload = () => ctx.app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: 'Bearer test-api-token' } });
  const recipientsOfLast = () => ctx.mail.received.at(-1)!.rcptTo.sort();
  return { ...ctx, file, reload, recipientsOfLast };
}

t.test("alerts labelled with a team page that team's on-call by e-mail; unlabelled ones the top level's", async (t) => {
  const { app, mail, drain, recipientsOfLast } = await teamsApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'payments', instance: 'pay-1' } })]));
  await drain();
  t.same(recipientsOfLast(), ['alice@example.com'], "payments' on-call");
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'infra', instance: 'lb-1' } })]));
  await drain();
  t.same(recipientsOfLast(), ['carol@example.com', 'dan@example.com'], "platform's on-call (carol) and the devops role");
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: 'x-1' } })]));
  await drain();
  t.same(recipientsOfLast(), ['carol@example.com', 'dan@example.com'], "the top level's on-call (dan) and devops");
  t.equal(mail.received.length, 3);
  t.match((await api(app, 'GET', '/api/incidents/1')).body, { team: 'payments' });
  t.match((await api(app, 'GET', '/api/incidents/3')).body, { team: null });
});

t.test('an override made through the API changes who the next page goes to', async (t) => {
  const { app, drain, recipientsOfLast } = await teamsApp(t);
  const res = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T22:00:00Z',
    until: '2026-11-24T08:00:00Z',
    by: 'bob',
  });
  t.equal(res.status, 201);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'payments' } })]));
  await drain();
  t.same(recipientsOfLast(), ['bob@example.com'], 'bob took tonight');
});

t.test("an override for a team that shares the top level's rotation is refused: it would be the top level's", async (t) => {
  const { app, file, reload } = await teamsApp(t);
  writeFileSync(file, shippedConfigText(TEAMS_YAML + '  - {id: web, name: Web, match: [\'team="web"\']}\n'));
  t.equal((await reload()).statusCode, 200);
  const res = await api(app, 'POST', '/api/oncall/overrides', {
    team: 'web',
    contact: 'bob',
    from: '2026-11-23T22:00:00Z',
    until: '2026-11-24T08:00:00Z',
  });
  t.equal(res.status, 400);
  t.match(res.body.message, /"web" has no rotation of its own.*leave team out/);
  t.equal(
    (await api(app, 'POST', '/api/oncall/overrides', { contact: 'bob', from: '2026-11-23T22:00:00Z', until: '2026-11-24T08:00:00Z' }))
      .status,
    201,
    'for the top level it is taken',
  );
});

t.test('a broken file is refused with the old config still routing; a good one adding a team is paged right after', async (t) => {
  const { app, file, mail, drain, reload, recipientsOfLast } = await teamsApp(t);
  t.equal(await metric(app, 'triage_config_last_reload_successful'), 1);
  const loadedAt = await metric(app, 'triage_config_last_reload_success_timestamp_seconds');
  t.equal(loadedAt, Date.parse('2026-11-23T22:08:00Z') / 1000);

  writeFileSync(file, shippedConfigText(TEAMS_YAML + '  - {id: broken, name: Broken, match: [\'team=~"("\']}\n'));
  const refused = await reload();
  t.equal(refused.statusCode, 400);
  t.match(refused.json().message, /reload refused, running config kept: .*triage\.yml: teams\[2\]\.match\[0\]: /);
  t.equal(await metric(app, 'triage_config_last_reload_successful'), 0);
  t.equal(await metric(app, 'triage_config_last_reload_success_timestamp_seconds'), loadedAt, 'the config in force is still the old one');
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'payments' } })]));
  await drain();
  t.same(recipientsOfLast(), ['alice@example.com'], 'the old config still routes');

  writeFileSync(
    file,
    shippedConfigText(
      TEAMS_YAML +
        '  - id: search\n    name: Search\n    match: [\'team="search"\']\n    oncall: { timeZone: UTC, handoff: "00:00", rotation: 1d, start: 2026-11-23, members: [bob] }\n    routing: { high: { notify: [oncall], email: true } }\n',
    ),
  );
  const ok = await reload();
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { status: 'reloaded', config: file, rules: ok.json().rules, teams: ['payments', 'platform', 'search'] });
  t.equal(await metric(app, 'triage_config_last_reload_successful'), 1);
  const before = mail.received.length;
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'search' } })]));
  await drain();
  t.equal(mail.received.length, before + 1);
  t.same(recipientsOfLast(), ['bob@example.com'], 'the new team is paged at once');
  t.match((await api(app, 'GET', '/api/oncall?team=search')).body, { team: 'search', current: { contact: { id: 'bob' } } });
  t.match((await api(app, 'GET', '/api/incidents/1')).body, { team: 'payments' }, 'in-flight incidents keep their team');
});

t.test('/-/reload needs the API token and refuses without a file to read', async (t) => {
  const { app } = await teamsApp(t);
  t.equal((await app.inject({ method: 'POST', url: '/-/reload' })).statusCode, 401);
  const { app: fixed } = await pagingApp(t);
  const res = await fixed.inject({ method: 'POST', url: '/-/reload', headers: { authorization: 'Bearer test-api-token' } });
  t.equal(res.statusCode, 400);
  t.match(res.json().message, /started without a config file/);
});

t.test("whoever an override puts on call gets the escalation's e-mail too, not only a Slack mention (issue 23 point 7)", async (t) => {
  // Medium pages the on-call in Slack only; its escalation step (after 4h, devops: carol and dan)
  // pages by e-mail. Bob took the top level's shift: he was mentioned in Slack, and the escalation
  // e-mail went to the others, not to him.
  const { app, drain, fastForward, expect } = await teamsApp(t);
  t.equal(
    (await api(app, 'POST', '/api/oncall/overrides', { contact: 'bob', from: '2026-11-23T22:00:00Z', until: '2026-11-25T08:00:00Z' }))
      .status,
    201,
  );
  await postWebhook(app, payload(uniqueGroup(), [alert('CacheSlow', { labels: { triage_severity: 'medium' } })]));
  await drain();
  expect.slack('#incidents', /^<@U0000000B02> \[MEDIUM\] CacheSlow/);
  await fastForward(4 * 3600_000 + 60_000, 60_000);
  // The override is a handoff: Bob is told he is on call, Dan (on call that week) that his shift ended (issue 23 point 5).
  expect.slack(SlackApiServer.dmId('U0000000B02'), /^\*You are on call for Top level until /);
  expect.slack(SlackApiServer.dmId('U0000000D04'), /^\*Your Top level on-call shift has ended: Bob Chen is on call now\*/);
  expect.slack('#incidents', /<@U0000000B02> Response deadline missed/);
  expect.slack('#incidents', /Escalated \(step 1 of 1/);
  expect.email(['bob@example.com', 'carol@example.com', 'dan@example.com'], /\[MEDIUM\] CacheSlow/);
  expect.nothingElse();
});
