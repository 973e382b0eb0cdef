import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { main } from '../../src/cli/main.js';
import { parseConfig } from '../../src/config/load-config.js';
import { API_TOKEN, api, freePort, makeApp, shippedConfigText, T0, TEAMS_YAML } from '../helpers.js';

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

t.test('alert-triage oncall asks the running receiver, overrides included; --team for one team', async (t) => {
  const { app } = await makeApp(t, {
    clock: new ManualClock(T0),
    config: { triage: parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml') },
  });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  await api(app, 'POST', '/api/oncall/overrides', {
    team: 'payments',
    contact: 'bob',
    from: '2026-11-23T22:00:00Z',
    until: '2026-11-24T07:00:00Z',
  });

  let c = capture();
  t.equal(await main(['oncall', '--url', url], { API_TOKEN }, c.io), 0, c.lines.join('\n'));
  t.same(c.lines, [
    // Times in each rotation's zone, as the heading says (UTC under a Europe/Berlin-style heading was issue 23's finding).
    '(top level) — Europe/Paris',
    '  now:  Dan Okafor (dan) from Mon, 23 Nov 2026, 09:00 until Mon, 30 Nov 2026, 09:00',
    '  next: Alice Martin (alice) from Mon, 30 Nov 2026, 09:00 until Mon, 7 Dec 2026, 09:00',
    'payments — Europe/Paris',
    '  now:  Bob Chen (bob) from Mon, 23 Nov 2026, 23:00 until Tue, 24 Nov 2026, 08:00, override',
    '  next: Alice Martin (alice) from Tue, 24 Nov 2026, 08:00 until Mon, 30 Nov 2026, 09:00',
    'platform — America/New_York',
    '  now:  Carol Diaz (carol) from Mon, 23 Nov 2026, 08:00 until Tue, 24 Nov 2026, 08:00',
    '  next: Dan Okafor (dan) from Tue, 24 Nov 2026, 08:00 until Wed, 25 Nov 2026, 08:00',
  ]);

  c = capture();
  t.equal(await main(['oncall', '--team', 'platform', '--url', url], { API_TOKEN }, c.io), 0);
  t.match(c.lines, ['platform — America/New_York', /now: {2}Carol Diaz/, /next: Dan Okafor/]);

  c = capture();
  t.equal(await main(['oncall', '--team', 'nobody', '--url', url], { API_TOKEN }, c.io), 1);
  t.match(c.lines, [/no team "nobody"/]);
  c = capture();
  t.equal(await main(['oncall', '--url', url], {}, c.io), 1, 'without the API token');
  t.match(c.lines, [/set API_TOKEN/]);
  c = capture();
  t.equal(await main(['oncall', '--team', 'BAD TEAM', '--url', url], { API_TOKEN }, c.io), 2, 'a usage error');
});
