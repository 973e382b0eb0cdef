import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { allowedResponseUrl } from '../../src/api/slack-actions-route.js';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { api, postWebhook, shippedConfigText } from '../helpers.js';
import { pagingApp, SIGNING_SECRET } from '../notify/paging-helpers.js';
import { amSilences, amtoolQuery, pushAlerts, skipWithoutAlertmanager, startAlertmanagerPair, until } from './alertmanager-process.js';

const CAROL = 'U0000000C03';
const DAN = 'U0000000D04';

/** Presses a button as Slack posts it: signed with the signing secret at the app's time. */
async function press(app: FastifyInstance, now: number, payload: object) {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor(now / 1000));
  const sig = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  return app.inject({
    method: 'POST',
    url: '/slack/actions',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    payload: body,
  });
}

t.test('a response_url is called only on Slack hooks or the configured Slack API origin', async (t) => {
  t.ok(allowedResponseUrl('https://hooks.slack.com/actions/T1/1/abc'));
  t.ok(allowedResponseUrl('http://127.0.0.1:9000/actions/1', ['http://127.0.0.1:9000/api/']));
  for (const bad of [
    undefined,
    '',
    'http://hooks.slack.com/actions/x',
    'https://hooks.slack.com.evil.example/actions/x',
    'https://user:pw@hooks.slack.com/actions/x',
    'https://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:9001/actions/1',
    'not a url',
  ])
    t.equal(allowedResponseUrl(bad, ['http://127.0.0.1:9000/api/']), undefined, String(bad));
});

t.test(
  "Slack's Silence buttons: a signed press makes the silence in a real Alertmanager as the Slack user's contact, mutes the alert, is on the timeline, told in the thread and to the person; viewers, strangers and a down Alertmanager are answered in words",
  { skip: skipWithoutAlertmanager() },
  async (t) => {
    // A real HA pair: the silence is made on the first peer that answers and gossiped to the other.
    const [am, am2] = await startAlertmanagerPair(t);
    const clock = new ManualClock(Date.now());
    const base = parseConfig(shippedConfigText(`\nalertmanager:\n  urls: ["${am.url}", "${am2.url}"]\n`), 'triage.yml');
    const triage = {
      ...base,
      paging: { ...base.paging, contacts: base.paging.contacts.map((c) => (c.id === 'dan' ? { ...c, access: 'viewer' as const } : c)) },
    };
    const p = await pagingApp(t, { triage }, { clock });
    const { app, slack } = p;

    // A hostile group label: Slack markup, a mention, a link, quotes and a bidi control.
    const hostile = '<!channel> *db* `x` <https://evil.example|click> "q"\u202e';
    const labels = { alertname: 'DiskFull', service: hostile, severity: 'high' };
    await postWebhook(app, {
      version: '4',
      receiver: 'triage',
      status: 'firing',
      groupKey: '{}:{service="db"}',
      groupLabels: { service: hostile },
      externalURL: am.url,
      alerts: [{ status: 'firing', labels, annotations: {}, startsAt: new Date(clock.now()).toISOString(), fingerprint: 'f1' }],
    });
    await p.settle();
    const [root] = slack.postedTo('#incidents');
    const buttons = (
      root!.attachments as { blocks: { type: string; elements?: { action_id: string; value: string; confirm?: object }[] }[] }[]
    )[0]!.blocks.find((b) => b.type === 'actions')!.elements!;
    t.same(
      buttons.map((b) => b.action_id),
      ['ack', 'resolve', 'silence_1h', 'silence_4h'],
      'Silence 1 h and 4 h beside Acknowledge and Resolve',
    );
    t.match(buttons[2], { value: '1', confirm: { title: { text: 'Silence in Alertmanager?' } } }, 'asked once more');

    // 1. Carol presses "Silence 1 h".
    const responseUrl = slack.responseUrl();
    let res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: CAROL, username: 'carol' },
      response_url: responseUrl,
      actions: [{ action_id: 'silence_1h', value: '1' }],
    });
    t.equal(res.statusCode, 200);
    const { silenceId } = res.json<{ ok: boolean; silenceId: string }>();
    t.match(res.json(), { ok: true, incident: 1 });
    const [made] = await amSilences(am.url);
    t.match(made, { id: silenceId, createdBy: 'Carol Diaz', status: { state: 'active' }, comment: /^alert-triage incident #1: / });
    t.same(made!.matchers, [{ name: 'service', value: hostile, isRegex: false, isEqual: true }], 'the hostile value, exactly');
    t.equal(Date.parse(made!.endsAt) - clock.now(), 3_600_000);
    await until(async () => amtoolQuery(am2.url).some((s) => s.id === silenceId), 'amtool to list it on the other peer', am2.logs);

    // It mutes: the same alert sent to Alertmanager is suppressed by that silence.
    await pushAlerts(am.url, [{ labels }]);
    await until(
      async () => {
        const [a] = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as { status: { state: string; silencedBy: string[] } }[];
        return a?.status.state === 'suppressed' && a.status.silencedBy.includes(silenceId);
      },
      'the alert silenced in Alertmanager',
      am.logs,
    );

    // On the timeline as Carol via Slack, and told in the thread.
    const incident = (await api(app, 'GET', '/api/incidents/1')).body as { timeline: { kind: string; actor: string; detail: string }[] };
    t.match(
      incident.timeline.find((e) => e.kind === 'silenced'),
      { actor: 'carol', detail: /^Silenced the whole group in Alertmanager .* until .*; silence / },
    );
    await p.settle();
    const reply = slack.postedTo('#incidents').find((m) => m.thread_ts === root!.ts && /Silenced/.test(m.text));
    t.ok(reply, 'a thread reply says it was silenced');
    // The person who pressed is answered, to them alone, with the matchers escaped.
    await until(
      async () => slack.responses.length === 1,
      'the answer to Carol',
      () => '',
    );
    const answer = slack.responses[0]!.body as { response_type: string; replace_original: boolean; text: string };
    t.match(answer, {
      response_type: 'ephemeral',
      replace_original: false,
      text: /^:mute: Silenced the whole group of incident #1 in Alertmanager for 1 h/,
    });
    for (const text of [answer.text, reply!.text, JSON.stringify(reply!.attachments ?? [])]) {
      t.notOk(text.includes('<!channel>'), 'no mention');
      t.notOk(text.includes('<https://evil.example'), 'no link');
    }

    // 2. Dan is a viewer: refused, told, nothing made.
    res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: DAN },
      response_url: slack.responseUrl(),
      actions: [{ action_id: 'silence_4h', value: '1' }],
    });
    t.match(res.json(), { ok: false, message: /responder/ });
    // 3. Someone who is no contact: refused too.
    res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: 'U0STRANGER' },
      actions: [{ action_id: 'silence_4h', value: '1' }],
    });
    t.match(res.json(), { ok: false });
    // 4. An incident that does not exist.
    res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: CAROL },
      actions: [{ action_id: 'silence_4h', value: '99' }],
    });
    t.match(res.json(), { ok: false, message: 'no incident 99' });
    t.equal((await amSilences(am.url)).length, 1, 'still one silence');
    await until(
      async () => slack.responses.length === 2,
      'the answer to Dan',
      () => '',
    );
    t.match(slack.responses[1]!.body, { response_type: 'ephemeral', text: /^:no_entry: .*responder/ });

    // 5. The first peer down: the next press goes to the other.
    await am.stop();
    res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: CAROL },
      response_url: slack.responseUrl(),
      actions: [{ action_id: 'silence_4h', value: '1' }],
    });
    t.match(res.json(), { ok: true });
    const second = res.json<{ silenceId: string }>().silenceId;
    t.ok(
      amtoolQuery(am2.url).some((s) => s.id === second && s.createdBy === 'Carol Diaz'),
      'made on peer 2, as amtool lists it',
    );
    await until(
      async () => slack.responses.length === 3,
      'the answer to the second press',
      () => '',
    );

    // 6. Both down: answered in words, nothing recorded.
    await am2.stop();
    res = await press(app, clock.now(), {
      type: 'block_actions',
      user: { id: CAROL },
      response_url: slack.responseUrl(),
      actions: [{ action_id: 'silence_4h', value: '1' }],
    });
    t.equal(res.statusCode, 200);
    t.match(res.json(), { ok: false, message: /^Alertmanager did not answer, nothing was silenced/ });
    t.equal(
      ((await api(app, 'GET', '/api/incidents/1')).body as { timeline: { kind: string }[] }).timeline.filter((e) => e.kind === 'silenced')
        .length,
      2,
      'nothing recorded for the press that failed',
    );
    await until(
      async () => slack.responses.length === 4,
      'the answer about Alertmanager',
      () => '',
    );
    t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still up');
  },
);
