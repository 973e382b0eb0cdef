import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { toLabels } from '../../src/classify/labels.js';
import { teamFor } from '../../src/paging/paging-config.js';
import { shippedConfig, shippedConfigText, TEAMS_YAML } from '../helpers.js';

const base = `sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}
classification: {defaultSeverity: low, rules: []}
contacts:
  - {id: alice, name: Alice, email: alice@example.com, slack: U0A1, roles: [security-lead]}
  - {id: bob, name: Bob, roles: [cto]}
`;
const oncall = `oncall: {timeZone: Europe/Paris, handoff: "09:00", rotation: 1w, start: 2026-01-05, members: [alice, bob]}\n`;

t.test('the shipped paging config: contacts, a weekly rotation, the plan routing and escalation', async (t) => {
  const p = shippedConfig.paging;
  t.equal(p.contacts.length, 4);
  t.match(p.rotation, { timeZone: 'Europe/Paris', lengthDays: 7, handoff: { hour: 9, minute: 0 }, members: ['carol', 'dan', 'alice'] });
  t.same(p.routing.critical, {
    channels: ['#security-incident'],
    to: [],
    notify: ['oncall', 'security-lead', 'cto'],
    email: true,
    ntfy: false,
  });
  t.same(p.routing.low, { channels: ['#alerts'], to: [], notify: [], email: false, ntfy: false });
  t.same(p.escalation.critical.steps, [
    { afterMs: 5 * 60_000, notify: ['security-lead', 'cto'] },
    { afterMs: 15 * 60_000, notify: ['cto', 'devops'] },
  ]);
  t.equal(p.escalation.critical.repeatMs, 5 * 60_000);
});

t.test('routing to rooms of any channel ("channel:target") and contacts\' addresses on it', async (t) => {
  const p = parseConfig(
    shippedConfigText()
      .replace(
        'high:     { channels: ["#incidents"],',
        'high:     { channels: ["#incidents"], to: ["mattermost:town-square", "webhook:https://x.test/a:b"],',
      )
      .replace('    name: Bob Chen\n', '    name: Bob Chen\n    addresses: { mattermost: bchen }\n'),
    'f.yml',
  ).paging;
  t.same(
    p.routing.high.to,
    [
      { channel: 'mattermost', target: 'town-square' },
      { channel: 'webhook', target: 'https://x.test/a:b' },
    ],
    'split at the first colon',
  );
  t.same(p.routing.medium.to, []);
  t.same(p.contacts.find((c) => c.id === 'bob')!.addresses, { mattermost: 'bchen' });
  t.throws(
    () =>
      parseConfig(
        shippedConfigText().replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], to: ["no-channel"],'),
        'f.yml',
      ),
    /routing\/high\/to\/0|routing\.high\.to/,
  );
});

t.test('without paging sections: the plan defaults, no rotation', async (t) => {
  const p = parseConfig(base, 'f.yml').paging;
  t.equal(p.rotation, null);
  t.same(p.routing.critical, {
    channels: ['#security-incident'],
    to: [],
    notify: ['oncall', 'security-lead', 'cto'],
    email: true,
    ntfy: false,
  });
  t.same(p.routing.high.notify, ['oncall'], 'no contact has the devops role, so it is left out');
});

t.test('overrides are local wall time unless they carry an offset', async (t) => {
  const p = parseConfig(
    base +
      oncall.replace(
        'members: [alice, bob]',
        'members: [alice, bob], overrides: [{from: "2026-12-24T09:00", to: "2026-12-26T09:00+01:00", contact: bob}]',
      ),
    'f.yml',
  ).paging;
  t.same(p.rotation!.overrides, [{ from: Date.parse('2026-12-24T08:00:00Z'), to: Date.parse('2026-12-26T08:00:00Z'), contact: 'bob' }]);
});

t.test('mistakes name the file and key', async (t) => {
  const cases: [string, RegExp][] = [
    [base + oncall.replace('Europe/Paris', 'Mars/Olympus'), /^f\.yml: oncall\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    [base + oncall.replace('[alice, bob]', '[alice, zoe]'), /^f\.yml: oncall\.members\[1\]: no contact "zoe"$/],
    [base + oncall.replace('"09:00"', '"9am"'), /^f\.yml: oncall\.handoff: must match pattern/],
    [base + oncall.replace('1w', '12h'), /^f\.yml: oncall\.rotation: must match pattern/],
    [
      base +
        oncall.replace(
          'members: [alice, bob]',
          'members: [alice], overrides: [{from: "2026-12-24 9h", to: "2026-12-26T09:00", contact: bob}]',
        ),
      /^f\.yml: oncall\.overrides\[0\]\.from: "2026-12-24 9h" is not a date-time/,
    ],
    [
      base +
        oncall.replace(
          'members: [alice, bob]',
          'members: [alice], overrides: [{from: "2026-12-26T09:00", to: "2026-12-24T09:00", contact: bob}]',
        ),
      /^f\.yml: oncall\.overrides\[0\]\.to: must be after from$/,
    ],
    [
      base + 'routing: {critical: {notify: [ceo]}}\n',
      /^f\.yml: routing\.critical\.notify\[0\]: "ceo" is neither a contact id, a role of a contact, nor "oncall"$/,
    ],
    [base + 'routing: {critical: {notify: [oncall]}}\n', /^f\.yml: routing\.critical\.notify: "oncall" needs an oncall rotation$/],
    [base + 'routing: {critical: {channels: [security-incident]}}\n', /^f\.yml: routing\.critical\.channels\[0\]: must match pattern/],
    [
      base + 'escalation: {high: {steps: [{after: 10m, notify: [cto]}, {after: 5m, notify: [alice]}]}}\n',
      /^f\.yml: escalation\.high\.steps\[1\]\.after: must be later than the step before$/,
    ],
    [
      base + 'escalation: {high: {steps: [{after: 10m, notify: []}]}}\n',
      /^f\.yml: escalation\.high\.steps\[0\]\.notify: must NOT have fewer than 1 items$/,
    ],
    [base + '  - {id: alice, name: Alice again}\n', /^f\.yml: contacts\[2\]\.id: "alice" is used by an earlier contact$/],
    [base.replace('slack: U0A1', 'slack: alice'), /^f\.yml: contacts\[0\]\.slack: must match pattern/],
  ];
  for (const [text, message] of cases) t.throws(() => parseConfig(text, 'f.yml'), { name: 'ConfigError', message }, String(message));
});

t.test('teams: their own rotation, and routing and escalation that inherit what they leave out', async (t) => {
  const p = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml').paging;
  t.same(
    p.teams.map((x) => [x.id, x.name, x.matchers.map((m) => m.text)]),
    [
      ['payments', 'Payments', ['team="payments"']],
      ['platform', 'Platform', ['team=~"platform|infra"']],
    ],
  );
  const [payments, platform] = p.teams;
  t.match(payments!.rotation, { timeZone: 'Europe/Paris', members: ['alice', 'bob'], lengthDays: 7 });
  t.equal(payments!.rotationOwner, 'payments');
  t.same(
    payments!.routing.critical,
    { channels: ['#payments'], to: [], notify: ['oncall', 'security-lead', 'cto'], email: true, ntfy: false },
    'a severity given in part takes the rest from the top level',
  );
  t.same(payments!.routing.high, { channels: ['#payments'], to: [], notify: ['oncall'], email: true, ntfy: false });
  t.same(payments!.routing.low, p.routing.low, "a severity left out is the top level's");
  t.same(payments!.escalation, p.escalation, "no escalation section: the top level's");
  t.same(platform!.escalation.high, { steps: [{ afterMs: 10 * 60_000, notify: ['cto'] }], repeatMs: 30 * 60_000, maxReminders: 2 });
  t.same(platform!.escalation.critical, p.escalation.critical);
  t.same(platform!.routing, p.routing);
});

t.test("a team without a rotation of its own pages the top level's on-call", async (t) => {
  const p = parseConfig(
    shippedConfigText(`teams:\n  - {id: web, name: Web, match: ['service="web"'], routing: {medium: {channels: ["#web"]}}}\n`),
    'f.yml',
  ).paging;
  t.equal(p.teams[0]!.rotation, p.rotation);
  t.equal(p.teams[0]!.rotationOwner, null, "its overrides are the top level's");
});

t.test('bad teams are refused with the file and the key', async (t) => {
  const team = (extra: string, match = `['team="payments"']`) =>
    shippedConfigText(`teams:\n  - {id: payments, name: Payments, match: ${match}${extra}}\n`);
  const oncallOf = (members: string, tz = 'Europe/Paris', start = '2026-01-05') =>
    `, oncall: {timeZone: ${tz}, handoff: "09:00", rotation: 1w, start: ${start}, members: [${members}]}`;
  const cases: [string, RegExp][] = [
    [team(oncallOf('alice, zoe')), /^f\.yml: teams\[0\]\.oncall\.members\[1\]: no contact "zoe"$/],
    [team(oncallOf('alice', 'Mars/Olympus')), /^f\.yml: teams\[0\]\.oncall\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    [team(oncallOf('alice', 'Europe/Paris', '2026-02-30')), /^f\.yml: teams\[0\]\.oncall\.start: "2026-02-30" is not a date$/],
    [team('') + `  - {id: payments, name: Again, match: ['x="y"']}\n`, /^f\.yml: teams\[1\]\.id: "payments" is used by an earlier team$/],
    [team('', `['team=~"(unclosed"']`), /^f\.yml: teams\[0\]\.match\[0\]: .*invalid regular expression/],
    [team('', `['not a matcher']`), /^f\.yml: teams\[0\]\.match\[0\]: "not a matcher" is not a matcher/],
    [team(', routing: {high: {notify: [ceo]}}'), /^f\.yml: teams\[0\]\.routing\.high\.notify\[0\]: "ceo" is neither a contact id/],
    [
      team(', escalation: {high: {steps: [{after: 10m, notify: [cto]}, {after: 5m, notify: [cto]}]}}'),
      /^f\.yml: teams\[0\]\.escalation\.high\.steps\[1\]\.after: must be later/,
    ],
    [team('', '[]'), /^f\.yml: teams\[0\]\.match: must NOT have fewer than 1 items$/],
    [shippedConfigText().replace('start: 2026-01-05', 'start: 2026-02-30'), /^f\.yml: oncall\.start: "2026-02-30" is not a date$/],
    [
      shippedConfigText().replace('overrides: []', 'overrides: [{from: "2026-02-30T09:00", to: "2026-03-02T09:00", contact: bob}]'),
      /^f\.yml: oncall\.overrides\[0\]\.from: "2026-02-30T09:00" is not a date-time/,
    ],
  ];
  for (const [text, message] of cases) t.throws(() => parseConfig(text, 'f.yml'), { name: 'ConfigError', message }, String(message));
});

t.test("teamFor: common labels first, then each alert's; the first team in the config that matches wins", async (t) => {
  const { teams } = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml').paging;
  const L = (o: Record<string, string>) => toLabels(o);
  const cases: [string, Record<string, string>[], string | undefined][] = [
    ['common labels name the team', [{ team: 'payments' }], 'payments'],
    ['a regex matcher', [{ team: 'infra' }], 'platform'],
    ['no team label: the top level', [{ alertname: 'X' }], undefined],
    ['common labels decide before any alert', [{ team: 'platform' }, { team: 'payments' }], 'platform'],
    ['no common team: the first alert that names one', [{}, { team: 'nobody' }, { team: 'infra' }, { team: 'payments' }], 'platform'],
    ['anchored: "payments-eu" is not "payments"', [{ team: 'payments-eu' }], undefined],
  ];
  for (const [name, sets, want] of cases) t.equal(teamFor(teams, sets.map(L))?.id, want, name);
  const overlapping = parseConfig(
    shippedConfigText(
      `teams:\n  - {id: first, name: First, match: ['team=~".+"']}\n  - {id: second, name: Second, match: ['team="payments"']}\n`,
    ),
    'f.yml',
  ).paging.teams;
  t.equal(teamFor(overlapping, [L({ team: 'payments' })])?.id, 'first', "first match wins, as in Alertmanager's routes");
});
