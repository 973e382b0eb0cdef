import { createHmac } from 'node:crypto';
import t from 'tap';
import { alert, api, metric, payload, postWebhook, uniqueGroup, T0 } from '../helpers.js';
import { pagingApp, SIGNING_SECRET, slackText } from './paging-helpers.js';

const MIN = 60_000;
// At T0 (Monday 2026-11-23 22:08Z) the weekly rotation has dan on call.
const DAN = 'U0000000D04';
const ALICE = 'U0000000A01';
const BOB = 'U0000000B02';

t.test('a new critical incident: one Slack message with everything a responder needs, one e-mail', async (t) => {
  const { app, slack, mail, drain } = await pagingApp(t);
  const res = await postWebhook(
    app,
    payload(uniqueGroup(), [
      alert('DDoSAttack', {
        labels: { instance: 'lb-1', service: 'edge' },
        annotations: { summary: 'flood on lb-1', description: '450 req/s rate-limited', runbook_url: 'https://runbooks.example.com/ddos' },
      }),
    ]),
  );
  t.equal(res.statusCode, 200);
  await drain();

  const posted = slack.postedTo('#security-incident');
  t.equal(posted.length, 1, 'one message');
  const m = posted[0]!;
  const text = slackText(m);
  t.match(m.text, `<@${DAN}> <@${ALICE}> <@${BOB}>`, 'mentions the on-call, the Security Lead and the CTO');
  t.match(text, '[CRITICAL] DDoSAttack: flood on lb-1 (incident 1)');
  t.match(text, '"color":"#D0021B"');
  t.match(text, 'instance=lb-1');
  t.match(text, '450 req/s rate-limited');
  t.match(text, '<https://runbooks.example.com/ddos|Runbook>');
  t.match(
    text,
    `Respond by*\\n<!date^${(T0 + 5 * 60_000) / 1000}^{date_short_pretty} {time}|2026-11-23 22:13 UTC>`,
    "in each reader's zone, readable UTC as the fallback",
  );
  t.match(text, 'STOP: take the affected systems offline');
  t.match(text, '"action_id":"ack"');
  t.match(text, '"action_id":"resolve"');
  t.match(text, '<https://triage.example.com/incidents/1|#1>', 'the incident page, which opens in a browser');
  t.match(m.metadata, { event_type: 'alert_triage_page', event_payload: { incident_id: 1 } });

  t.equal(mail.received.length, 1, 'one e-mail');
  const e = mail.received[0]!;
  t.same(e.rcptTo.sort(), ['alice@example.com', 'bob@example.com', 'dan@example.com']);
  t.equal(e.mail.subject, '[CRITICAL] DDoSAttack: flood on lb-1 (incident 1)');
  t.equal(e.mail.messageId, '<incident-1@example.com>');
  t.match(e.mail.text, /STOP: take the affected systems offline/);
  t.match(e.mail.text, /Respond by: Mon, 23 Nov 2026, 23:13 CET$/m, "in the team's zone (the rotation's, Europe/Paris)");
  t.match(e.mail.text, /Incident page: https:\/\/triage.example.com\/incidents\/1$/m);
  t.match(e.mail.html, /<a href="https:\/\/triage.example.com\/incidents\/1">Open the incident<\/a>/);
  t.match(e.mail.html, /<h2>CRITICAL: DDoSAttack: flood on lb-1<\/h2>/);

  const timeline = (await api(app, 'GET', '/api/incidents/1')).body.timeline;
  t.match(
    timeline
      .filter((e: { kind: string }) => e.kind === 'paged')
      .map((e: { detail: string }) => e.detail)
      .sort(),
    [/^E-mail to .*: opened$/, /^Slack #security-incident: opened, mentioning 3$/],
  );
  t.equal(await metric(app, 'triage_notifications_total{channel="slack",outcome="sent"}'), 1);
  t.equal(await metric(app, 'triage_notifications_total{channel="email",outcome="sent"}'), 1);
  t.equal(await metric(app, 'triage_notification_queue_depth{channel="slack"}'), 0);
  t.equal(await metric(app, 'triage_notification_latency_seconds_count{channel="slack"}'), 1);
});

t.test('repeated webhooks page exactly once; medium goes to Slack only, low to the channel only', async (t) => {
  const { app, slack, mail, drain, clock } = await pagingApp(t);
  const medium = payload(uniqueGroup(), [alert('RateLimitSpike')]);
  const low = payload(uniqueGroup(), [alert('LowDiskSpace')]);
  for (let i = 0; i < 5; i++) {
    await postWebhook(app, medium);
    await postWebhook(app, low);
    clock.advance(2000);
    await drain();
  }
  t.equal(slack.postedTo('#incidents').length, 1);
  t.match(slack.postedTo('#incidents')[0]!.text, `<@${DAN}>`);
  t.equal(slack.postedTo('#alerts').length, 1);
  t.notMatch(slack.postedTo('#alerts')[0]!.text, '<@', 'low mentions nobody');
  t.equal(mail.received.length, 0, 'no e-mail below high');
});

t.test('acknowledge from the API updates the message, replies in its thread and stops escalation', async (t) => {
  const { app, slack, drain, clock } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await drain();
  t.same((await api(app, 'GET', '/api/incidents/1')).body.escalation, { step: 0, reminders: 0, nextAt: '2026-11-23T22:13:00.000Z' });
  clock.advance(2 * MIN);
  await api(app, 'POST', '/api/incidents/1/ack', { by: 'alice', note: 'on it' });
  await drain();
  t.same(
    (await api(app, 'GET', '/api/incidents/1')).body.escalation,
    { step: 0, reminders: 0, nextAt: null },
    'nothing pending after the ack',
  );
  const [root, reply] = slack.postedTo('#security-incident');
  t.equal(root!.updates, 1, 'the announcement was updated');
  t.match(slackText(root!), 'acknowledged by alice');
  t.notMatch(slackText(root!), '"action_id":"ack"', 'no Acknowledge button once acknowledged');
  t.equal(reply!.thread_ts, root!.ts);
  t.equal(
    reply!.text,
    'Acknowledged by alice: on it (recorded with API\u02cdTOKEN for this name, not by that person signed in)',
    'the event is said once, and that API_TOKEN recorded it for that name',
  );

  clock.advance(60 * MIN);
  await app.triage.scheduler.tick();
  await drain();
  const kinds = (await api(app, 'GET', '/api/incidents/1')).body.timeline.map((e: { kind: string }) => e.kind);
  t.notOk(kinds.includes('escalated') || kinds.includes('reminder'), 'nothing escalates after an acknowledgement');
  t.equal(slack.postedTo('#security-incident').length, 2);
});

t.test('escalation under a fake clock: breach, steps, reminders, all delivered; an ack stops them', async (t) => {
  const { app, slack, mail, settle, clock } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await settle();
  clock.advance(5 * MIN);
  await app.triage.scheduler.tick(); // breach, and the breach takes step 1 at once
  await settle();
  let thread = slack
    .postedTo('#security-incident')
    .slice(1)
    .map((m) => m.text);
  // The step's people, and the on-call (dan), whom the critical route pages: the step's e-mail reaches him too.
  t.match(thread, [/Response deadline missed/, new RegExp(`^<@${ALICE}> <@${BOB}> <@${DAN}> Escalated \\(step 1 of 2`)]);
  t.match(mail.received.at(-1)!.mail.inReplyTo, '<incident-1@example.com>', 'the escalation e-mail threads under the first one');
  t.same(mail.received.at(-1)!.rcptTo.sort(), ['alice@example.com', 'bob@example.com', 'dan@example.com']);

  clock.advance(10 * MIN);
  await app.triage.scheduler.tick();
  await settle();
  thread = slack
    .postedTo('#security-incident')
    .slice(1)
    .map((m) => m.text);
  t.match(thread.at(-1), /Escalated \(step 2 of 2, 15m(1s)? without acknowledgement\): paging Bob Chen, Carol Diaz, Dan Okafor/);

  clock.advance(5 * MIN);
  await app.triage.scheduler.tick();
  await settle();
  t.match(slack.postedTo('#security-incident').at(-1)!.text, /Still unacknowledged: Reminder 1 of 12/);
  t.equal(await metric(app, 'triage_escalations_total{severity="critical"}'), 2);

  // Acknowledge from Slack's button this time.
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: ALICE, username: 'alice' }, actions: [{ action_id: 'ack', value: '1' }] }))}`;
  const ts = String(Math.floor(clock.now() / 1000));
  const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  const res = await app.inject({
    method: 'POST',
    url: '/slack/actions',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    payload: body,
  });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { ok: true, incident: 1, status: 'acknowledged' });
  const before = slack.postedTo('#security-incident').length;
  clock.advance(60 * MIN);
  await app.triage.scheduler.tick();
  await settle();
  t.equal(slack.postedTo('#security-incident').length, before + 1, 'only the acknowledgement reply; no more reminders');
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.acknowledgedBy, 'Alice Martin', 'acknowledged as that Slack user');
});

t.test('Slack actions: bad, missing and stale signatures are refused before anything happens', async (t) => {
  const { app, clock } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0000000B02' }, actions: [{ action_id: 'resolve', value: '1' }] }))}`;
  const sign = (ts: string, secret = SIGNING_SECRET, b = body) =>
    `v0=${createHmac('sha256', secret).update(`v0:${ts}:${b}`).digest('hex')}`;
  // The route reads the app's clock, so signed times are the manual clock's, not the wall clock's.
  const now = String(Math.floor(clock.now() / 1000));
  const stale = String(Math.floor(clock.now() / 1000) - 6 * 60);
  const cases: [Record<string, string>, string][] = [
    [{}, 'no signature'],
    [{ 'x-slack-request-timestamp': now, 'x-slack-signature': sign(now, 'wrong-secret') }, 'wrong secret'],
    [{ 'x-slack-request-timestamp': now, 'x-slack-signature': sign(now, SIGNING_SECRET, 'payload=other') }, 'signature of another body'],
    [{ 'x-slack-request-timestamp': stale, 'x-slack-signature': sign(stale) }, 'older than five minutes'],
    [{ 'x-slack-request-timestamp': now, 'x-slack-signature': 'v0=abc' }, 'malformed'],
  ];
  for (const [headers, why] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/slack/actions',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: body,
    });
    t.equal(res.statusCode, 401, why);
  }
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.status, 'open', 'nothing was resolved');
  const ok = await app.inject({
    method: 'POST',
    url: '/slack/actions',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': now, 'x-slack-signature': sign(now) },
    payload: body,
  });
  t.equal(ok.statusCode, 200);
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.resolvedBy, 'Bob Chen');
});

t.test('429 with Retry-After, then success: delivered once, after the wait', async (t) => {
  const { app, slack, drain, clock } = await pagingApp(t);
  slack.failNext('chat.postMessage', { status: 429, retryAfter: 3 });
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  t.equal(slack.postedTo('#incidents').length, 0, 'not yet');
  t.equal(await metric(app, 'triage_notifications_total{channel="slack",outcome="retried"}'), 1);
  clock.advance(2000);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 0, 'Retry-After is honoured');
  clock.advance(1500);
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1, 'delivered once');
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 2, 'one 429, one success: the client itself did not retry');
});

t.test('a 500 is retried with backoff; a permanent error is recorded and not retried', async (t) => {
  const { app, slack, drain, clock } = await pagingApp(t);
  slack.failNext('chat.postMessage', { status: 500 }, 2);
  await postWebhook(app, payload(uniqueGroup(), [alert('RateLimitSpike')]));
  await drain();
  clock.advance(1100); // first backoff 1s (jitter fixed at the middle), and the channel's 1.1s pacing
  await drain();
  t.equal(slack.postedTo('#incidents').length, 0);
  clock.advance(2000); // second backoff: 2s
  await drain();
  t.equal(slack.postedTo('#incidents').length, 1);
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 3, 'two 500s, one success');

  slack.failNext('chat.postMessage', { error: 'channel_not_found' });
  await postWebhook(app, payload(uniqueGroup(), [alert('LowDiskSpace')]));
  await drain();
  clock.advance(10 * MIN);
  await drain();
  t.equal(slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args['channel'] === '#alerts').length, 1, 'tried once');
  const timeline = (await api(app, 'GET', '/api/incidents/2')).body.timeline;
  t.match(
    timeline.find((e: { kind: string }) => e.kind === 'page_failed'),
    { detail: 'Slack #alerts: Slack: channel_not_found (not retried)' },
  );
  t.equal(await metric(app, 'triage_notifications_total{channel="slack",outcome="failed"}'), 1);
});

t.test('SMTP: a 4xx is retried, a 5xx is final, a refused recipient is recorded', async (t) => {
  const { app, mail, drain, clock } = await pagingApp(t);
  mail.failData.push(451);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')])); // high: e-mail to dan and the devops role
  await drain();
  t.equal(mail.received.length, 0);
  clock.advance(1000);
  await drain();
  t.equal(mail.received.length, 1, 'delivered on the retry');

  mail.failData.push(554);
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: 'other' } })]));
  await drain();
  clock.advance(10 * MIN);
  await drain();
  t.equal(mail.received.length, 1, '5xx is not retried');
  t.match(
    (await api(app, 'GET', '/api/incidents/2')).body.timeline.find((e: { kind: string }) => e.kind === 'page_failed').detail,
    /SMTP 554.*not retried/,
  );

  mail.refuse.add('carol@example.com');
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { instance: 'third' } })]));
  await drain();
  t.equal(mail.received.length, 2);
  t.notOk(mail.received[1]!.rcptTo.includes('carol@example.com'));
  t.ok(
    (await api(app, 'GET', '/api/incidents/3')).body.timeline.some(
      (e: { kind: string; detail: string }) =>
        e.kind === 'page_failed' && e.detail === 'E-mail to carol@example.com: rejected by the mail server',
    ),
  );
});

t.test('hostile label values arrive escaped', async (t) => {
  const { app, slack, mail, drain } = await pagingApp(t);
  await postWebhook(
    app,
    payload(uniqueGroup(), [
      alert('ServiceDown', { labels: { instance: '<!channel>' }, annotations: { summary: 'ping <!here> & <@U999> <script>x</script>' } }),
    ]),
  );
  await drain();
  const text = slackText(slack.postedTo('#incidents')[0]!);
  t.notMatch(text, '<!channel>');
  t.notMatch(text, '<!here>');
  t.notMatch(text, '<@U999>');
  t.match(text, '&lt;!here&gt; &amp; &lt;@U999&gt;');
  t.match(mail.received[0]!.mail.html, '&lt;script&gt;x&lt;/script&gt;');
  t.notMatch(mail.received[0]!.mail.html, '<script>');
});

t.test('bidirectional controls in labels are shown, not obeyed, in Slack and e-mail', async (t) => {
  const { app, slack, mail, drain, settle } = await pagingApp(t);
  // "\u202Egnp.exe" displays as "exe.png": an override that would also reverse what follows it.
  const id = (
    await postWebhook(
      app,
      payload(uniqueGroup(), [
        alert('ServiceDown', { labels: { instance: 'host\u202Egnp.exe' }, annotations: { summary: 'file \u2067x\u2069 \u200F' } }),
      ]),
    )
  ).json().incident.id as number;
  await drain();
  await api(app, 'POST', `/api/incidents/${id}/ack`, { by: 'Eve \u202Eesrever', note: 'on it' });
  await settle();
  const messages = slack.postedTo('#incidents');
  t.ok(messages.length >= 2, 'the announcement and the acknowledgement reply');
  const all = messages.map((m) => JSON.stringify(m)).join('\n');
  t.notOk(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/.test(JSON.parse(JSON.stringify(all))), 'no bidirectional control reaches Slack');
  t.match(slackText(messages[0]!), 'host[U+202E]gnp.exe');
  t.match(messages.at(-1)!.text, 'Eve [U+202E]esrever');
  const m = mail.received[0]!.mail;
  for (const part of [m.subject ?? '', m.text ?? '', String(m.html)])
    t.notOk(/[\u202A-\u202E\u2066-\u2069\u200F]/.test(part), 'none in the e-mail');
  t.match(m.text, 'file [U+2067]x[U+2069] [U+200F]');
});

t.test('without Slack or SMTP configured the service runs and records pages as skipped, in the words of the metric', async (t) => {
  const { app, drain } = await pagingApp(t, { channels: {} });
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await drain();
  const failed = (await api(app, 'GET', '/api/incidents/1')).body.timeline
    .filter((e: { kind: string }) => e.kind === 'page_failed')
    .map((e: { detail: string }) => e.detail);
  t.match(failed.sort(), [
    /^E-mail to .*: skipped \(not sent\): e-mail is not configured \(SMTP_URL unset\)$/,
    'Slack #security-incident: skipped (not sent): Slack is not configured (SLACK_BOT_TOKEN unset)',
  ]);
  t.equal(await metric(app, 'triage_notifications_total{channel="slack",outcome="skipped"}'), 1);
  t.equal(await metric(app, 'triage_notifications_total{channel="email",outcome="skipped"}'), 1);
});

t.test('an alert declaring severity="critical" is paged as critical, and the page says the label decided', async (t) => {
  const { app, slack, mail, drain } = await pagingApp(t);
  // DatabaseDown is high by name; its own label says critical (the README's example).
  await postWebhook(app, payload(uniqueGroup(), [alert('DatabaseDown', { labels: { instance: 'db:5432', severity: 'critical' } })]));
  await drain();
  const posted = slack.postedTo('#security-incident');
  t.equal(posted.length, 1, 'announced where criticals go');
  t.match(slackText(posted[0]!), '*Severity*\\nCRITICAL, by label:severity=critical');
  t.equal(mail.received.length, 1);
  t.match(mail.received[0]!.mail.text, /^Severity: CRITICAL, by label:severity=critical$/m);
  t.match(mail.received[0]!.mail.html, '<th align="left">Severity</th><td>CRITICAL, by label:severity=critical</td>');
});

t.test('Slack formatting in annotations stays as typed, and a runbook_url cannot choose its link text', async (t) => {
  const { app, slack, mail, drain } = await pagingApp(t);
  await postWebhook(
    app,
    payload(uniqueGroup(), [
      alert('ServiceDown', {
        labels: { instance: 'db_1' },
        annotations: {
          summary: '*bold* _it_ ~s~ `code`',
          description: '> not a quote\n*also* plain',
          runbook_url: 'https://runbooks.example/x|Click here <now>',
        },
      }),
    ]),
  );
  await drain();
  const m = slack.postedTo('#incidents')[0]!;
  // What Slack reads as mrkdwn: the message text and the mrkdwn blocks (the header and the
  // notification fallback are plain text, shown as written).
  const mrkdwn: string[] = [m.text];
  JSON.stringify(m.attachments, (_k, v: { type?: string; text?: string }) => {
    if (v && v.type === 'mrkdwn' && typeof v.text === 'string') mrkdwn.push(v.text);
    return v;
  });
  const text = mrkdwn.join('\n');
  t.match(text, '∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ', 'the summary shows its characters, not formatting');
  t.notMatch(text, '*bold*');
  t.notMatch(text, '_it_');
  t.notMatch(text, '~s~');
  t.notMatch(text, '`code`');
  t.match(text, '\u00ad&gt; not a quote', 'a leading > does not quote');
  t.match(text, '<https://runbooks.example/x%7CClick%20here%20%3Cnow%3E|Runbook>', 'the link text is ours');
  t.notMatch(text, '|Click here');
  // E-mail is not mrkdwn: the same text arrives as written.
  t.match(mail.received[0]!.mail.text, 'Summary: *bold* _it_ ~s~ `code`');
});

t.test("first response comes from the incident's checklist: an error-budget alert does not get the breach playbook", async (t) => {
  const { app, slack, mail, drain } = await pagingApp(t);
  await postWebhook(
    app,
    payload(uniqueGroup(), [alert('CheckoutErrorBudgetBurn', { labels: { service: 'checkout', severity: 'critical' } })]),
  );
  await drain();
  const text = slackText(slack.postedTo('#security-incident')[0]!);
  t.match(text, 'IDENTIFY: which SLO burns, and since which deployment or change');
  t.notMatch(text, /offline/i, 'no "take systems offline"');
  const e = mail.received[0]!;
  t.match(e.mail.text, /1\. IDENTIFY: which SLO burns/);
  t.notMatch(e.mail.text, /offline/i);
});

t.test('closing the app closes its pooled SMTP connections', async (t) => {
  const { app, mail, drain } = await pagingApp(t);
  await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
  await drain();
  t.equal(mail.received.length, 1);
  t.ok(mail.open > 0, 'the pool keeps its connection open between pages');
  await app.close();
  for (let i = 0; i < 100 && mail.open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(mail.open, 0, 'closed with the app, not left to a socket timeout');
});
