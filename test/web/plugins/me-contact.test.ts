// /me's sections about being reached: a person adds a number (E.164, clear refusals), gets a code
// by text through the Twilio stand-in, types it back (expiry, tries, resend pacing), removes it;
// sets their own notification rules (never a Critical silenced); sees the calls and texts that did
// not reach them; downloads the vCard of the numbers pages come from. The code is never logged.
import t, { type Test } from 'tap';
import { parseConfig } from '../../../src/config/load-config.js';
import { capturedLog, makeApp } from '../../helpers.js';
import { TwilioApiServer } from '../../fakes/twilio-api-server.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, phoneConfigText, PUBLIC_URL } from '../../notify/twilio/phone-helpers.js';
import { WebClient } from '../web-client.js';

const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;
const VOICE_FROM = '+15005550007';

async function setUp(t: Test, opts: { twilio?: boolean } = {}) {
  const twilio = await new TwilioApiServer(ACCOUNT_SID, AUTH_TOKEN, [FROM, VOICE_FROM]).start();
  t.teardown(() => twilio.stop());
  // Dan is a viewer; the others keep the default role (responder).
  const triage = parseConfig(
    phoneConfigText((text) => text.replace('  - id: dan\n', '  - id: dan\n    access: viewer\n')),
    'triage.yml',
  );
  const log = capturedLog();
  const ctx = await makeApp(t, {
    logger: log.logger,
    config: {
      triage,
      web,
      channels:
        opts.twilio === false
          ? { publicUrl: PUBLIC_URL }
          : {
              twilioAccountSid: ACCOUNT_SID,
              twilioAuthToken: AUTH_TOKEN,
              twilioApiUrl: twilio.url,
              twilioFrom: FROM,
              twilioVoiceFrom: VOICE_FROM,
              twilioFromIntervalMs: 0,
              twilioTimeoutMs: 1000,
              publicUrl: PUBLIC_URL,
            },
    },
  });
  twilio.now = () => ctx.clock.now();
  const as = (email: string) => new WebClient(ctx.app, { 'x-forwarded-email': email });
  return { ...ctx, twilio, log, as };
}

const codeOf = (body: string) => /your code is ([0-9]{6})\./.exec(body)?.[1];
const text = (body: string) =>
  body
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

t.test('add a number, get a code by text, type it back: it is paged; remove it', async (t) => {
  const s = await setUp(t);
  const alice = s.as('alice@example.com');
  const page = await alice.get('/me');
  t.equal(page.statusCode, 200);
  for (const want of [
    '<h2 id="phone">Your numbers</h2>',
    '<label for="number">Add a phone number</label>',
    '+33600000001',
    '(from the config)',
  ])
    t.ok(page.body.includes(want), want);

  const added = await alice.post('/me/numbers', { number: '+44 7700 900123', sms: 'on', voice: 'on' });
  t.equal(added.statusCode, 200);
  t.match(text(added.body), /A code is on its way to \+447700900123 by text/);
  t.equal(s.twilio.messages.length, 1, 'one text');
  const sent = s.twilio.messages[0]!;
  t.equal(sent.to, '+447700900123', 'spaces dropped: E.164');
  t.equal(sent.from, FROM);
  const code = codeOf(sent.body)!;
  t.ok(code, 'the text carries a 6-digit code');
  t.ok(sent.body.length <= 160, 'one segment');
  t.notOk(added.body.includes(code), 'the page never shows the code');
  t.match(text(added.body), /texts: waiting for the code/);
  t.match(text(added.body), /calls: waiting for the code/);
  t.match(added.body, /<label for="code-447700900123">Code texted to \+447700900123<\/label>/);

  const stored = JSON.stringify(await s.store.contactSettings('alice'));
  t.notOk(stored.includes(`"${code}"`), 'the store keeps a digest of the code, not the code');

  const wrong = await alice.post('/me/numbers/verify', { number: '+447700900123', code: code === '000000' ? '111111' : '000000' });
  t.equal(wrong.statusCode, 400);
  t.match(text(wrong.body), /\+447700900123: Wrong code\./);
  t.match(text(wrong.body), /4 tries left/);

  const ok = await alice.post('/me/numbers/verify', { number: '+447700900123', code });
  t.equal(ok.statusCode, 200);
  t.match(text(ok.body), /\+447700900123 is verified: pages reach you there from now on\./);
  t.match(text(ok.body), /\+447700900123 \(yours\)\s*texts: paged\s*calls: paged/);
  t.equal((await s.app.triage.service.contactByNumber('+447700900123', 'sms'))?.id, 'alice', 'its replies are hers');

  const removed = await alice.post('/me/numbers/remove', { number: '+447700900123' });
  t.match(text(removed.body), /\+447700900123 is removed/);
  t.notOk(removed.body.includes('(yours)'));
  t.equal(await s.app.triage.service.contactByNumber('+447700900123', 'sms'), undefined);
  t.equal(
    (await alice.post('/me/numbers/remove', { number: '+33600000001' })).statusCode,
    404,
    "the config's number is not hers to remove",
  );

  const log = s.log.text();
  t.notOk(log.includes(code), 'the code is never logged');
  t.notOk(log.includes('+447700900123'), 'nor the whole number');
  t.match(log, /"audit":"phone-number-added"/);
});

t.test('bad numbers get clear refusals; the code expires, has five tries, and new codes are paced', async (t) => {
  const s = await setUp(t);
  const bob = s.as('bob@example.com');
  await bob.get('/me');
  const cases: [string, RegExp][] = [
    ['0612345678', /"0612345678" has no country code: write it with \+ and the country code/],
    ['+0612', /is not a phone number in the international form/],
    ['call me', /is not a phone number in the international form/],
    ['', /Type a number/],
  ];
  for (const [number, message] of cases) {
    const r = await bob.post('/me/numbers', { number, sms: 'on' });
    t.equal(r.statusCode, 400, number);
    t.match(text(r.body), message, number);
    if (number) t.match(r.body, `value="${number}"`, 'what was typed is shown again');
  }
  t.match(text((await bob.post('/me/numbers', { number: '+33611111111' })).body), /Choose texts, calls, or both/);
  t.equal(s.twilio.messages.length, 0, 'no text for a refused number');
  t.equal((await bob.post('/me/numbers', { number: 'x'.repeat(41), sms: 'on' })).statusCode, 400, 'too long');

  await bob.post('/me/numbers', { number: '+33611111111', sms: 'on' });
  t.equal(s.twilio.messages.length, 1);
  const again = await bob.post('/me/numbers/resend', { number: '+33611111111' });
  t.equal(again.statusCode, 429, 'a new code no sooner than a minute');
  t.match(text(again.body), /A code was sent less than a minute ago\. Try again in 1 min\./);
  t.equal(s.twilio.messages.length, 1);

  s.clock.advance(11 * 60_000);
  const first = codeOf(s.twilio.messages[0]!.body)!;
  t.match(text((await bob.post('/me/numbers/verify', { number: '+33611111111', code: first })).body), /The code has expired/);

  await bob.post('/me/numbers/resend', { number: '+33611111111' });
  t.equal(s.twilio.messages.length, 2, 'a new code after the minute');
  const second = codeOf(s.twilio.messages[1]!.body)!;
  const wrong = second === '999999' ? '888888' : '999999';
  for (let i = 0; i < 5; i++) await bob.post('/me/numbers/verify', { number: '+33611111111', code: wrong });
  const late = await bob.post('/me/numbers/verify', { number: '+33611111111', code: second });
  t.match(text(late.body), /The code has expired/, 'five wrong tries end the code');
  t.match(text((await bob.post('/me/numbers/verify', { number: '+33611111111', code: 'abc' })).body), /the 6 digits of the text/);

  for (let i = 0; i < 3; i++) {
    s.clock.advance(61_000);
    t.equal((await bob.post('/me/numbers/resend', { number: '+33611111111' })).statusCode, 200);
  }
  s.clock.advance(61_000);
  const capped = await bob.post('/me/numbers', { number: '+33622222222', sms: 'on' });
  t.equal(capped.statusCode, 429, 'five codes an hour to a person, whatever the numbers');
  t.match(text(capped.body), /At most 5 codes an hour/);
  t.equal(s.twilio.messages.length, 5);
});

t.test('Twilio refusing the number drops it; an answer lost says the code may still come', async (t) => {
  const s = await setUp(t);
  const carol = s.as('carol@example.com');
  await carol.get('/me');
  s.twilio.failNext('Messages', { status: 400, code: 21614, message: "'To' number is not a valid mobile number" });
  const refused = await carol.post('/me/numbers', { number: '+33144444444', sms: 'on' });
  t.equal(refused.statusCode, 400);
  t.match(text(refused.body), /Twilio refused to text \+33144444444: .*not a valid mobile number/);
  t.notOk(refused.body.includes('(yours)'), 'the number is not kept');

  s.twilio.failNext('Messages', { hang: true });
  const lost = await carol.post('/me/numbers', { number: '+33655555555', sms: 'on' });
  t.equal(lost.statusCode, 502);
  t.match(text(lost.body), /Twilio did not answer in time: the code may still arrive/);
  t.match(text(lost.body), /\+33655555555 \(yours\)\s*texts: waiting for the code/, 'kept: the code may arrive');
  const code = codeOf(s.twilio.messages.at(-1)!.body)!;
  t.equal((await carol.post('/me/numbers/verify', { number: '+33655555555', code })).statusCode, 200, 'and it works when it does');
});

t.test('notification rules: set your own, tighten as you like, never silence a Critical; back to the team’s', async (t) => {
  const s = await setUp(t);
  const carol = s.as('carol@example.com');
  const page = await carol.get('/me');
  t.match(text(page.body), /Critical\s*the team’s: Slack at once, text at once, call at 1m, call at 5m/);
  t.match(page.body, /<label for="critical-m0">Step 1<\/label>/);

  const mine = {
    critical_use: 'mine',
    critical_method_0: 'sms',
    critical_after_0: '0s',
    critical_method_1: 'voice',
    critical_after_1: '30s',
    critical_method_2: 'voice',
    critical_after_2: '5m',
    high_use: 'mine',
    high_method_0: 'voice',
    high_after_0: '2m',
    high_method_1: 'sms',
    high_after_1: '0s',
  };
  const saved = await carol.post('/me/rules', mine);
  t.equal(saved.statusCode, 200);
  t.match(text(saved.body), /Your notification rules are saved/);
  t.match(text(saved.body), /Critical\s*yours: text at once, call at 30s, call at 5m/);
  t.match(text(saved.body), /High\s*yours: text at once, call at 2m/);
  t.same((await s.store.contactSettings('carol'))!.rules, {
    critical: [
      { method: 'sms', afterMs: 0 },
      { method: 'voice', afterMs: 30_000 },
      { method: 'voice', afterMs: 300_000 },
    ],
    high: [
      { method: 'sms', afterMs: 0 },
      { method: 'voice', afterMs: 120_000 },
    ],
  });

  const silenced = await carol.post('/me/rules', { critical_use: 'mine' });
  t.equal(silenced.statusCode, 400);
  t.match(text(silenced.body), /Critical cannot be silenced/);
  const later = await carol.post('/me/rules', { ...mine, critical_after_1: '2m' });
  t.match(text(later.body), /Critical must keep voice at 1m or sooner/);
  t.match(
    text((await carol.post('/me/rules', { ...mine, high_after_0: 'soon' })).body),
    /High, step 1: "soon" is not a time such as 0s, 1m or 5m/,
  );
  t.match(text((await carol.post('/me/rules', { ...mine, high_method_0: 'pigeon' })).body), /"pigeon" is not a way pages can reach you/);
  t.match(text((await carol.post('/me/rules', { ...mine, high_after_0: '25h' })).body), /at most 24h/);
  t.equal((await carol.post('/me/rules', { ...mine, evil: 'x' })).statusCode, 400, 'an unknown field');
  t.same((await s.store.contactSettings('carol'))!.rules!.high![1], { method: 'voice', afterMs: 120_000 }, 'refusals changed nothing');

  const back = await carol.post('/me/rules', { critical_use: 'team', high_use: 'team' });
  t.match(text(back.body), /You follow the team’s rules for every severity/);
  t.equal((await s.store.contactSettings('carol'))!.rules, undefined);
});

t.test('a viewer sees but cannot change; the routes refuse without the responder role or CSRF token', async (t) => {
  const s = await setUp(t);
  const dan = s.as('dan@example.com');
  const page = await dan.get('/me');
  t.match(text(page.body), /Adding a number needs the responder role/);
  t.notOk(page.body.includes('action="/me/rules'), 'no rules form');
  t.equal((await dan.post('/me/numbers', { number: '+33611111111', sms: 'on' })).statusCode, 403);
  t.equal((await dan.post('/me/rules', { high_use: 'team' })).statusCode, 403);
  t.equal(s.twilio.messages.length, 0);
  const carol = s.as('carol@example.com');
  await carol.get('/me');
  t.equal((await carol.post('/me/numbers', { number: '+33611111111', sms: 'on', _csrf: 'forged' })).statusCode, 403, 'a forged CSRF token');
  t.equal(s.twilio.messages.length, 0);
});

t.test('calls and texts that did not reach you, with when and why; the vCard of the numbers pages come from', async (t) => {
  const s = await setUp(t);
  const at = s.clock.now();
  await s.store.savePhoneMessage({
    sid: 'SM1',
    channel: 'sms',
    to: '+33600000003',
    contact: 'carol',
    pageId: null,
    incidentIds: [7],
    at,
    status: 'queued',
    updatedAt: at,
  });
  await s.store.setPhoneStatus('SM1', 'undelivered', at + 1000);
  await s.store.savePhoneMessage({
    sid: 'CA1',
    channel: 'voice',
    to: '+33600000003',
    contact: 'carol',
    pageId: null,
    incidentIds: [8],
    at,
    status: 'no-answer',
    updatedAt: at,
  });
  await s.store.savePhoneMessage({
    sid: 'CA2',
    channel: 'voice',
    to: '+33600000003',
    contact: 'carol',
    pageId: null,
    incidentIds: [9],
    at,
    status: 'completed',
    updatedAt: at,
  });
  await s.store.updateContactSettings('carol', (x) => ({
    settings: {
      ...x,
      methods: [
        ...x.methods,
        { method: 'sms', address: '+33600000003', failed: { reason: 'the recipient replied STOP (Twilio 21610)', at } },
      ],
    },
    result: undefined,
  }));
  s.clock.advance(60_000);
  const carol = s.as('carol@example.com');
  const page = text((await carol.get('/me')).body);
  t.match(page, /text to \+33600000003: the text was not delivered/);
  t.match(page, /call to \+33600000003: the call was not answered/);
  t.match(page, /marked failed: the recipient replied STOP \(Twilio 21610\)/);
  t.notMatch(page, /incident 9/, 'a call that went through is no failure');
  t.match(page, /texts: not paged: failed/);
  t.match(page, /text START from this phone to \+15005550006/);

  const card = await carol.get('/me/pages-contact.vcf');
  t.equal(card.statusCode, 200);
  t.match(card.headers['content-type'], /^text\/vcard/);
  t.match(card.headers['content-disposition'], /attachment; filename="alert-triage-pages.vcf"/);
  t.match(card.body, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
  t.match(card.body, /\r\nFN:alert-triage pages\r\n/);
  t.match(card.body, /\r\nTEL;TYPE=VOICE:\+15005550007\r\n/);
  t.match(card.body, /\r\nTEL;TYPE=CELL,MSG:\+15005550006\r\n/);
  t.match(card.body, /\r\nURL:https:\/\/triage\.example\.com\r\n/);
  t.notMatch(card.body, new RegExp(`${AUTH_TOKEN}|${ACCOUNT_SID}`), 'no secret in it');
  t.match(card.body, /END:VCARD\r\n$/);
});

t.test('without Twilio: the sections say so and nothing can be added', async (t) => {
  const s = await setUp(t, { twilio: false });
  const alice = s.as('alice@example.com');
  const page = await alice.get('/me');
  t.match(text(page.body), /No number can be added: Twilio is not configured on this service/);
  t.match(text(page.body), /Calls and texts are not configured on this service/);
  t.equal((await alice.get('/me/pages-contact.vcf')).statusCode, 404);
  t.equal((await alice.post('/me/numbers', { number: '+33611111111', sms: 'on' })).statusCode, 503);
});
