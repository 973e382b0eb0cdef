import t from 'tap';
import { logOptions, redactSecrets, redactUrl } from '../../src/http/log-serializers.js';
import { capturedLog } from '../helpers.js';

t.test('a URL is logged without its secrets: query values, a calendar feed, the links of a status page e-mail', async (t) => {
  t.equal(redactUrl('/api/incidents?token=abc&limit=5'), '/api/incidents?token=[redacted]&limit=[redacted]');
  t.equal(redactUrl('/calendar/s3cret.ics'), '/calendar/[redacted]');
  t.equal(redactUrl('/status/confirm/AbCdEfGhIjKlMnOpQrStUvWx'), '/status/confirm/[redacted]');
  t.equal(redactUrl('/status/unsubscribe/AbCdEfGhIjKlMnOpQrStUvWx?x=1'), '/status/unsubscribe/[redacted]');
  t.equal(redactUrl('/status/feed.atom'), '/status/feed.atom', 'the public pages as they are');
});

t.test("no secret reaches a log line: top level, one level down, and a request's headers", async (t) => {
  const captured = capturedLog(logOptions('info'));
  const log = captured.logger;
  const config = {
    webhookToken: 'SECRET-1',
    channels: { slackBotToken: 'SECRET-2', smtpUrl: 'smtp://u:SECRET-3@mail', emailFrom: 'a@example.com' },
    web: { sessionSecret: 'SECRET-4', oidc: { clientSecret: 'SECRET-10' } },
    outgoing: [{ name: 'audit', authToken: 'SECRET-11' }],
  };
  const err = Object.assign(new Error('the call failed'), { twilioAuthToken: 'SECRET-5', status: 401 });
  log.info({ config, apiToken: 'SECRET-6', headers: { authorization: 'Bearer SECRET-7', accept: 'text/html' } }, 'one');
  log.info({ request: { headers: { cookie: 'SECRET-8', host: 'x' } }, err }, 'two');
  log.info({ authorization: 'Basic SECRET-9', count: 3, name: 'plain' }, 'three');
  const lines = captured.lines();
  const text = JSON.stringify(lines);
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) t.notMatch(text, `SECRET-${n}`, `secret ${n} blanked`);
  t.match(lines[0], { config: { webhookToken: '[Redacted]', channels: { slackBotToken: '[Redacted]', emailFrom: 'a@example.com' } } });
  t.match(lines[0], { headers: { authorization: '[Redacted]', accept: 'text/html' } }, 'other headers kept');
  t.match(
    lines[1],
    { err: { message: 'the call failed', status: 401, twilioAuthToken: '[Redacted]' } },
    'an error keeps its message and the rest',
  );
  t.match(lines[2], { authorization: '[Redacted]', count: 3, name: 'plain' });
  // What was logged is not changed: it may be the live config.
  t.equal(config.webhookToken, 'SECRET-1');
  t.equal(config.channels.slackBotToken, 'SECRET-2');
  t.equal(err.twilioAuthToken, 'SECRET-5');
});

t.test('an object with nothing secret is logged as it is, not copied', async (t) => {
  const plain = { incident: { id: 4, severity: 'critical' }, pages: 2 };
  t.equal(redactSecrets(plain), plain);
  const secret = { incident: { id: 4 }, apiToken: 'x' };
  t.not(redactSecrets(secret), secret);
});

t.test('redaction never throws and never lets a secret through a shared object, a cycle, a getter or a proxy', async (t) => {
  const shared = { apiToken: 'SECRET-a' };
  const cyclic: Record<string, unknown> = { password: 'SECRET-b', name: 'loop' };
  cyclic['self'] = cyclic;
  const throwing = Object.defineProperty({ ok: 1 }, 'boom', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });
  const getterSecret = Object.defineProperty(new Error('x'), 'authToken', { enumerable: true, get: () => 'SECRET-c' });
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const out = JSON.stringify([
    redactSecrets({ first: shared, second: shared }),
    redactSecrets({ cyclic }),
    redactSecrets({ throwing }),
    redactSecrets({ err: getterSecret }),
    redactSecrets({ headers: { Authorization: 'Bearer SECRET-d' } }),
  ]);
  t.notMatch(out, /SECRET/, 'no secret in any of them');
  t.match(out, '"second":{"apiToken":"[Redacted]"}', 'a shared object is cleaned wherever it is');
  t.match(out, '"self":"[Circular]"');
  t.match(out, '"boom":"[Unreadable]"', 'a getter that throws');
  t.same(redactSecrets({ revoked: proxy }), { unreadable: '[Unreadable]' }, 'a revoked proxy: the line says so');
});
