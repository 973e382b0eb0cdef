import t from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import { shippedConfig } from '../helpers.js';

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
  t.same(p.routing.critical, { channels: ['#security-incident'], notify: ['oncall', 'security-lead', 'cto'], email: true });
  t.same(p.routing.low, { channels: ['#alerts'], notify: [], email: false });
  t.same(p.escalation.critical.steps, [{ afterMs: 5 * 60_000, notify: ['security-lead', 'cto'] }, { afterMs: 15 * 60_000, notify: ['cto', 'devops'] }]);
  t.equal(p.escalation.critical.repeatMs, 5 * 60_000);
});

t.test('without paging sections: the plan defaults, no rotation', async (t) => {
  const p = parseConfig(base, 'f.yml').paging;
  t.equal(p.rotation, null);
  t.same(p.routing.critical, { channels: ['#security-incident'], notify: ['oncall', 'security-lead', 'cto'], email: true });
  t.same(p.routing.high.notify, ['oncall'], 'no contact has the devops role, so it is left out');
});

t.test('overrides are local wall time unless they carry an offset', async (t) => {
  const p = parseConfig(base + oncall.replace('members: [alice, bob]', 'members: [alice, bob], overrides: [{from: "2026-12-24T09:00", to: "2026-12-26T09:00+01:00", contact: bob}]'), 'f.yml').paging;
  t.same(p.rotation!.overrides, [{ from: Date.parse('2026-12-24T08:00:00Z'), to: Date.parse('2026-12-26T08:00:00Z'), contact: 'bob' }]);
});

t.test('mistakes name the file and key', async (t) => {
  const cases: [string, RegExp][] = [
    [base + oncall.replace('Europe/Paris', 'Mars/Olympus'), /^f\.yml: oncall\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    [base + oncall.replace('[alice, bob]', '[alice, zoe]'), /^f\.yml: oncall\.members\[1\]: no contact "zoe"$/],
    [base + oncall.replace('"09:00"', '"9am"'), /^f\.yml: oncall\.handoff: must match pattern/],
    [base + oncall.replace('1w', '12h'), /^f\.yml: oncall\.rotation: must match pattern/],
    [base + oncall.replace('members: [alice, bob]', 'members: [alice], overrides: [{from: "2026-12-24 9h", to: "2026-12-26T09:00", contact: bob}]'), /^f\.yml: oncall\.overrides\[0\]\.from: "2026-12-24 9h" is not a date-time/],
    [base + oncall.replace('members: [alice, bob]', 'members: [alice], overrides: [{from: "2026-12-26T09:00", to: "2026-12-24T09:00", contact: bob}]'), /^f\.yml: oncall\.overrides\[0\]\.to: must be after from$/],
    [base + 'routing: {critical: {notify: [ceo]}}\n', /^f\.yml: routing\.critical\.notify\[0\]: "ceo" is neither a contact id, a role of a contact, nor "oncall"$/],
    [base + 'routing: {critical: {notify: [oncall]}}\n', /^f\.yml: routing\.critical\.notify: "oncall" needs an oncall rotation$/],
    [base + 'routing: {critical: {channels: [security-incident]}}\n', /^f\.yml: routing\.critical\.channels\[0\]: must match pattern/],
    [base + 'escalation: {high: {steps: [{after: 10m, notify: [cto]}, {after: 5m, notify: [alice]}]}}\n', /^f\.yml: escalation\.high\.steps\[1\]\.after: must be later than the step before$/],
    [base + 'escalation: {high: {steps: [{after: 10m, notify: []}]}}\n', /^f\.yml: escalation\.high\.steps\[0\]\.notify: must NOT have fewer than 1 items$/],
    [base + '  - {id: alice, name: Alice again}\n', /^f\.yml: contacts\[2\]\.id: "alice" is used by an earlier contact$/],
    [base.replace('slack: U0A1', 'slack: alice'), /^f\.yml: contacts\[0\]\.slack: must match pattern/],
  ];
  for (const [text, message] of cases) t.throws(() => parseConfig(text, 'f.yml'), { name: 'ConfigError', message }, String(message));
});
