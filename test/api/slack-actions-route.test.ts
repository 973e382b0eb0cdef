import { createHmac } from 'node:crypto';
import t from 'tap';
import { parseIncidentId } from '../../src/api/slack-actions-route.js';
import { alert, api, makeApp, payload, postWebhook, shippedConfig, uniqueGroup } from '../helpers.js';

const SECRET = 'slack-signing-secret';

t.test('signed payloads of odd shapes get a 400 or a 200 that says no, never a 500, and change nothing', async (t) => {
  const { app, clock } = await makeApp(t, { config: { slackSigningSecret: SECRET } });
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  await postWebhook(app, payload(uniqueGroup(), [alert('SlowAPI')]));
  const send = (body: string) => {
    const ts = String(Math.floor(clock.now() / 1000));
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    return app.inject({
      method: 'POST',
      url: '/slack/actions',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
      payload: body,
    });
  };
  const form = (p: unknown) => `payload=${encodeURIComponent(typeof p === 'string' ? p : JSON.stringify(p))}`;
  const button = (value: unknown, extra: object = {}) => ({
    type: 'block_actions',
    user: { id: 'U0000000C03' },
    actions: [{ action_id: 'resolve', value, ...extra }],
    ...extra,
  });
  const cases: [string, string, number, object][] = [
    ['payload=null', form('null'), 400, { message: /^payload must be object/ }],
    ['payload=1', form('1'), 400, { message: /^payload must be object/ }],
    ['payload=[]', form('[]'), 400, { message: /^payload must be object/ }],
    ['no payload', 'other=1', 400, { message: 'payload is not JSON' }],
    ['not JSON', form('{'), 400, { message: 'payload is not JSON' }],
    ['value {"toString":1}', form(button({ toString: 1 })), 400, { message: '/actions/0/value must be string' }],
    ['value 1 (a number)', form(button(1)), 400, { message: '/actions/0/value must be string' }],
    ['actions {}', form({ type: 'block_actions', actions: {} }), 400, { message: '/actions must be array' }],
    ['actions [null]', form({ type: 'block_actions', actions: [null] }), 400, { message: '/actions/0 must be object' }],
    ['user "x"', form({ type: 'block_actions', user: 'x', actions: [] }), 400, { message: '/user must be object' }],
    ['type 5', form({ type: 5 }), 400, { message: '/type must be string' }],
    ['no actions', form({ type: 'block_actions' }), 200, { ok: true, ignored: true }],
    ['another interaction', form({ type: 'view_submission', view: {} }), 200, { ok: true, ignored: true }],
    ['another action', form({ type: 'block_actions', actions: [{ action_id: 'toString', value: '1' }] }), 200, { ok: true, ignored: true }],
    ['value "1.0"', form(button('1.0')), 200, { ok: false, message: '"1.0" is not an incident id' }],
    ['value " 1 "', form(button(' 1 ')), 200, { ok: false, message: '" 1 " is not an incident id' }],
    ['value "0x10"', form(button('0x10')), 200, { ok: false, message: '"0x10" is not an incident id' }],
    ['value "1e0"', form(button('1e0')), 200, { ok: false }],
    ['value "01"', form(button('01')), 200, { ok: false }],
    ['value "-1"', form(button('-1')), 200, { ok: false }],
    ['value ""', form(button('')), 200, { ok: false }],
    ['no value', form({ type: 'block_actions', actions: [{ action_id: 'resolve' }] }), 200, { ok: false }],
    ['value "99999999999999999999"', form(button('99999999999999999999')), 200, { ok: false }],
    ['an incident that does not exist', form(button('1000')), 200, { ok: false, message: 'no incident 1000' }],
  ];
  for (const [why, body, code, want] of cases) {
    const res = await send(body);
    t.equal(res.statusCode, code, `${why}: ${res.body}`);
    t.match(res.json(), want, why);
  }
  t.same(
    (await api(app, 'GET', '/api/incidents')).body.incidents.map((i: { status: string }) => i.status),
    ['open', 'open'],
    'nothing was resolved',
  );
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still up');

  const ok = await send(form(button('2')));
  t.match(ok.json(), { ok: true, incident: 2, status: 'resolved', changed: true }, 'a well-formed press still works');
});

t.test('incident ids are digits only', async (t) => {
  const table: [string | undefined, number | undefined][] = [
    ['1', 1],
    ['42', 42],
    ['9007199254740991', 9007199254740991],
    ['0', undefined],
    ['01', undefined],
    ['1.0', undefined],
    [' 1 ', undefined],
    ['0x10', undefined],
    ['1e3', undefined],
    ['+1', undefined],
    ['-1', undefined],
    ['', undefined],
    [undefined, undefined],
    ['9007199254740993', undefined],
    ['١', undefined],
  ];
  for (const [value, want] of table) t.equal(parseIncidentId(value), want, JSON.stringify(value));
});

t.test('a Slack press acts as the Slack user’s contact, with its role; a viewer or a stranger is told which role is needed', async (t) => {
  const triage = {
    ...shippedConfig,
    paging: {
      ...shippedConfig.paging,
      contacts: shippedConfig.paging.contacts.map((c) => (c.id === 'dan' ? { ...c, access: 'viewer' as const } : c)),
    },
  };
  const { app, clock } = await makeApp(t, { config: { slackSigningSecret: SECRET, triage } });
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown')]));
  const press = (user: string) => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user, username: 'someone' }, actions: [{ action_id: 'ack', value: '1' }] }))}`;
    const ts = String(Math.floor(clock.now() / 1000));
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    return app.inject({
      method: 'POST',
      url: '/slack/actions',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
      payload: body,
    });
  };
  t.match((await press('U0000000D04')).json(), { ok: false, message: /needs the responder role .*Dan Okafor has the viewer role/ });
  t.match(
    (await press('U9')).json(),
    { ok: false, message: /needs the responder role .*@someone has no role/ },
    'someone who is no contact',
  );
  t.equal((await api(app, 'GET', '/api/incidents/1')).body.status, 'open', 'neither acknowledged');
  t.match((await press('U0000000C03')).json(), { ok: true, status: 'acknowledged' });
  t.match(
    (await api(app, 'GET', '/api/incidents/1')).body.timeline.find((e: { kind: string }) => e.kind === 'acknowledged'),
    {
      actor: 'carol',
      by: 'Carol Diaz',
      via: 'slack',
    },
  );
});
