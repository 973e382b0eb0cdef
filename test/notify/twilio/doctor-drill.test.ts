// doctor checks the Twilio credentials with one read-only call; a drill (fire --to) texts and calls
// the one person named, nobody else.
import t from 'tap';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { freePort, tempDir, WEBHOOK_TOKEN } from '../../helpers.js';
import { TwilioApiServer } from '../../fakes/twilio-api-server.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, PHONES, phoneApp } from './phone-helpers.js';

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

t.test('doctor: one GET of the account proves the credentials; a wrong token fails, naming no secret', async (t) => {
  const twilio = await new TwilioApiServer(ACCOUNT_SID, AUTH_TOKEN, [FROM]).start();
  t.teardown(() => twilio.stop());
  const dir = tempDir(t);
  const env = (token: string) => ({
    DATABASE_URL: `sqlite:${join(dir, 'd.db')}`,
    WEBHOOK_TOKEN: 'w',
    API_TOKEN: 'a',
    PUBLIC_URL: 'https://triage.example.com',
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: token,
    TWILIO_API_URL: twilio.url,
    TWILIO_FROM: FROM,
  });
  const good = capture();
  await main(['doctor', '--url', 'http://127.0.0.1:1'], env(AUTH_TOKEN), good.io);
  t.match(
    good.lines.find((l) => l.includes('twilio:')),
    `✓ twilio: account ${ACCOUNT_SID} active; texts and calls from ${FROM}`,
  );
  t.same(
    twilio.requests.map((r) => `${r.method} ${r.path}`),
    [`GET /2010-04-01/Accounts/${ACCOUNT_SID}.json`],
    'one read-only call',
  );
  const bad = capture();
  await main(['doctor', '--url', 'http://127.0.0.1:1'], env('wrong-token-value'), bad.io);
  const line = bad.lines.find((l) => l.includes('twilio:'))!;
  t.match(line, /^✗ twilio: GET Accounts\/\{sid\}\.json failed: Twilio refused: Authenticate \(Twilio 20003\)$/);
  t.notMatch(bad.lines.join('\n'), 'wrong-token-value', 'the token is never printed');
});

t.test('a drill with --to texts and calls only the person named', async (t) => {
  const p = await phoneApp(t);
  const port = await freePort();
  await p.app.listen({ port, host: '127.0.0.1' });
  const { lines, io } = capture();
  const code = await main(['fire', '--scenario', 'ddos', '--to', 'dan', '--url', `http://127.0.0.1:${port}`], { WEBHOOK_TOKEN }, io);
  t.equal(code, 0, lines.join('\n'));
  await p.drain();
  t.same(
    p.twilio.messages.map((m) => m.to),
    [PHONES.dan],
    'one text, to Dan alone (not the on-call)',
  );
  t.match(p.twilio.messages[0]!.body, /^CRITICAL #\d+ \(DRILL\) /, 'it says it is a drill, in GSM-7');
  await p.fastForward(60_000);
  t.same(
    p.twilio.calls.map((c) => c.to),
    [PHONES.dan],
    'and a call a minute later, to Dan alone',
  );
});
