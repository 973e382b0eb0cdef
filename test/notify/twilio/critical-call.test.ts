// A Critical wakes the on-call: Slack and a text at once, a call a minute later, a call again at
// five; a key pressed on the call acknowledges it, updates Slack, and stops every later call. An
// unanswered last call moves the escalation on at once.
import t from 'tap';
import { alert, payload, postWebhook, uniqueGroup } from '../../helpers.js';
import { FROM, PHONES, phoneApp } from './phone-helpers.js';

const critical = () => payload(uniqueGroup(), [alert('PaymentsApiDown', { labels: { severity: 'critical' } })]);

t.test('a Critical texts at once and calls a minute later; 4 on the call acknowledges it and no further call is placed', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, critical())).json().incident.id as number;
  await p.drain();
  p.expect.slack('#security-incident', /PaymentsApiDown/);
  t.equal(p.twilio.messages.length, 1, 'one text at once');
  const text = p.twilio.messages[0]!;
  t.equal(text.to, PHONES.carol, 'to the on-call');
  t.equal(text.from, FROM);
  t.match(
    text.body,
    new RegExp(
      `^CRITICAL #${id} PaymentsApiDown.* Reply 4 ${id} to ack, 6 ${id} to resolve\\. https://triage\\.example\\.com/incidents/${id}$`,
    ),
  );
  t.ok(text.body.length <= 160, `one segment (${text.body.length} characters)`);
  t.equal(p.twilio.calls.length, 0, 'no call yet');

  await p.fastForward(59_000);
  t.equal(p.twilio.calls.length, 0, 'no call before the minute');
  await p.fastForward(1_000);
  t.equal(p.twilio.calls.length, 1, 'a call at one minute');
  const call = p.twilio.calls[0]!;
  t.equal(call.to, PHONES.carol);

  const menu = await p.twilio.answer(call);
  t.match(
    menu.says.join(' '),
    new RegExp(`Critical incident ${id}\\. PaymentsApiDown.*Press 4 to acknowledge, 6 to resolve, 5 to escalate`),
  );
  t.ok(menu.gather, 'the menu waits for a key');
  const after = await p.twilio.press(call, '4');
  t.match(after.says.join(' '), new RegExp(`Acknowledged incident ${id}`));
  t.ok(after.hangup);

  const incident = (await p.store.getIncident(id))!;
  t.equal(incident.status, 'acknowledged');
  t.match(
    incident.timeline.find((e) => e.kind === 'acknowledged'),
    { by: 'Carol Diaz', via: 'phone', actor: 'carol' },
    'acknowledged by the person behind the number, by phone',
  );
  t.match(
    incident.timeline.filter((e) => e.kind === 'phone').map((e) => e.kind === 'phone' && e.outcome),
    ['ringing', 'answered', 'key_pressed'],
  );

  await p.drain();
  const announced = p.slack.messages.find((m) => m.channel !== undefined && /PaymentsApiDown/.test(m.text) && !m.thread_ts)!;
  t.ok(announced.updates > 0, 'the Slack message is updated');
  p.expect.slack('#security-incident', /[Aa]cknowledged/);

  await p.fastForward(10 * 60_000, 60_000);
  t.equal(p.twilio.calls.length, 1, 'the call due at five minutes is never placed');
  t.equal(p.twilio.messages.length, 1, 'nor any other text');
  const stopped = (await p.store.getIncident(id))!.timeline.filter((e) => e.kind === 'page_failed' && e.outcome === 'stopped');
  t.equal(stopped.length, 1, 'the timeline says the later call was stopped');
  t.match(stopped[0], { channel: 'voice', target: PHONES.carol, reason: 'acknowledged by Carol Diaz' });
  t.equal(await p.store.queueDepth().then((d) => d['voice'] ?? 0), 0);
  p.expect.nothingElse();
});

t.test('an unanswered last call moves the escalation on to the next step at once', async (t) => {
  const p = await phoneApp(t);
  const id = (await postWebhook(p.app, critical())).json().incident.id as number;
  await p.fastForward(60_000);
  t.equal(p.twilio.calls.length, 1);
  await p.twilio.ringOut(p.twilio.calls[0]!);
  let incident = (await p.store.getIncident(id))!;
  t.equal(incident.escalationStep, 0, 'the first call unanswered: the second comes at its time, no escalation yet');

  await p.fastForward(4 * 60_000);
  t.equal(p.twilio.calls.length, 2, 'the second call at five minutes');
  await p.twilio.ringOut(p.twilio.calls[1]!, 'busy');
  incident = (await p.store.getIncident(id))!;
  t.equal(incident.escalationStep, 1, 'the last call unanswered: step 1 (due at 10 minutes) is taken now');
  t.match(
    incident.timeline.find((e) => e.kind === 'phone' && e.outcome === 'busy'),
    { escalating: true, contact: 'carol', name: 'Carol Diaz' },
  );
  t.match(
    incident.timeline.find((e) => e.kind === 'escalated'),
    { step: 1, paged: [{ id: 'bob' }] },
  );
  await p.drain();
  t.ok(
    p.twilio.messages.some((m) => m.to === PHONES.bob && m.body.includes(`#${id} `)),
    'the next step pages Bob by text at once',
  );
});
