import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { readEnv } from '../../src/config/env.js';
import { loadConfigFile, parseConfig } from '../../src/config/load-config.js';
import { tempDir } from '../helpers.js';
import { aliasBomb } from './yaml-bomb.js';

const shipped = readFileSync(new URL('../../config/triage.yml', import.meta.url), 'utf8');

t.test('the shipped config loads with the plan defaults', async (t) => {
  const c = parseConfig(shipped, 'config/triage.yml');
  t.same(c.sla, { critical: 5 * 60_000, high: 3_600_000, medium: 4 * 3_600_000, low: 24 * 3_600_000 });
  t.equal(c.server.bodyLimit, 10 * 1024 * 1024);
  t.equal(c.server.statusAnswersPerSecond, 500);
  t.equal(c.classification.defaultSeverity, 'medium');
  t.equal(c.classification.severityLabel, 'triage_severity');
  t.ok(c.classification.rules.length > 10);
});

t.test('a bad file names the file and the key at fault', async (t) => {
  const minimal = 'sla: {critical: 5m, high: 1h, medium: 4h, low: 24h}\nclassification: {defaultSeverity: low, rules: []}\n';
  t.ok(parseConfig(minimal, 'f.yml'), 'a minimal file is enough');
  const cases: [string, RegExp][] = [
    ['sla: [1, 2', /^bad\.yml: invalid YAML/],
    ['sla: {critical: 5m, high: 1h, medium: 4h}\nclassification: {defaultSeverity: low, rules: []}', /^bad\.yml: sla\.low: is required$/],
    [
      'sla: {critical: soon, high: 1h, medium: 4h, low: 1d}\nclassification: {defaultSeverity: low, rules: []}',
      /^bad\.yml: sla\.critical: must match pattern/,
    ],
    [
      'sla: {critical: 0s, high: 1h, medium: 4h, low: 1d}\nclassification: {defaultSeverity: low, rules: []}',
      /^bad\.yml: sla\.critical: must be longer than 0s$/,
    ],
    [
      minimal.replace('defaultSeverity: low', 'defaultSeverity: urgent'),
      /^bad\.yml: classification\.defaultSeverity: must be one of critical, high, medium, low$/,
    ],
    [minimal + 'slas: {}\n', /^bad\.yml: slas: is not a known key$/],
    [
      minimal.replace('rules: []', 'rules: [{name: a, severity: high, matchers: ["x=y"]}, {name: b, severity: severe, matchers: ["x=y"]}]'),
      /^bad\.yml: classification\.rules\[1\]\.severity: must be one of/,
    ],
    [
      minimal.replace('rules: []', 'rules: [{name: a, severity: high, matchers: ["x=y", "x=~\\"(\\""]}]'),
      /^bad\.yml: classification\.rules\[0\]\.matchers\[1\]: .*invalid regular expression/,
    ],
    [
      minimal.replace(
        'rules: []',
        'rules: [{name: a, severity: high, matchers: ["x=y"]}, {name: b, severity: low, matchers: ["x=~\\"a(?!b)\\""]}]',
      ),
      /^bad\.yml: classification\.rules\[1\]\.matchers\[0\]: .*invalid regular expression.*\(\?!/,
    ],
    [
      minimal.replace('rules: []', 'rules: [{name: a, severity: high, matchers: ["x=~\\"(a)\\\\\\\\1\\""]}]'),
      /^bad\.yml: classification\.rules\[0\]\.matchers\[0\]: .*invalid regular expression.*\\1/,
    ],
    [
      minimal.replace('rules: []', 'rules: [{name: a, severity: high, matchers: []}]'),
      /^bad\.yml: classification\.rules\[0\]\.matchers: must NOT have fewer than 1 items$/,
    ],
    [
      minimal.replace('rules: []', 'rules: [{name: a, severity: high, matchers: ["x=y"]}, {name: a, severity: low, matchers: ["x=z"]}]'),
      /^bad\.yml: classification\.rules\[1\]\.name: "a" is used by an earlier rule$/,
    ],
    [minimal + 'server: {bodyLimit: huge}\n', /^bad\.yml: server\.bodyLimit/],
    [minimal + 'server: {statusAnswersPerSecond: 0}\n', /^bad\.yml: server\.statusAnswersPerSecond: must be >= 1/],
    [
      'sla: {critical: 5m, critical: 6m, high: 1h, medium: 4h, low: 1d}\nclassification: {defaultSeverity: low, rules: []}',
      /^bad\.yml: invalid YAML.*[Mm]ap keys must be unique/,
    ],
    ['', /^bad\.yml: \(top level\): must be object$/],
  ];
  for (const [text, message] of cases) {
    t.throws(() => parseConfig(text, 'bad.yml'), { name: 'ConfigError', message }, String(message));
  }
});

t.test('a missing file says so and how to point at another', async (t) => {
  t.throws(() => loadConfigFile('/nonexistent/triage.yml'), {
    name: 'ConfigError',
    message: /\/nonexistent\/triage\.yml: cannot read the config file \(ENOENT\); set TRIAGE_CONFIG/,
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ok.yml'), shipped);
  t.equal(loadConfigFile(join(dir, 'ok.yml')).file, join(dir, 'ok.yml'));
});

t.test('environment', async (t) => {
  const e = readEnv({});
  t.match(e, {
    port: 9095,
    host: '0.0.0.0',
    configPath: 'config/triage.yml',
    databaseUrl: undefined,
    webhookToken: undefined,
    production: false,
  });
  t.match(readEnv({ PORT: '8080', WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', DATABASE_URL: 'sqlite:x.db' }), {
    port: 8080,
    webhookToken: 'w',
    apiToken: 'a',
    databaseUrl: 'sqlite:x.db',
  });
  t.throws(() => readEnv({ PORT: 'eighty' }), { name: 'ConfigError', message: /^PORT:/ });
  t.equal(readEnv({}).status.port, undefined, 'no status listener unless asked');
  t.equal(readEnv({ STATUS_PORT: '9096' }).status.port, 9096);
  t.throws(() => readEnv({ STATUS_PORT: '90 96' }), { name: 'ConfigError', message: /^STATUS_PORT:/ });
  t.throws(() => readEnv({ PORT: '8080', STATUS_PORT: '8080' }), { name: 'ConfigError', message: /^STATUS_PORT: 8080 is PORT/ });
  t.throws(() => readEnv({ LOG_LEVEL: 'loud' }), { name: 'ConfigError', message: /^LOG_LEVEL:/ });
  t.throws(() => readEnv({ NODE_ENV: 'production', API_TOKEN: 'a' }), {
    name: 'ConfigError',
    message: /^WEBHOOK_TOKEN: required when NODE_ENV=production/,
  });
  t.throws(() => readEnv({ NODE_ENV: 'production' }), { message: /WEBHOOK_TOKEN and API_TOKEN/ });
  t.ok(readEnv({ NODE_ENV: 'production', WEBHOOK_TOKEN: 'w', API_TOKEN: 'a', SESSION_SECRET: 's'.repeat(32) }).production);
});

t.test('the web settings from the environment: session secret, its lifetime, the authenticating proxy', async (t) => {
  t.throws(() => readEnv({ NODE_ENV: 'production', WEBHOOK_TOKEN: 'w', API_TOKEN: 'a' }), {
    message: /^SESSION_SECRET: required when NODE_ENV=production/,
  });
  t.equal(readEnv({}).sessionSecret, undefined, 'outside production it may be left out (server.ts makes one up and warns)');
  let err: Error | undefined;
  try {
    readEnv({ SESSION_SECRET: 'short-secret-value' });
  } catch (e) {
    err = e as Error;
  }
  t.match(err?.message, /^SESSION_SECRET: must be at least 32 characters/);
  t.notMatch(err?.message, 'short-secret-value', 'the value is never in a message');
  t.equal(readEnv({ SESSION_TTL: '8h' }).sessionTtlMs, 8 * 3600_000);
  t.throws(() => readEnv({ SESSION_TTL: 'soon' }), { message: /^SESSION_TTL: / });
  t.same(readEnv({ AUTH_PROXY_HEADER: 'X-Forwarded-Email', AUTH_PROXY_TRUSTED: '10.0.0.5, 172.16.0.0/12,::1' }).authProxy, {
    header: 'X-Forwarded-Email',
    trusted: ['10.0.0.5', '172.16.0.0/12', '::1'],
  });
  t.throws(() => readEnv({ AUTH_PROXY_HEADER: 'X-Forwarded-Email' }), { message: /^AUTH_PROXY_TRUSTED: required with AUTH_PROXY_HEADER/ });
  t.throws(() => readEnv({ AUTH_PROXY_TRUSTED: '10.0.0.1' }), { message: /^AUTH_PROXY_TRUSTED: set, but AUTH_PROXY_HEADER/ });
  t.throws(() => readEnv({ AUTH_PROXY_HEADER: 'X-Forwarded-Email', AUTH_PROXY_TRUSTED: 'proxy.local' }), {
    message: /"proxy.local" is not an IP address or a CIDR range/,
  });
  t.throws(() => readEnv({ AUTH_PROXY_HEADER: 'X-Forwarded-Email', AUTH_PROXY_TRUSTED: '10.0.0.0/33' }), {
    message: /not an IP address or a CIDR range/,
  });
  t.throws(() => readEnv({ AUTH_PROXY_HEADER: 'X Email', AUTH_PROXY_TRUSTED: '10.0.0.1' }), { message: /^AUTH_PROXY_HEADER: / });
  t.same(readEnv({}).status.trustedProxies, []);
  t.same(readEnv({ STATUS_TRUSTED_PROXIES: '10.0.0.5, 2001:db8::/32' }).status.trustedProxies, ['10.0.0.5', '2001:db8::/32']);
  t.throws(() => readEnv({ STATUS_TRUSTED_PROXIES: 'cdn.example.com' }), {
    message: /^STATUS_TRUSTED_PROXIES: "cdn.example.com" is not an IP address or a CIDR range/,
  });
});

t.test('a YAML alias bomb is a ConfigError naming the file, not a crash', async (t) => {
  t.throws(() => parseConfig(aliasBomb(), 'bomb.yml'), { name: 'ConfigError', message: /^bomb\.yml: invalid YAML: too many aliases/ });
  // A few aliases, as a config may use to share a route, are fine.
  const shared = shipped + 'teams:\n  - {id: a, name: A, match: [\'team="a"\'], routing: {critical: &r {channels: ["#a"]}, high: *r}}\n';
  t.ok(parseConfig(shared, 'ok.yml'));
});

t.test('OpenID Connect and the shared-token form from the environment; the client secret never in a message', async (t) => {
  const oidc = {
    OIDC_ISSUER: 'https://accounts.google.com',
    OIDC_CLIENT_ID: 'id',
    OIDC_CLIENT_SECRET: 'very-secret',
    PUBLIC_URL: 'https://t.example',
  };
  t.same(readEnv(oidc).oidc, {
    issuer: 'https://accounts.google.com',
    clientId: 'id',
    clientSecret: 'very-secret',
    scopes: undefined,
    allowInsecureIssuer: false,
    endSession: true,
  });
  t.equal(readEnv(oidc).tokenForm, false, 'with OIDC the shared-token form is off');
  t.equal(readEnv({ ...oidc, WEB_TOKEN_SIGN_IN: 'on' }).tokenForm, true, 'unless asked for');
  t.equal(readEnv({}).tokenForm, true, 'the Quick start keeps its form');
  const prod = { NODE_ENV: 'production', WEBHOOK_TOKEN: 'w'.repeat(32), API_TOKEN: 'a'.repeat(32), SESSION_SECRET: 's'.repeat(32) };
  t.equal(readEnv(prod).tokenForm, false, 'off in production');
  t.equal(readEnv({ ...prod, WEB_TOKEN_SIGN_IN: 'on' }).tokenForm, true, 'unless explicitly enabled');
  t.throws(() => readEnv({ WEB_TOKEN_SIGN_IN: 'yes' }), { message: /^WEB_TOKEN_SIGN_IN: "yes" is not on or off/ });
  t.throws(() => readEnv({ ...oidc, PUBLIC_URL: '' }), { message: /^PUBLIC_URL: required with OIDC_ISSUER/ });
  t.throws(() => readEnv({ ...oidc, OIDC_CLIENT_SECRET: '' }), { message: /^OIDC_CLIENT_SECRET: required/ });
  t.throws(() => readEnv({ OIDC_CLIENT_SECRET: 'very-secret' }), { message: /^OIDC_ISSUER: required/ });
  t.throws(() => readEnv({ ...prod, ...oidc, OIDC_ISSUER: 'http://idp.local' }), {
    message: /^OIDC_ISSUER: must be https when NODE_ENV=production/,
  });
  t.equal(readEnv({ ...oidc, OIDC_ISSUER: 'http://127.0.0.1:8080' }).oidc?.allowInsecureIssuer, true, 'plain http outside production');
  t.equal(readEnv(oidc).oidc?.endSession, true, 'sign-out at the provider too, by default');
  t.equal(readEnv({ ...oidc, OIDC_END_SESSION: 'off' }).oidc?.endSession, false);
  t.throws(() => readEnv({ ...oidc, OIDC_END_SESSION: 'maybe' }), { message: /^OIDC_END_SESSION: "maybe" is neither on nor off/ });
  for (const bad of [
    { ...oidc, OIDC_ISSUER: 'not a url' },
    { ...oidc, PUBLIC_URL: '' },
    { ...oidc, AUTH_PROXY_HEADER: 'X-Email', AUTH_PROXY_TRUSTED: '10.0.0.1' },
  ]) {
    let message = '';
    try {
      readEnv(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    t.ok(message, 'refused');
    t.notMatch(message, 'very-secret');
  }
});

t.test('roles in the config: a contact’s access and the people section', async (t) => {
  const people = parseConfig(
    shipped.replace('    roles: [security-lead]', '    roles: [security-lead]\n    access: admin') +
      '\npeople:\n  unknown: refuse\n  groups: { sre: responder }\n',
    'roles.yml',
  );
  t.equal(people.paging.contacts.find((c) => c.id === 'alice')?.access, 'admin');
  t.match(people.people, { defaultRole: 'responder', unknown: 'refuse', emailClaim: 'email', groups: { sre: 'responder' } });
  t.throws(() => parseConfig(shipped + '\npeople:\n  unknown: superuser\n', 'bad.yml'), {
    name: 'ConfigError',
    message: /^bad\.yml: people/,
  });
});
