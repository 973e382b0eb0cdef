// Acknowledging anywhere stops the calls and texts not yet sent; labels never become TwiML verbs.
import t from 'tap';
import { alert, api, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { PHONES, phoneApp } from './phone-helpers.js';

t.test('acknowledged through the API before the minute: the call is never placed, and the timeline says so', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, payload(uniqueGroup(), [alert('PaymentsApiDown', { labels: { severity: 'critical' } })]))).json()
    .incident.id as number;
  await p.drain();
  t.equal(p.twilio.messages.length, 1, 'the text went at once');
  p.clock.advance(30_000);
  t.equal((await api(p.app, 'POST', `/api/incidents/${id}/ack`, { by: 'alice' })).status, 200);
  await p.fastForward(10 * 60_000, 60_000);
  t.equal(p.twilio.calls.length, 0, 'neither the 1-minute nor the 5-minute call');
  const stopped = (await p.store.getIncident(id))!.timeline.filter((e) => e.kind === 'page_failed' && e.outcome === 'stopped');
  t.same(
    stopped.map((e) => e.kind === 'page_failed' && [e.channel, e.target, e.reason]),
    [
      ['voice', PHONES.carol, 'acknowledged by alice'],
      ['voice', PHONES.carol, 'acknowledged by alice'],
    ],
  );
});

t.test('a title made of TwiML is spoken as text, never obeyed', async (t) => {
  const p = await phoneApp(t);
  const evil = '</Say><Dial>+19005550100</Dial><Say>';
  await postWebhook(p.app, payload(uniqueGroup(), [alert('Evil', { labels: { severity: 'critical' }, annotations: { summary: evil } })]));
  await p.fastForward(60_000);
  const twiml = await p.twilio.answer(p.twilio.calls[0]!);
  t.match(twiml.says.join(' '), '</Say><Dial>+19005550100</Dial><Say>', 'said word for word');
  t.ok(twiml.gather, 'the menu is intact');
  t.ok(p.twilio.messages[0]!.body.length <= 160);
});
