import t from 'tap';
import { api, fixture, makeApp, postWebhook, T0 } from '../helpers.js';

/**
 * Bodies in each sender's shape, written here from Grafana's and Alertmanager's documentation of
 * their webhook payloads (not copied from any project's fixtures).
 */

/** Grafana Alerting's webhook contact point: version "1", Alertmanager's envelope plus orgId, title, state, message, and per alert its links and values. */
function grafanaBody(over: Record<string, unknown> = {}, alertOver: Record<string, unknown> = {}) {
  return {
    receiver: 'alert-triage',
    status: 'firing',
    orgId: 1,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'CheckoutLatencyHigh', grafana_folder: 'Shop', team: 'payments' },
        annotations: { summary: 'p99 over 2 s', runbook_url: 'https://runbooks.example/checkout' },
        startsAt: '2026-11-23T23:05:00.123456+01:00',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://grafana.example/alerting/grafana/u1d2/view?orgId=1',
        fingerprint: '5b7e2a91c04fd3e8',
        silenceURL: 'https://grafana.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DCheckoutLatencyHigh',
        dashboardURL: 'https://grafana.example/d/shop?orgId=1',
        panelURL: 'https://grafana.example/d/shop?orgId=1&viewPanel=4',
        values: { A: 2.41, C: 1 },
        valueString: "[ var='A' labels={} value=2.41 ], [ var='C' labels={} value=1 ]",
        imageURL: 'https://grafana.example/render/shop-4.png',
        ...alertOver,
      },
    ],
    groupLabels: { alertname: 'CheckoutLatencyHigh', grafana_folder: 'Shop' },
    commonLabels: { alertname: 'CheckoutLatencyHigh', grafana_folder: 'Shop', team: 'payments' },
    commonAnnotations: { summary: 'p99 over 2 s' },
    externalURL: 'https://grafana.example/',
    version: '1',
    groupKey: '{}/{}:{alertname="CheckoutLatencyHigh", grafana_folder="Shop"}',
    truncatedAlerts: 0,
    title: '[FIRING:1] CheckoutLatencyHigh Shop (payments)',
    state: 'alerting',
    message: '**Firing**\n\nValue: A=2.41, C=1',
    ...over,
  };
}

type ApiAlert = { fingerprint: string; status: string; startsAt: string; endsAt: string | null; links: Record<string, unknown> };
const details = async (app: Parameters<typeof api>[0], id: number) =>
  (await api(app, 'GET', `/api/incidents/${id}`)).body as {
    source: string;
    key: string;
    groupKey: string;
    status: string;
    alerts: ApiAlert[];
  };

t.test('Grafana Alerting\'s version "1" body opens an incident from Grafana, with its links and values', async (t) => {
  const { app } = await makeApp(t);
  const res = await postWebhook(app, grafanaBody(), { 'user-agent': 'Grafana/11.3.0' });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.json(), { changed: true, incident: { id: 1, status: 'open' } });
  const got = await details(app, 1);
  t.equal(got.source, 'grafana');
  t.equal(got.groupKey, '{}/{}:{alertname="CheckoutLatencyHigh", grafana_folder="Shop"}');
  t.equal(got.alerts[0]!.fingerprint, '5b7e2a91c04fd3e8', 'the fingerprint Grafana gave is kept');
  t.equal(got.alerts[0]!.startsAt, '2026-11-23T22:05:00.123Z', 'an offset and microseconds read as Grafana writes them');
  t.same(got.alerts[0]!.links, {
    silenceUrl: 'https://grafana.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DCheckoutLatencyHigh',
    dashboardUrl: 'https://grafana.example/d/shop?orgId=1',
    panelUrl: 'https://grafana.example/d/shop?orgId=1&viewPanel=4',
    values: { A: 2.41, C: 1 },
  });
  // Grafana repeats the group: nothing new.
  t.equal((await postWebhook(app, grafanaBody())).json().changed, false);
  // Then resolves it.
  const resolved = grafanaBody({ status: 'resolved' }, { status: 'resolved', endsAt: '2026-11-23T23:20:00+01:00', values: null });
  t.match((await postWebhook(app, resolved)).json(), { changed: true, incident: { status: 'resolved' } });
});

t.test('links that are not http(s) and values that are not numbers are dropped, not shown', async (t) => {
  const { app } = await makeApp(t);
  const body = grafanaBody(
    {},
    {
      silenceURL: 'javascript:alert(1)',
      dashboardURL: '',
      panelURL: 'not a url',
      values: { A: 'NaN', B: 3, C: null, D: { nested: 1 }, E: true },
    },
  );
  t.equal((await postWebhook(app, body)).statusCode, 200);
  t.same((await details(app, 1)).alerts[0]!.links, { values: { B: 3, C: null } });
});

t.test('Alertmanager is recorded as the sender, and a body of neither as another webhook', async (t) => {
  const { app } = await makeApp(t);
  const am = fixture('firing-two-alerts');
  t.equal((await postWebhook(app, am.body, { 'user-agent': am.headers['user-agent']! })).statusCode, 200);
  t.equal((await details(app, 1)).source, 'alertmanager');
  const script = { alerts: [{ labels: { alertname: 'BackupFailed', host: 'db-1' } }] };
  t.equal((await postWebhook(app, script, { 'user-agent': 'curl/8.5.0' })).statusCode, 200);
  t.equal((await details(app, 2)).source, 'other');
});

t.test("a missing fingerprint is Alertmanager's: the same alert from either path is one alert", async (t) => {
  const { app } = await makeApp(t);
  // Alertmanager before 0.19 sent no fingerprint.
  const old = fixture('firing-two-alerts').body;
  const withoutFingerprints = { ...old, alerts: old.alerts.map(({ fingerprint: _, ...a }) => a) };
  t.equal((await postWebhook(app, withoutFingerprints)).statusCode, 200);
  t.same((await details(app, 1)).alerts.map((a) => a.fingerprint).sort(), ['2c19d853f629360e', 'e3bf07dcd70cbf25']);
  // The same notification from a current Alertmanager, with its fingerprints: nothing new.
  t.equal((await postWebhook(app, old)).json().changed, false);
  // An empty fingerprint is missing too.
  const empty = { ...old, alerts: old.alerts.map((a) => ({ ...a, fingerprint: '' })) };
  t.equal((await postWebhook(app, empty)).json().changed, false);
});

t.test('what a sender leaves out is derived', async (t) => {
  const cases: { name: string; body: Record<string, unknown>; check: (got: Awaited<ReturnType<typeof details>>) => void }[] = [
    {
      name: 'no groupKey: from the receiver and the group labels',
      body: {
        receiver: 'cron',
        groupLabels: { job: 'backup' },
        alerts: [{ status: 'firing', labels: { alertname: 'BackupLate', job: 'backup' } }],
      },
      check: (got) => {
        t.equal(got.groupKey, '{"cron"}:{job="backup"}');
        t.equal(got.key, 'cron/{"cron"}:{job="backup"}');
      },
    },
    {
      name: 'no receiver either: one group for "webhook"',
      body: { alerts: [{ labels: { alertname: 'Lonely' } }] },
      check: (got) => t.equal(got.key, 'webhook/{"webhook"}:{}'),
    },
    {
      name: 'an integer groupKey is read as text',
      body: { receiver: 'r', groupKey: 42, alerts: [{ labels: { alertname: 'NumberKey' } }] },
      check: (got) => t.equal(got.groupKey, '42'),
    },
    {
      name: 'no status anywhere, no endsAt: firing',
      body: { receiver: 'r', groupKey: 'nostatus', alerts: [{ labels: { alertname: 'NoStatus' } }] },
      check: (got) => t.equal(got.alerts[0]!.status, 'firing'),
    },
    {
      name: 'an empty status with an endsAt still to come: firing',
      body: { groupKey: 'future', alerts: [{ status: '', labels: { alertname: 'Future' }, endsAt: '2026-11-23T23:00:00Z' }] },
      check: (got) => t.equal(got.alerts[0]!.status, 'firing'),
    },
    {
      name: 'an empty startsAt is the time received',
      body: { groupKey: 'nostart', alerts: [{ labels: { alertname: 'NoStart' }, startsAt: '' }] },
      check: (got) => t.equal(got.alerts[0]!.startsAt, new Date(T0).toISOString()),
    },
    {
      name: "Go's zero startsAt is the time received",
      body: { groupKey: 'zerostart', alerts: [{ labels: { alertname: 'ZeroStart' }, startsAt: '0001-01-01T00:00:00Z' }] },
      check: (got) => t.equal(got.alerts[0]!.startsAt, new Date(T0).toISOString()),
    },
    {
      name: 'fields nobody defined are ignored',
      body: {
        version: '7',
        groupKey: 'extras',
        somethingNew: { deep: [1, 2] },
        alerts: [{ labels: { alertname: 'Extras' }, silencedBy: [], inhibitedBy: [], mood: 'calm' }],
      },
      check: (got) => t.equal(got.alerts[0]!.status, 'firing'),
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { app } = await makeApp(t);
      const res = await postWebhook(app, c.body);
      t.equal(res.statusCode, 200, res.body);
      t.equal(res.json().incident.status, 'open');
      c.check(await details(app, 1));
    });
  }
});

t.test('an alert whose endsAt has passed is resolved, and the group with it', async (t) => {
  const { app, clock } = await makeApp(t);
  const firing = { receiver: 'r', groupKey: 'ends', alerts: [{ labels: { alertname: 'Ends' }, startsAt: '2026-11-23T22:00:00Z' }] };
  t.equal((await postWebhook(app, firing)).json().incident.status, 'open');
  clock.advance(60_000);
  const ended = { ...firing, alerts: [{ ...firing.alerts[0], status: '', endsAt: new Date(T0 + 30_000).toISOString() }] };
  const res = (await postWebhook(app, ended)).json();
  t.match(res, { changed: true, incident: { id: 1, status: 'resolved' } });
  t.equal((await details(app, 1)).alerts[0]!.status, 'resolved');
});

t.test('re-posting an alert without a startsAt is a re-delivery, not a re-fire', async (t) => {
  const { app, clock } = await makeApp(t);
  const body = { receiver: 'cron', groupKey: 'nightly', alerts: [{ labels: { alertname: 'BackupLate' } }] };
  t.equal((await postWebhook(app, body)).json().changed, true);
  for (let i = 0; i < 3; i++) {
    clock.advance(5 * 60_000);
    t.equal((await postWebhook(app, body)).json().changed, false, `repeat ${i + 1} changes nothing`);
  }
  t.equal((await details(app, 1)).alerts[0]!.startsAt, new Date(T0).toISOString(), 'startsAt is when it was first received');
  // Resolved by hand while the script still says firing: its repeats do not reopen it.
  t.equal((await api(app, 'POST', '/api/incidents/1/resolve', { by: 'ann' })).status, 200);
  clock.advance(5 * 60_000);
  t.match((await postWebhook(app, body)).json(), { changed: false, incident: { id: 1, status: 'resolved' } });
});

t.test('400, in words, only for no alerts array or alerts without labels', async (t) => {
  const { app } = await makeApp(t);
  const cases: [unknown, Record<string, string>, RegExp][] = [
    [{ receiver: 'r' }, {}, /^The body has no "alerts" array, so there is nothing to take\. .*custom "payload:".*use the default payload/],
    [{ alerts: { a: 1 } }, {}, /no "alerts" array/],
    [
      // Alertmanager 0.34's webhook_config `payload:` sends whatever its template makes.
      { text: 'DiskFull on db-1', severity: 'critical' },
      { 'user-agent': 'Alertmanager/0.34.0' },
      /came from Alertmanager \(Alertmanager\/0\.34\.0\).*remove "payload:" from the webhook_config so that Alertmanager sends its default payload/,
    ],
    [{ alerts: [{ status: 'firing' }] }, {}, /^Alert 0 \(alerts\[0\]\) has no labels: every alert needs at least one label/],
    [{ alerts: [{ labels: { alertname: 'ok' } }, { labels: {} }] }, {}, /^Alert 1 \(alerts\[1\]\) has no labels/],
    [{ alerts: [{ labels: [] }] }, {}, /has no labels/],
    [{ alerts: ['DiskFull'] }, {}, /has no labels/],
    [[{ labels: { a: 'b' } }], {}, /^The body is not a JSON object/],
  ];
  for (const [body, headers, message] of cases) {
    const res = await postWebhook(app, body, headers);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.match(res.json().message, message);
  }
  t.equal((await api(app, 'GET', '/api/incidents')).body.incidents.length, 0, 'nothing stored');
});
