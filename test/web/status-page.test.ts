import { parseFeed } from '@rowanmanning/feed-parser';
import t, { type Test } from 'tap';
import { alert, api, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { WebClient } from './web-client.js';

// The status page with app.inject: a responder previews and posts public updates from the incident
// page, /status shows them (and nothing internal), answers from cache with ETags, and its feeds parse.

const HOSTILE = '<script>alert(1)</script><a href="https://evil.example">click</a> \u202Eevil\u202C';

async function withIncident(t: Test, labels: Record<string, string> = { service: 'api' }) {
  const ctx = await makeApp(t, { config: { statusCacheMs: 0 } });
  const r = await postWebhook(
    ctx.app,
    payload(uniqueGroup(), [
      alert('ServiceDown', {
        labels: { ...labels, secret_label: HOSTILE },
        annotations: { summary: `internal ${HOSTILE}`, runbook_url: 'https://wiki.internal/rb' },
      }),
    ]),
  );
  t.equal(r.statusCode, 200);
  const web = new WebClient(ctx.app);
  await web.signIn();
  const id = r.json().incident.id as number;
  // The forms' CSRF token is bound to the session: read from a page signed in.
  await web.get(`/incidents/${id}`);
  return { ...ctx, web, id };
}

const update = (extra: Record<string, string | undefined> = {}) => ({
  state: 'investigating',
  title: 'API errors for some customers',
  message: 'We are looking into elevated errors.\n\nNext update within 30 minutes.',
  'c.api': 'major_outage',
  'c.website': '',
  'c.database': '',
  notify: 'on',
  action: 'post',
  ...extra,
});

t.test(
  'the incident page proposes the matching components, previews exactly the public block, and posting ticks the checklist',
  async (t) => {
    const { app, web, id } = await withIncident(t);
    const page = await web.get(`/incidents/${id}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, /<section id="status-page">/);
    t.match(page.body, /Components proposed from the alerts that match them/);
    t.match(
      page.body,
      /<select id="pc-api" name="c.api">.*<option value="partial_outage" selected>/s,
      'High proposes a partial outage for the API',
    );
    t.match(page.body, /<select id="pc-website" name="c.website"><option value="" selected>/, 'the website is not proposed');
    t.match(page.body, /<input id="pu-title" name="title" required maxlength="200" value="">/, 'no internal title is offered');

    const preview = await web.post(`/incidents/${id}/status-updates`, update({ action: 'preview', notify: undefined }));
    t.equal(preview.statusCode, 200);
    t.match(preview.body, /Preview of the public update/);
    t.match(preview.body, /name="action" value="post"/);
    const block = (body: string) => /<article class="public-incident[\s\S]*?<\/article>/.exec(body)?.[0];
    t.ok(block(preview.body));
    t.notOk(
      (await api(app, 'GET', `/api/incidents/${id}`)).body.timeline.some((e: { kind: string }) => e.kind === 'status_update'),
      'a preview posts nothing',
    );

    const posted = await web.post(`/incidents/${id}/status-updates`, update());
    t.equal(posted.statusCode, 303);
    t.equal(posted.headers.location, `/incidents/${id}#status-page`);
    const status = await app.inject({ url: '/status' });
    t.equal(status.statusCode, 200);
    const strip = (s: string | undefined) => s?.replace(/<time[^>]*>[^<]*<\/time>/g, '');
    t.equal(strip(block(status.body)), strip(block(preview.body)), 'the preview is the public block, but for the time');
    t.match(status.body, /<span class="component-status s-major-outage">Major outage<\/span>/);
    t.match(status.body, /<p class="overall s-major-outage">Major outage<\/p>/);
    t.match(status.body, /We are looking into elevated errors\.<\/p><p>Next update within 30 minutes\.<\/p>/);

    const timeline = (await api(app, 'GET', `/api/incidents/${id}`)).body.timeline;
    t.match(
      timeline.filter((e: { kind: string }) => e.kind === 'status_update' || e.kind === 'checklist'),
      [
        {
          kind: 'status_update',
          actor: 'carol',
          state: 'investigating',
          title: 'API errors for some customers',
          components: [{ id: 'api', status: 'major_outage' }],
        },
        { kind: 'checklist', actor: 'carol', step: 'Status page updated', state: 'done' },
      ],
      'a typed entry with who, and the tick with who and when',
    );
    const after = await web.get(`/incidents/${id}`);
    t.match(
      after.body,
      /<select id="pu-state" name="state"><option value="investigating" selected>/,
      'the next update starts from the last',
    );
    t.match(after.body, /value="API errors for some customers"/);
  },
);

t.test('nothing internal reaches /status, its feeds or its summary: labels, annotations, notes, names, the incident title', async (t) => {
  const { app, web, id } = await withIncident(t);
  await web.post(`/incidents/${id}/notes`, { text: `note ${HOSTILE}` });
  t.equal(
    (await web.post(`/incidents/${id}/status-updates`, update({ title: `Title ${HOSTILE}`, message: `Message ${HOSTILE}` }))).statusCode,
    303,
  );
  const status = await app.inject({ url: '/status' });
  const atom = (await app.inject({ url: '/status/feed.atom' })).body;
  const rss = (await app.inject({ url: '/status/feed.rss' })).body;
  const json = (await app.inject({ url: '/status/summary.json' })).body;
  for (const body of [status.body, atom, rss, json])
    t.notMatch(
      body,
      /secret_label|wiki\.internal|internal <|ServiceDown|Carol|carol|note /,
      'no label, annotation, alert name, person or note',
    );
  // The feeds' title and summary are type="html" (an RSS description too): readers render them, so
  // what people wrote must arrive escaped there (the feed library writes it raw inside CDATA).
  for (const body of [status.body, atom, rss]) {
    t.notMatch(body, /<script>|<a href="https:\/\/evil/, 'the text people wrote is never markup');
    t.notMatch(body, /\u202E/, 'no bidi control acts');
  }
  t.match(atom, /<summary type="html"><!\[CDATA\[Message &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(
    status.body,
    /<bdi>Title &lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;a href=&quot;https:\/\/evil\.example&quot;&gt;click&lt;\/a&gt; \[U\+202E\]evil\[U\+202C\]<\/bdi>/,
  );
  t.match(status.headers['content-security-policy'], /default-src 'none'/);
  t.notOk(status.headers['set-cookie'], 'no cookie on the public page');
});

t.test('/status answers from its snapshot with an ETag and a short max-age, and 304 to a revalidation', async (t) => {
  const { app, web, id } = await withIncident(t);
  await web.post(`/incidents/${id}/status-updates`, update());
  const first = await app.inject({ url: '/status' });
  t.match(first.headers['cache-control'], /^public, max-age=15$/);
  const etag = first.headers.etag as string;
  t.match(etag, /^"[A-Za-z0-9_-]+"$/);
  const again = await app.inject({ url: '/status', headers: { 'if-none-match': etag } });
  t.equal(again.statusCode, 304);
  t.equal(again.body, '');
  await web.post(`/incidents/${id}/status-updates`, update({ state: 'identified', message: 'Found it.' }));
  const changed = await app.inject({ url: '/status', headers: { 'if-none-match': etag } });
  t.equal(changed.statusCode, 200, 'a new update changes the ETag');
  t.match(changed.body, /Identified/);
});

t.test('resolving proposes the closing update; posting it puts the components back and the incident in the past', async (t) => {
  const { app, web, id, clock } = await withIncident(t);
  await web.post(`/incidents/${id}/status-updates`, update());
  clock.advance(40 * 60_000);
  await web.post(`/incidents/${id}/resolve`, {});
  const page = await web.get(`/incidents/${id}`);
  t.match(page.body, /The incident is resolved: post the closing update/);
  t.match(page.body, /<option value="resolved" selected>/);
  t.match(page.body, /<select id="pc-api" name="c.api">.*<option value="operational" selected>/s);
  await web.post(`/incidents/${id}/status-updates`, update({ state: 'resolved', message: 'Fixed.', 'c.api': 'operational' }));
  const status = await app.inject({ url: '/status' });
  t.notMatch(status.body, /id="active"/, 'no active incident');
  t.match(status.body, /<section id="past"><h2>Past incidents<\/h2><article class="public-incident state-resolved"/);
  t.match(status.body, /<span class="component-status s-operational">Operational<\/span>/);
  t.match(status.body, /All systems operational/);
  t.match(status.body, /<span class="bar s-major-outage" title="2026-11-23: Major outage, 40 min down"/, "today's bar shows the outage");
});

t.test('a bad update is a clear 400; a viewer may not post', async (t) => {
  const { web, id, app } = await withIncident(t);
  t.equal((await web.post(`/incidents/${id}/status-updates`, update({ state: 'exploded' }))).statusCode, 400);
  t.match((await web.post(`/incidents/${id}/status-updates`, update({ title: '   ' }))).body, /The public title is empty/);
  t.match(
    (await web.post(`/incidents/${id}/status-updates`, update({ 'c.nope': 'major_outage' }))).body,
    /There is no component &quot;nope&quot;/,
  );
  t.equal((await web.post(`/incidents/${id}/status-updates`, update({ 'c.api': 'on_fire' }))).statusCode, 400);
  t.equal((await web.post(`/incidents/${id + 100}/status-updates`, update())).statusCode, 404);
  t.equal((await app.inject({ url: '/status' })).statusCode, 200, 'the service is still up');
});

t.test('the feeds are valid Atom and RSS for an independent parser, and the summary is JSON', async (t) => {
  const { app, web, id } = await withIncident(t);
  await web.post(`/incidents/${id}/status-updates`, update({ message: 'Two ]]> CDATA ]]> ends & <b>tags</b>' }));
  await web.post(`/incidents/${id}/status-updates`, update({ state: 'monitoring', message: 'A fix is out.' }));
  for (const [url, type] of [
    ['/status/feed.atom', /^application\/atom\+xml/],
    ['/status/feed.rss', /^application\/rss\+xml/],
  ] as const) {
    const res = await app.inject({ url });
    t.match(res.headers['content-type'], type);
    const feed = parseFeed(res.body);
    t.equal(feed.title, 'Example status', `${url}: the title`);
    t.same(
      feed.items.map((i) => i.title),
      ['Monitoring: API errors for some customers', 'Investigating: API errors for some customers'],
      `${url}: the updates, newest first`,
    );
    t.equal(
      feed.items[1]!.description ?? feed.items[1]!.content,
      'Two ]]> CDATA ]]> ends & <b>tags</b>',
      `${url}: the text whole, shown as text (it arrived escaped)`,
    );
    t.match(feed.items[0]!.url, /^http:\/\/localhost\/status#incident-[0-9a-f]{12}$/);
  }
  const summary = (await app.inject({ url: '/status/summary.json' })).json();
  t.match(summary, {
    page: { title: 'Example status', stale: false },
    status: { indicator: 'major_outage' },
    components: [{ id: 'website', status: 'operational' }, { id: 'api', status: 'major_outage' }, { id: 'database' }],
    incidents: [
      { title: 'API errors for some customers', state: 'monitoring', updates: [{ state: 'monitoring' }, { state: 'investigating' }] },
    ],
  });
});

t.test("on STATUS_PUBLIC_URL's host only the status page answers; elsewhere it is public without sign-in", async (t) => {
  const { app } = await makeApp(t, { config: { channels: { statusPublicUrl: 'https://status.example.com' } } });
  const host = { host: 'status.example.com' };
  t.equal((await app.inject({ url: '/', headers: host })).headers.location, '/status');
  t.equal((await app.inject({ url: '/status', headers: host })).statusCode, 200);
  t.equal((await app.inject({ url: '/status/status.css', headers: host })).statusCode, 200);
  for (const url of ['/incidents', '/api/incidents', '/metrics', '/sign-in'])
    t.equal((await app.inject({ url, headers: host })).statusCode, 404, url);
  t.equal((await app.inject({ url: '/status' })).statusCode, 200, 'no sign-in on the service host either');
  t.equal((await app.inject({ url: '/incidents' })).statusCode, 303, 'while the pages still need it');
});

t.test('the store failing after a read: /status serves the last snapshot, marked stale', async (t) => {
  const { app, store } = await makeApp(t, { config: { statusCacheMs: 0 } });
  t.equal((await app.inject({ url: '/status' })).statusCode, 200);
  const original = store.statusUpdates.bind(store);
  store.statusUpdates = () => Promise.reject(new Error('database gone'));
  t.teardown(() => (store.statusUpdates = original));
  const res = await app.inject({ url: '/status' });
  t.equal(res.statusCode, 200);
  t.match(res.body, /This page could not be refreshed/);
});
