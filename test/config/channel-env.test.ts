// The channels' variables: named URLs and secrets read by suffix, refused with the variable's name
// (never its value), and the routes that name a room whose variable is unset reported.
import t from 'tap';
import { channelProblems, readChannelEnv } from '../../src/config/channel-env.js';
import { pagingProblems, readEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/load-config.js';
import { shippedConfigText } from '../helpers.js';

t.test('named URLs and secrets are read by their suffix', async (t) => {
  const env = readChannelEnv({
    TEAMS_WEBHOOK_URL_SEC_OPS: 'https://prod.example.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=abc',
    OUTGOING_WEBHOOK_URL_STATUS_PAGE: 'https://status.example.com/hook',
    OUTGOING_WEBHOOK_SECRET_STATUS_PAGE: 'whsec-0123456789abcdef',
    NTFY_URL: 'https://ntfy.sh',
    NTFY_TOKEN: 'tk_x',
    MATTERMOST_WEBHOOK_URL: 'https://mm.example.com/hooks/xyz',
  });
  t.same(Object.keys(env.teamsWebhookUrls), ['SEC_OPS']);
  t.same(env.outgoingWebhooks, { STATUS_PAGE: { url: 'https://status.example.com/hook', secret: 'whsec-0123456789abcdef' } });
  t.equal(env.ntfyUrl, 'https://ntfy.sh');
  t.equal(env.mattermostUrl, undefined);
});

t.test('a setting that cannot work stops the start, naming the variable and never the value', async (t) => {
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [{ OUTGOING_WEBHOOK_URL_X: 'https://h.example/secret-path' }, /^OUTGOING_WEBHOOK_SECRET_X: required with OUTGOING_WEBHOOK_URL_X/],
    [
      { OUTGOING_WEBHOOK_URL_X: 'https://h.example/secret-path', OUTGOING_WEBHOOK_SECRET_X: 'short' },
      /^OUTGOING_WEBHOOK_SECRET_X: must be at least 16/,
    ],
    [{ TEAMS_WEBHOOK_URL_OPS: 'not a url with sig=secret-sig' }, /^TEAMS_WEBHOOK_URL_OPS: not an http\(s\) URL$/],
    [{ NTFY_URL: 'ftp://ntfy.example' }, /^NTFY_URL: not an http\(s\) URL$/],
    [{ MATTERMOST_URL: 'https://mm.example.com' }, /^MATTERMOST_BOT_TOKEN: required with MATTERMOST_URL$/],
  ];
  for (const [env, message] of cases) {
    const err = t.throws(() => readEnv(env)) as Error;
    t.match(err.message, message);
    t.notMatch(err.message, /secret-path|secret-sig|short/);
  }
});

t.test('routes to rooms whose variables are unset are reported; production refuses them', async (t) => {
  const triage = parseConfig(
    shippedConfigText().replace(
      'critical: { channels: ["#security-incident"],',
      'critical: { channels: ["#security-incident"], to: ["teams:sec-ops", "webhook:status-page", "mattermost:ops/x", "ntfy:sec"],',
    ),
    'triage.yml',
  );
  const env = readEnv({ TEAMS_WEBHOOK_URL_OTHER: 'https://t.example/x' });
  t.same(channelProblems(env, triage.paging), [
    'TEAMS_WEBHOOK_URL_SEC_OPS: not set, but the config routes pages to Teams room "sec-ops": they would not be sent',
    'OUTGOING_WEBHOOK_URL_STATUS_PAGE: not set, but the config routes events to webhook "status-page": they would not be sent',
    'MATTERMOST_URL (or MATTERMOST_WEBHOOK_URL): not set, but the config routes pages to Mattermost "ops/x"',
    'NTFY_URL: not set, but the config routes pages to ntfy: they would not be sent',
  ]);
  t.ok(
    pagingProblems(env, triage.paging).some((p) => p.startsWith('TEAMS_WEBHOOK_URL_SEC_OPS')),
    'part of the paging problems',
  );
  const perPerson = parseConfig(
    shippedConfigText().replace('high:     { channels: ["#incidents"],', 'high:     { channels: ["#incidents"], ntfy: true,'),
    'triage.yml',
  );
  t.match(channelProblems(readEnv({}), perPerson.paging), [/^NTFY_URL: not set/]);
});

t.test("TWILIO_LIST_WAIT: a duration up to 2m, how long the lookup after a lost answer waits for Twilio's lists", async (t) => {
  t.equal(readEnv({ TWILIO_LIST_WAIT: '15s' }).twilio.listWaitMs, 15_000);
  t.equal(readEnv({ TWILIO_LIST_WAIT: '0s' }).twilio.listWaitMs, 0);
  t.equal(readEnv({}).twilio.listWaitMs, undefined, 'unset: the notifier default (10 s)');
  for (const bad of ['ten', '5m'])
    t.throws(() => readEnv({ TWILIO_LIST_WAIT: bad }), { message: /^TWILIO_LIST_WAIT: .* between 0s and 2m/ });
});
