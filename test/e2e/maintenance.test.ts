import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { localTimeValue, parseLocalTime } from '../../src/web/plugins/maintenance-pages.js';
import { api, makeApp, payload, postWebhook, shippedConfigText } from '../helpers.js';
import { WebClient } from '../web/web-client.js';
import { amSilences, pushAlerts, skipWithoutAlertmanager, startAlertmanager, until } from './alertmanager-process.js';

const HOUR = 3_600_000;
// Behind the trusted proxy each person is themselves with their own role.
const web = { sessionSecret: 'x'.repeat(32), auth: { mode: 'proxy', header: 'X-Forwarded-Email', trusted: ['127.0.0.1'] } } as const;

async function as(app: FastifyInstance, email: string) {
  const client = new WebClient(app, { 'x-forwarded-email': email });
  await client.get('/maintenance');
  return client;
}

t.test('datetime-local values are read in the zone given, and written back the same', async (t) => {
  const at = parseLocalTime('2026-03-29T02:30', 'Europe/Paris');
  t.equal(new Date(at!).toISOString(), '2026-03-29T01:30:00.000Z', 'a time skipped by the spring jump is moved forward by the jump');
  t.equal(parseLocalTime('2026-12-07T10:00', 'America/New_York'), Date.parse('2026-12-07T15:00:00Z'));
  t.equal(parseLocalTime('2026-12-07T10:00:30', 'UTC'), Date.parse('2026-12-07T10:00:00Z'));
  t.equal(localTimeValue(Date.parse('2026-12-07T15:00:00Z'), 'America/New_York'), '2026-12-07T10:00');
  for (const bad of ['', '2026-13-01T10:00', '2026-12-07 10:00', '2026-12-07T24:00', 'tomorrow'])
    t.equal(parseLocalTime(bad, 'UTC'), undefined, JSON.stringify(bad));
});

t.test(
  'maintenance windows in a real Alertmanager: previewed, planned as pending silences, listed, public ones for the status page, refused in words, viewers and forged forms refused, cancelled',
  { skip: skipWithoutAlertmanager() },
  async (t) => {
    const am = await startAlertmanager(t);
    // A clock at the real time: Alertmanager refuses silences that ended by its own clock.
    const clock = new ManualClock(Date.now());
    const base = parseConfig(
      shippedConfigText(
        `\nalertmanager:\n  urls: ["${am.url}"]\nstatusPage:\n  components:\n    - { id: api, name: Public API }\n    - { id: db, name: "Database <b>" }\n`,
        ['statusPage'],
      ),
      'triage.yml',
    );
    const triage = {
      ...base,
      paging: { ...base.paging, contacts: base.paging.contacts.map((c) => (c.id === 'dan' ? { ...c, access: 'viewer' as const } : c)) },
    };
    const { app } = await makeApp(t, { clock, config: { triage, web, channels: { publicUrl: 'https://triage.example.com' } } });
    const maintenance = app.triage.maintenance;

    // A hostile label value, in Alertmanager (as Prometheus would send it) and in an incident of ours.
    const hostile = 'db "1"</code><script>alert(1)</script>\u202egnp.exe';
    await pushAlerts(am.url, [
      { labels: { alertname: 'DiskFull', service: 'db', instance: hostile } },
      { labels: { alertname: 'DiskFull', service: 'web', instance: 'web-1' } },
    ]);
    await until(
      async () => ((await (await fetch(`${am.url}/api/v2/alerts`)).json()) as unknown[]).length === 2,
      'the alerts in Alertmanager',
      am.logs,
    );
    const fire = (service: string, instance: string) => ({
      status: 'firing' as const,
      labels: { alertname: 'DiskFull', service, instance, severity: 'high' },
      annotations: {},
      startsAt: new Date(clock.now()).toISOString(),
      fingerprint: `${service}-${instance.length}`,
    });
    await postWebhook(app, payload('{}:{service="db"}', [fire('db', hostile)], { groupLabels: { service: 'db' } }));
    await postWebhook(app, payload('{}:{service="web"}', [fire('web', 'web-1')], { groupLabels: { service: 'web' } }));

    const carol = await as(app, 'carol@example.com');
    let page = await carol.get('/maintenance');
    t.equal(page.statusCode, 200);
    t.match(page.body, /No maintenance window is planned/);
    t.match(page.body, /<a href="\/maintenance">Maintenance<\/a>/, 'in the navigation');
    t.match(page.body, /<label for="w-matchers">Matchers<\/label>/);

    // The form's times are to the minute.
    const start = Math.ceil((clock.now() + HOUR) / 60_000) * 60_000;
    const form = {
      title: 'DB failover <b>now</b>',
      description: 'Internal: ticket OPS-12',
      starts: localTimeValue(start, 'UTC'),
      ends: localTimeValue(start + 2 * HOUR, 'UTC'),
      zone: 'UTC',
      matchers: `service="db"\ninstance=~".+"`,
      public: 'on',
      publicText: 'The API may answer slowly <i>for a minute</i>.',
      components: 'db',
    };

    // 1. The preview: Alertmanager's alert and our incident, the hostile value escaped.
    page = await carol.post('/maintenance', { ...form, intent: 'preview' });
    t.equal(page.statusCode, 200, page.body);
    t.match(page.body, /1 alert in Alertmanager now/);
    t.match(page.body, /<a href="\/incidents\/1">#1 DiskFull/);
    t.notMatch(page.body, /incidents\/2"/, 'not the web incident');
    t.notOk(page.body.includes('<script>alert(1)'), 'the hostile value is escaped');
    t.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    t.match(page.body, /<bdi>/, 'bidi controls isolated');
    t.match(page.body, /value="DB failover &lt;b&gt;now&lt;\/b&gt;"/, 'the form keeps what was typed');
    t.match(page.body, /service=&quot;db&quot;\ninstance=~&quot;\.\+&quot;<\/textarea>/);
    t.same(await app.triage.store.maintenanceWindows({ endingAfter: 0, limit: 10 }), [], 'a preview plans nothing');

    // 2. Refusals in words, the form kept; nothing reaches Alertmanager.
    for (const [fields, words] of [
      [{ ends: localTimeValue(start - HOUR, 'UTC') }, /The end must come after the start/],
      [{ matchers: 'instance=~".*"' }, /matches every alert/],
      [{ matchers: 'service="db' }, /Line 1: .*unterminated/],
      [{ matchers: '  \n ' }, /Give at least one matcher/],
      [{ starts: 'soon' }, /The start is not a date and time/],
      [{ zone: 'Mars/Olympus' }, /is not a time zone/],
      [{ title: '   ' }, /Give the window a title/],
      [{ publicText: '' }, /A public window needs the words/],
      [{ components: 'nope' }, /No status page component &quot;nope&quot;/],
      [{ starts: localTimeValue(start, 'UTC'), ends: localTimeValue(start + 40 * 24 * HOUR, 'UTC') }, /at most 31 days/],
    ] as const) {
      const res = await carol.post('/maintenance', { ...form, ...fields, intent: 'create' });
      t.equal(res.statusCode, 400, String(words));
      t.match(res.body, words);
      t.match(res.body, /<form method="post" action="\/maintenance"/, 'the form again');
    }
    t.same(await amSilences(am.url), [], 'nothing in Alertmanager');

    // 3. Viewers read but may not plan or cancel; a form without the CSRF token is refused.
    const dan = await as(app, 'dan@example.com');
    const read = await dan.get('/maintenance');
    t.equal(read.statusCode, 200);
    t.match(read.body, /Responders plan maintenance windows/);
    t.notMatch(read.body, /action="\/maintenance"/);
    await dan.get('/me'); // a page with a form of Dan's own: a CSRF token of his session
    const refused = await dan.post('/maintenance', { ...form, intent: 'create' });
    t.equal(refused.statusCode, 403);
    t.match(refused.body, /responder role/);
    const forged = await carol.post('/maintenance', { ...form, intent: 'create', _csrf: 'forged' });
    t.equal(forged.statusCode, 403, 'CSRF');
    t.same(await amSilences(am.url), []);

    // 4. Planned: a pending silence in Alertmanager, the record with who, listed.
    let res = await carol.post('/maintenance', { ...form, intent: 'create' });
    t.equal(res.statusCode, 303, res.body);
    t.equal(res.headers.location, '/maintenance?done=created');
    const [silence] = await amSilences(am.url);
    t.match(silence, {
      status: { state: 'pending' },
      createdBy: 'Carol Diaz',
      comment: 'Maintenance: DB failover <b>now</b> https://triage.example.com/maintenance',
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 2 * HOUR).toISOString(),
    });
    t.same(
      silence!.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual]),
      [
        ['service', 'db', false, true],
        ['instance', '.+', true, true],
      ],
    );
    const [w] = await app.triage.store.maintenanceWindows({ endingAfter: clock.now(), limit: 10 });
    t.match(w, {
      title: 'DB failover <b>now</b>',
      createdBy: 'Carol Diaz',
      silenceIds: [silence!.id],
      public: true,
      description: 'Internal: ticket OPS-12',
    });
    page = await carol.get('/maintenance?done=created');
    t.match(page.body, /Planned: the silences are in Alertmanager/);
    t.match(
      page.body,
      /<strong>DB failover &lt;b&gt;now&lt;\/b&gt;<\/strong> <span class="badge">upcoming<\/span> <span class="badge public">public<\/span>/,
    );
    t.match(page.body, /Planned by <strong>Carol Diaz<\/strong>: Internal: ticket OPS-12/);
    t.match(page.body, /<code>\{service=&quot;db&quot;, instance=~&quot;\.\+&quot;\}<\/code>/);
    t.match(page.body, />Cancel<\/button>/);
    t.match(page.body, /Components: Database &lt;b&gt;/);
    t.match(page.body, /<label for="w-c-db">Database &lt;b&gt;<\/label>/, 'the components offered, escaped');

    // 5. The status page's read: the public window's title, words and times, nothing internal.
    t.same(await maintenance.publicMaintenance(clock.now()), [
      {
        id: w!.id,
        title: 'DB failover <b>now</b>',
        text: 'The API may answer slowly <i>for a minute</i>.',
        startsAt: start,
        endsAt: start + 2 * HOUR,
        state: 'upcoming',
        components: ['db'],
      },
    ]);
    t.match(await maintenance.publicMaintenance(start + HOUR), [{ state: 'active' }]);
    t.same(await maintenance.publicMaintenance(start + 2 * HOUR), [], 'ended');

    // A private window with a hostile matcher value: Alertmanager gets it exactly; not public.
    res = await carol.post('/maintenance', {
      ...form,
      title: 'Private',
      public: undefined,
      publicText: '',
      matchers: `instance=${JSON.stringify(hostile)}\n\nservice="web"`,
      intent: 'create',
    });
    t.equal(res.statusCode, 303, res.body);
    const two = (await amSilences(am.url)).filter((s) => s.id !== silence!.id);
    t.equal(two.length, 2, 'a blank line between groups: two silences');
    t.ok(
      two.some((s) => s.matchers[0]!.value === hostile),
      'the hostile value reaches Alertmanager as it was',
    );
    t.equal((await maintenance.publicMaintenance(clock.now())).length, 1, 'the private one is not public');
    page = await carol.get('/maintenance');
    t.notOk(page.body.includes('<script>alert(1)'), 'escaped in the list');

    // 6. Someone expires one of its silences in Alertmanager: the list says so.
    const privateWindow = (await app.triage.store.maintenanceWindows({ endingAfter: clock.now(), limit: 10 })).find(
      (x) => x.title === 'Private',
    )!;
    await fetch(`${am.url}/api/v2/silence/${privateWindow.silenceIds[1]}`, { method: 'DELETE' });
    t.match((await carol.get('/maintenance')).body, /Expired in Alertmanager by someone else/);

    // 7. Cancelled: its silence expired in Alertmanager, off the list and the status page.
    t.equal((await dan.post(`/maintenance/${w!.id}/cancel`, {})).statusCode, 403, 'not by a viewer');
    res = await carol.post(`/maintenance/${w!.id}/cancel`, {});
    t.equal(res.statusCode, 303, res.body);
    t.equal((await amSilences(am.url)).find((s) => s.id === silence!.id)!.status.state, 'expired');
    t.same(await maintenance.publicMaintenance(clock.now()), []);
    t.match(await app.triage.store.getMaintenanceWindow(w!.id), { cancelledBy: 'Carol Diaz' });
    t.equal((await carol.post(`/maintenance/999/cancel`, {})).statusCode, 404);

    // The API: a deploy pipeline plans and cancels its own window; refusals in words.
    const byApi = await api(app, 'POST', '/api/maintenance', {
      title: 'Deploy 4.2',
      startsAt: new Date(start).toISOString().replace('Z', '+00:00'),
      endsAt: new Date(start + HOUR).toISOString(),
      matchers: ['service="web"', 'env!~"dev|test"'],
      components: ['api'],
    });
    t.equal(byApi.status, 201, JSON.stringify(byApi.body));
    t.match(byApi.body, {
      title: 'Deploy 4.2',
      components: ['api'],
      public: false,
      matchers: [['service="web"', 'env!~"dev|test"']],
      createdBy: /./,
    });
    t.ok(
      (await amSilences(am.url)).some((s) => s.id === byApi.body.silenceIds[0] && s.status.state === 'pending'),
      'pending in Alertmanager',
    );
    const listed = await api(app, 'GET', '/api/maintenance');
    t.same(
      listed.body.windows.map((x: { title: string; state: string }) => [x.title, x.state]),
      [
        ['Private', 'upcoming'],
        ['Deploy 4.2', 'upcoming'],
      ],
    );
    for (const [body, words] of [
      [
        { title: 'x', startsAt: 'tomorrow', endsAt: new Date(start).toISOString(), matchers: ['a="b"'] },
        /startsAt must be an RFC 3339 time/,
      ],
      [
        { title: 'x', startsAt: new Date(start).toISOString(), endsAt: new Date(start + HOUR).toISOString(), matchers: ['a=~".*"'] },
        /matches every alert/,
      ],
      [
        {
          title: 'x',
          startsAt: new Date(start).toISOString(),
          endsAt: new Date(start + HOUR).toISOString(),
          matchers: ['a="b"\n\nc=~".*"'],
        },
        /line break/,
      ],
      [{ title: 'x', startsAt: new Date(start).toISOString(), endsAt: new Date(start + HOUR).toISOString(), matchers: [] }, /matchers/],
    ] as const) {
      const r = await api(app, 'POST', '/api/maintenance', body);
      t.equal(r.status, 400, String(words));
      t.match(r.body.message, words);
    }
    const gone = await api(app, 'DELETE', `/api/maintenance/${byApi.body.id}`);
    t.equal(gone.status, 200);
    t.match(gone.body, { cancelledAt: /Z$/ });
    t.equal((await api(app, 'DELETE', '/api/maintenance/99999')).status, 404);
    t.equal((await app.inject({ method: 'GET', url: '/api/maintenance' })).statusCode, 401, 'no token, no list');

    // 8. Alertmanager down: nothing is planned, and the page says why.
    await am.stop();
    res = await carol.post('/maintenance', { ...form, title: 'While down', intent: 'create' });
    t.equal(res.statusCode, 503);
    t.match(res.body, /Alertmanager did not answer, nothing was planned/);
    t.notOk(
      (await app.triage.store.maintenanceWindows({ endingAfter: 0, limit: 10 })).some((x) => x.title === 'While down'),
      'no record',
    );
    page = await carol.get('/maintenance');
    t.equal(page.statusCode, 200, 'the list still shows, from the store');
    t.match(page.body, /Alertmanager did not answer, so whether these silences are still in place is not known/);
    page = await carol.post('/maintenance', { ...form, intent: 'preview' });
    t.equal(page.statusCode, 200);
    t.match(page.body, /Alertmanager did not answer, so its alerts are not shown/);
    t.match(page.body, /#1 DiskFull/, 'our incidents still previewed');
  },
);
