import t from 'tap';
import { digestText, gsm7, pageText, parseReply, textAllowance, SEGMENT } from '../../../src/notify/twilio/phone-text.js';
import { validTwilioSignature } from '../../../src/notify/twilio/twiml.js';
import { twilioSignature } from '../../fakes/twilio-api-server.js';

// Twilio's published example (docs: "Secure your webhooks"): auth token 12345, this URL and these parameters.
const DOCS = {
  token: '12345',
  url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
  params: { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' },
  signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
};

t.test("signatures match Twilio's published example, both the stand-in's and the service's check", async (t) => {
  t.equal(twilioSignature(DOCS.token, DOCS.url, DOCS.params), DOCS.signature, 'the stand-in signs as Twilio does');
  t.ok(validTwilioSignature(DOCS.token, DOCS.signature, DOCS.url, DOCS.params), 'the service accepts it');
  t.notOk(validTwilioSignature(DOCS.token, DOCS.signature, DOCS.url, { ...DOCS.params, Digits: '4' }), 'a changed parameter');
  t.notOk(validTwilioSignature(DOCS.token, DOCS.signature, 'https://mycompany.com/myapp.php?foo=1&bar=3', DOCS.params), 'a changed URL');
  t.notOk(validTwilioSignature('54321', DOCS.signature, DOCS.url, DOCS.params), 'another token');
  t.notOk(validTwilioSignature(DOCS.token, undefined, DOCS.url, DOCS.params), 'no signature');
  t.notOk(validTwilioSignature(DOCS.token, '', DOCS.url, DOCS.params), 'an empty one');
});

t.test('a page is one GSM-7 segment whatever the title', async (t) => {
  const cases: [string, string][] = [
    ['short', 'Disk full on db-1'],
    ['long', 'x'.repeat(500)],
    ['emoji and bidi controls', '🔥 fire \u202Eevil\u202C in prod'],
    ['accents', 'Réplication arrêtée sur ł-čluster'],
    ['newlines and NUL', 'line one\nline two\u0000'],
  ];
  for (const [name, title] of cases) {
    const text = pageText({ id: 123456, severity: 'critical', title }, 'https://triage.example.com/incidents/123456');
    t.ok(text.length <= SEGMENT, `${name}: ${text.length} characters`);
    t.equal(gsm7(text), text, `${name}: GSM-7 only`);
    t.match(text, /^CRITICAL #123456 .* Reply 4 123456 to ack, 6 123456 to resolve\. https:\/\/triage\.example\.com\/incidents\/123456$/);
  }
  t.equal(gsm7('Réplication č ł'), 'Réplication c ?', 'a letter GSM-7 lacks loses its accent (é is GSM-7), one without a plain form is ?');
});

t.test('a digest says how many, how many critical, and fits one segment', async (t) => {
  const items = Array.from({ length: 50 }, (_, i) => ({
    id: 1000 + i,
    severity: i < 3 ? ('critical' as const) : ('high' as const),
    title: `t${i}`,
  }));
  const text = digestText(items, 'https://triage.example.com/incidents');
  t.match(text, /^50 new incidents \(3 critical\); reply 4 to acknowledge all\. #1000 #1001 #1002 #1003 .* …/);
  t.ok(text.length <= SEGMENT, `${text.length} characters`);
  t.equal(
    digestText(items.slice(3, 10), undefined),
    '7 new incidents; reply 4 to acknowledge all. #1003 #1004 #1005 #1006 #1007 #1008 #1009',
  );
});

t.test('replies', async (t) => {
  const table: [string, ReturnType<typeof parseReply>][] = [
    ['4 123', { action: 'ack', incident: 123 }],
    ['ack 123', { action: 'ack', incident: 123 }],
    ['  ACK   #123 ', { action: 'ack', incident: 123 }],
    ['4', { action: 'ack', incident: undefined }],
    ['6 123', { action: 'resolve', incident: 123 }],
    ['resolve 7', { action: 'resolve', incident: 7 }],
    ['STOP', { action: 'stop' }],
    ['unsubscribe', { action: 'stop' }],
    ['start', { action: 'start' }],
    ['4 0123', { action: 'help' }],
    ['4 12 13', { action: 'help' }],
    ['5 123', { action: 'help' }],
    ['hello', { action: 'help' }],
    ['', { action: 'help' }],
    ['4 99999999999999999', { action: 'help' }],
  ];
  for (const [body, want] of table) t.same(parseReply(body), want, JSON.stringify(body));
});

t.test('at most `cap` texts in any hour; the next slot is when the oldest of the hour leaves it', async (t) => {
  const H = 3_600_000;
  const now = 10 * H;
  const table: [string, number[], number, ReturnType<typeof textAllowance>][] = [
    ['none yet', [], 3, { ok: true }],
    ['under the cap', [now - 10, now - 20], 3, { ok: true }],
    ['at the cap', [now - 30 * 60_000, now - 20, now - 10], 3, { ok: false, until: now - 30 * 60_000 + H }],
    ['older texts do not count', [now - H - 1, now - 2 * H, now - 10], 3, { ok: true }],
    [
      'over the cap (several replicas): the slot is when enough have left',
      [now - 50 * 60_000, now - 40 * 60_000, now - 30, now - 20],
      3,
      { ok: false, until: now - 40 * 60_000 + H },
    ],
  ];
  for (const [name, sent, cap, want] of table) t.same(textAllowance(sent, now, cap), want, name);
});
