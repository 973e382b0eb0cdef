// Replies by text: "4 123" acknowledges, "6 123" resolves, "4" alone every incident of the last
// text; anything else gets a short help; STOP marks the number failed (later texts are skipped,
// and the timeline says so) until START. A reply whose signature is wrong changes nothing.
import t from 'tap';
import { alert, metric, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { twilioSignature } from '../../fakes/twilio-api-server.js';
import { PHONES, phoneApp, PUBLIC_URL } from './phone-helpers.js';

const high = (name = 'ServiceDown') => payload(uniqueGroup(), [alert(name, { labels: { severity: 'error', instance: name } })]);

t.test('"4 123" by text acknowledges incident 123 and says so; "6 123" resolves it', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, high())).json().incident.id as number;
  await p.drain();
  t.equal(p.twilio.messages.filter((m) => m.to === PHONES.carol).length, 1, 'a High texts the on-call');

  const ack = await p.twilio.reply(PHONES.carol, `4 ${id}`);
  t.equal(ack.status, 200);
  t.same(ack.messages, [`Acknowledged incident ${id}.`]);
  let incident = (await p.store.getIncident(id))!;
  t.equal(incident.status, 'acknowledged');
  t.match(
    incident.timeline.find((e) => e.kind === 'acknowledged'),
    { by: 'Carol Diaz', via: 'sms', actor: 'carol' },
  );

  t.same((await p.twilio.reply(PHONES.carol, `ack ${id}`)).messages, [`${id} was already acknowledged.`], 'again: nothing to do, said so');
  t.same((await p.twilio.reply(PHONES.carol, `6 ${id}`)).messages, [`Resolved incident ${id}.`]);
  incident = (await p.store.getIncident(id))!;
  t.equal(incident.status, 'resolved');
  t.same((await p.twilio.reply(PHONES.carol, `4 999999`)).messages, ['No incident 999999.']);
});

t.test('an unknown reply gets a short help; a stranger changes nothing', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, high())).json().incident.id as number;
  await p.drain();
  const help = await p.twilio.reply(PHONES.carol, 'what is this?');
  t.match(help.messages[0], /^Reply 4 123 to acknowledge incident 123, 6 123 to resolve it/);
  t.ok(help.messages[0]!.length <= 160, 'the help is one segment');
  const stranger = await p.twilio.reply('+14155550100', `4 ${id}`);
  t.match(stranger.messages[0], /not on the on-call list/);
  t.equal((await p.store.getIncident(id))!.status, 'open');
});

t.test('a reply with a missing or wrong signature gets 403 and changes nothing', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, high())).json().incident.id as number;
  await p.drain();
  const url = `${PUBLIC_URL}/twilio/sms`;
  const form = { AccountSid: p.twilio.accountSid, MessageSid: 'SMforged', From: PHONES.carol, To: p.twilio.numbers[0]!, Body: `4 ${id}` };
  for (const [why, signature] of [
    ['signed with another token', twilioSignature('not-the-token', url, form)],
    ['signed over another URL', twilioSignature(p.twilio.authToken, 'https://evil.example.com/twilio/sms', form)],
    ['signed over another body', twilioSignature(p.twilio.authToken, url, { ...form, Body: 'hello' })],
    ['garbage', 'AAAA'],
  ] as const) {
    const r = await p.twilio.reply(PHONES.carol, `4 ${id}`, signature);
    t.equal(r.status, 403, why);
  }
  const unsigned = await p.app.inject({
    method: 'POST',
    url: '/twilio/sms',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
  t.equal(unsigned.statusCode, 403, 'unsigned');
  for (const path of [
    '/twilio/voice/answer?incidents=1&contact=carol',
    '/twilio/voice/key?incidents=1&contact=carol',
    '/twilio/voice/status',
    '/twilio/sms/status',
  ])
    t.equal(
      (
        await p.app.inject({
          method: 'POST',
          url: path,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'Digits=4',
        })
      ).statusCode,
      403,
      `${path} unsigned`,
    );
  const incident = (await p.store.getIncident(id))!;
  t.equal(incident.status, 'open', 'nothing changed');
  t.notOk(incident.timeline.some((e) => e.kind === 'acknowledged' || e.kind === 'phone'));
});

t.test('"4" alone acknowledges every incident of the last text; STOP skips later texts until START', async (t) => {
  const p = await phoneApp(t);
  const a = (await postWebhook(p.app, high('A'))).json().incident.id as number;
  await p.drain();
  t.same((await p.twilio.reply(PHONES.carol, '4')).messages, [`Acknowledged incident ${a}.`]);

  t.same((await p.twilio.reply(PHONES.carol, 'STOP')).messages, [], 'Twilio answers STOP itself');
  t.match((await p.store.contactSettings('carol'))!.methods, [
    { method: 'sms', address: PHONES.carol, failed: { reason: 'replied STOP' } },
  ]);
  t.match(
    (await p.store.getIncident(a))!.timeline.find((e) => e.kind === 'phone' && e.outcome === 'stop'),
    { contact: 'carol' },
  );
  const b = (await postWebhook(p.app, high('B'))).json().incident.id as number;
  await p.settle();
  t.equal(p.twilio.messages.filter((m) => m.to === PHONES.carol).length, 1, 'no text after STOP');
  t.match(
    (await p.store.getIncident(b))!.timeline.find((e) => e.kind === 'page_failed' && e.channel === 'sms'),
    { outcome: 'skipped', reason: /sms \+33600000003 failed: replied STOP/ },
    'the timeline says why the text was skipped',
  );

  await p.twilio.reply(PHONES.carol, 'START');
  t.same((await p.store.contactSettings('carol'))?.methods ?? [], [], 'START clears it');
  const c = (await postWebhook(p.app, high('C'))).json().incident.id as number;
  await p.fastForward(60_000); // one text every 30 s at most to one person
  t.ok(
    p.twilio.messages.some((m) => m.to === PHONES.carol && m.body.includes(`#${c} `)),
    'texts resume',
  );
});

t.test('a text refused by Twilio as unsubscribed (21610) marks the number failed; its status callbacks are counted', async (t) => {
  const p = await phoneApp(t);
  p.twilio.stopped.add(PHONES.carol); // STOP sent straight to Twilio, never seen by the service
  const id = (await postWebhook(p.app, high())).json().incident.id as number;
  await p.drain();
  t.match(
    (await p.store.getIncident(id))!.timeline.find((e) => e.kind === 'page_failed' && e.channel === 'sms'),
    {
      outcome: 'failed',
      reason: /unsubscribed recipient/,
    },
  );
  t.match((await p.store.contactSettings('carol'))!.methods, [{ method: 'sms', failed: { reason: /replied STOP \(Twilio 21610\)/ } }]);

  p.twilio.stopped.delete(PHONES.carol);
  await p.twilio.reply(PHONES.carol, 'START');
  const next = (await postWebhook(p.app, high('Other'))).json().incident.id as number;
  await p.fastForward(60_000);
  const m = p.twilio.messages.find((x) => x.body.includes(`#${next} `))!;
  await p.twilio.deliver(m);
  t.match(
    (await p.store.getIncident(next))!.timeline.find((e) => e.kind === 'phone'),
    { outcome: 'delivered', channel: 'sms' },
  );
  t.equal(await metric(p.app, 'triage_phone_outcomes_total{channel="sms",outcome="delivered"}'), 1);
});
