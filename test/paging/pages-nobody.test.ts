// Issue 19, point 3: a config in which a Critical or High reaches nobody. The loader names the keys
// (server.ts refuses them in production: test/server-config.test.ts), and an incident that pages
// nobody says so in its timeline and is counted.
import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { routesReachingNobody } from '../../src/paging/paging-config.js';
import { describeEntry } from '../../src/incidents/timeline-text.js';
import { alert, api, makeApp, metric, payload, postWebhook, shippedConfig, uniqueGroup } from '../helpers.js';
import { WebClient } from '../web/web-client.js';
import { PAGES_NOBODY } from './pages-nobody-config.js';

t.test('the routes of a Critical or High that reach nobody are named by their keys', async (t) => {
  const found = routesReachingNobody(parseConfig(PAGES_NOBODY, 'triage.yml').paging);
  t.same(
    found.map((f) => f.split(':')[0]),
    [
      'routing.critical and escalation.critical',
      'routing.high and escalation.high',
      // The team's Critical escalates to alice by e-mail: it reaches someone. Its High notifies a
      // contact with no e-mail address, and its rooms are none.
      'teams[0].routing.high and teams[0].escalation.high',
    ],
  );
  t.match(found[0], /a critical incident would page nobody \(no channel, nobody with an e-mail address to notify, no escalation step\)/);
  t.same(routesReachingNobody(shippedConfig.paging), [], 'the shipped config pages someone for every Critical and High');
  const medium = parseConfig(
    PAGES_NOBODY.replace('critical: {channels: [], notify: [], email: false}', 'critical: {to: ["email:x@y.test"]}'),
    'f',
  );
  t.notOk(
    routesReachingNobody(medium.paging).some((f) => f.startsWith('routing.critical')),
    'a room on any channel reaches someone',
  );
});

t.test('an incident that pages nobody says so in its timeline, on its page, and in triage_incidents_unpaged_total', async (t) => {
  const { app } = await makeApp(t, { config: { triage: parseConfig(PAGES_NOBODY, 'triage.yml') } });
  const series = 'triage_incidents_unpaged_total{severity="critical"}';
  t.equal(await metric(app, series), 0, 'the series exists from the start');
  t.equal((await postWebhook(app, payload(uniqueGroup(), [alert('DataBreachExfiltration')]))).statusCode, 200);
  const { body } = await api(app, 'GET', '/api/incidents/1');
  const entry = (body.timeline as { kind: string; route?: string; text?: string }[]).find((e) => e.kind === 'unpaged');
  t.match(entry, { kind: 'unpaged', route: 'routing.critical' });
  t.equal(await metric(app, series), 1);
  const web = new WebClient(app);
  await web.signIn();
  const page = (await web.get('/incidents/1')).body;
  t.match(page, /<li class="page-not-sent">.*<strong>Nobody<\/strong>: not sent<br><span class="muted">Paged nobody: routing\.critical/s);
  t.match(
    describeEntry({ at: 0, actor: 'system', kind: 'unpaged', route: 'routing.critical' }),
    /^Paged nobody: routing.critical sends to no channel and notifies no one, and no escalation step pages anyone/,
  );

  // The team's Critical has an escalation step that reaches alice: not counted, nothing said.
  await postWebhook(app, payload(uniqueGroup(), [alert('PaymentsDown', { labels: { team: 'payments' } })]));
  const team = await api(app, 'GET', '/api/incidents/2');
  t.notOk((team.body.timeline as { kind: string }[]).some((e) => e.kind === 'unpaged'));
  t.equal(await metric(app, series), 1);
});
