// Twilio's lists are eventually consistent: a call it took after a lost answer may be missing from
// GET Calls.json for a while. The lookup before a resend must not conclude "not placed" from one
// empty list: it looks again for a while, and counts the status callback Twilio posts for the call
// (its URL names the page) as proof that it was placed. One call, not two.
import t from 'tap';
import { alert, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { PHONES, phoneApp } from './phone-helpers.js';

const critical = () => payload(uniqueGroup(), [alert('PaymentsApiDown', { labels: { severity: 'critical' } })]);
const only = (method: 'voice' | 'sms') => (text: string) => `${text}\nnotificationRules:\n  critical: [{ method: ${method}, after: 0s }]\n`;

type Entry = { kind: string; channel?: string; outcome?: string };
const phoneEntries = async (p: Awaited<ReturnType<typeof phoneApp>>, id: number, channel: string) =>
  ((await p.store.getIncident(id))!.timeline as Entry[]).filter((e) => e.channel === channel && /^page/.test(e.kind));

t.test('a call Twilio took but lists only later is found by the lookup, not placed again', async (t) => {
  const p = await phoneApp(t, { edit: only('voice'), timeoutMs: 300, channels: { twilioListWaitMs: 6000, phoneIntervalMs: 0 } });
  p.twilio.listLagMs = 2500;
  p.twilio.failNext('Calls', { hang: true });
  const id = (await postWebhook(p.app, critical())).json().incident.id as number;
  await p.drain();
  t.equal(p.twilio.calls.length, 1, 'Twilio took the call; its answer was lost');
  // The retry comes after a second of backoff, well within the list's lag.
  await p.fastForward(5_000);
  t.equal(p.twilio.calls.length, 1, 'the lookup waited for the list and found the call: one call, not two');
  t.equal(p.twilio.calls[0]!.to, PHONES.carol);
  t.match(
    (await phoneEntries(p, id, 'voice')).map((e) => e.kind === 'paged' && e.outcome),
    [false, 'found'],
    'the timeline: the answer was lost, then the call was found',
  );
});

t.test('a call never listed in time is still found by the status callback that names its page', async (t) => {
  const p = await phoneApp(t, { edit: only('voice'), timeoutMs: 300, channels: { twilioListWaitMs: 1500, phoneIntervalMs: 0 } });
  p.twilio.listLagMs = 600_000;
  p.twilio.initiatedCallback = true;
  p.twilio.failNext('Calls', { hang: true });
  await postWebhook(p.app, critical());
  await p.drain();
  await p.fastForward(5_000);
  t.equal(p.twilio.calls.length, 1, 'one call: its initiated callback said Twilio had placed it');
  t.equal((await p.store.phoneMessagesTo('voice', PHONES.carol, 0)).length, 1, 'recorded once, by its sid');
});

t.test('a text Twilio took but lists only later is found by the lookup, not sent again', async (t) => {
  const p = await phoneApp(t, { edit: only('sms'), timeoutMs: 300, channels: { twilioListWaitMs: 6000, phoneIntervalMs: 0 } });
  p.twilio.listLagMs = 2500;
  p.twilio.failNext('Messages', { hang: true });
  await postWebhook(p.app, critical());
  await p.drain();
  t.equal(p.twilio.messages.length, 1);
  await p.fastForward(5_000);
  t.equal(p.twilio.messages.length, 1, 'one text, not two');
});

t.test('a call Twilio never took is placed after the wait, once', async (t) => {
  const p = await phoneApp(t, { edit: only('voice'), timeoutMs: 300, channels: { twilioListWaitMs: 800, phoneIntervalMs: 0 } });
  p.twilio.failNext('Calls', { status: 503 });
  await postWebhook(p.app, critical());
  await p.drain();
  t.equal(p.twilio.calls.length, 0, 'a 503: Twilio took nothing, but the service cannot know');
  const started = Date.now();
  await p.fastForward(5_000);
  t.equal(p.twilio.calls.length, 1, 'placed once after the lookup found nothing');
  t.ok(Date.now() - started >= 800, 'not before the list could have shown it');
});
