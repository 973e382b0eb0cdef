import t from 'tap';
import { addNote } from '../../../src/incidents/incident-machine.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { alert, API_TOKEN, makeApp, payload, postWebhook, T0, uniqueGroup } from '../../helpers.js';
import { countingStore, largestRead } from '../../store/counting-store.js';
import { seeded, WebClient } from '../web-client.js';

t.test('a wrong address or filter gets a clear 4xx', async (t) => {
  const { app } = await seeded(t);
  const c = new WebClient(app);
  await c.signIn();
  t.equal((await c.get('/incidents/999')).statusCode, 404);
  t.equal((await c.get('/incidents/abc')).statusCode, 400);
  t.equal((await c.get('/incidents?status=closed')).statusCode, 400);
  t.equal((await c.get('/incidents?page=0')).statusCode, 400);
});

t.test('the list: newest first, filters, pages, countdown or breached', async (t) => {
  const { app, clock } = await seeded(t);
  for (let n = 0; n < 52; n++) await postWebhook(app, payload(uniqueGroup(), [alert('SlowAPI')]));
  const c = new WebClient(app);
  await c.signIn();
  const first = (await c.get('/incidents')).body;
  t.equal(first.match(/<li class="incident/g)?.length, 50);
  t.match(first, /href="\/incidents\?page=2" rel="next">Older/);
  const second = (await c.get('/incidents?page=2')).body;
  t.same(
    [...second.matchAll(/href="\/incidents\/(\d+)"/g)].map((m) => Number(m[1])),
    [5, 4, 3, 2, 1].filter((n) => n <= 5),
  );
  t.match(second, /rel="prev">Newer/);
  const crit = (await c.get('/incidents?severity=critical&status=')).body;
  t.same(
    [...crit.matchAll(/href="\/incidents\/(\d+)"/g)].map((m) => Number(m[1])),
    [1],
  );
  t.match(crit, /data-deadline="\d+">in 5m/);
  t.match(crit, /<option value="critical" selected>/);
  clock.advance(6 * 60_000);
  t.match((await c.get('/incidents?severity=critical')).body, /class="breached">breached/);
});

t.test('the incident page: deadline, paging, alerts, silence link, timeline, labelled fields and named buttons', async (t) => {
  const { app } = await makeApp(t);
  await postWebhook(
    app,
    payload(
      uniqueGroup(),
      [
        alert('DDoSAttack', {
          labels: { instance: 'lb:443', job: 'edge' },
          annotations: { summary: 'Traffic spike', runbook_url: 'https://runbooks.example/ddos' },
        }),
      ],
      {
        externalURL: 'http://alertmanager:9093',
      },
    ),
  );
  const c = new WebClient(app);
  await c.signIn();
  const res = await c.get('/incidents/1');
  t.equal(res.statusCode, 200);
  const page = res.body;
  t.match(page, /Critical <span class="muted">decided by rule critical-by-name/);
  t.match(page, /Respond by <time datetime="2026-11-23T22:13:00.000Z">2026-11-23 22:13 UTC<\/time>: <time class="countdown"/);
  t.match(page, /Who was paged/);
  t.match(page, /<dt>runbook_url<\/dt><dd><a href="https:\/\/runbooks.example\/ddos" rel="noopener noreferrer">/);
  t.match(page, /<a href="http:\/\/prometheus:9090\/graph" rel="noopener noreferrer">generator URL<\/a>/);
  const silence = /href="(http:\/\/alertmanager:9093\/#\/silences\/new\?filter=[^"]+)"/.exec(page)?.[1];
  t.ok(silence, 'a silence link');
  t.equal(
    decodeURIComponent(new URL(silence!.replace(/&amp;/g, '&')).hash.split('filter=')[1]!),
    '{alertname="DDoSAttack",instance="lb:443",job="edge"}',
  );
  t.match(page, /Opened as critical by rule critical-by-name/);
  for (const text of [
    '>Acknowledge</button>',
    '>Resolve</button>',
    '>Add note</button>',
    '>Save review</button>',
    '>Save checklist</button>',
    '<label for="note">Note</label>',
    '<label for="root-cause">Root cause of the incident</label>',
    'Immediate actions (first 5 minutes)',
    'After any incident',
    'STOP: take the affected systems offline',
  ]) {
    t.ok(page.includes(text), text);
  }
  // Every field has a visible label.
  const ids = [...page.matchAll(/<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
  const inputs = page.match(/<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*>/g)!;
  t.equal(ids.length, inputs.length, 'every field has an id');
  for (const id of ids) t.ok(page.includes(`<label for="${id}">`), `a label for ${id}`);
});

t.test('hostile labels and annotations stay inert', async (t) => {
  const { app } = await makeApp(t);
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'';
  const a = alert('Breach', {
    labels: { service: evil, category: 'data-breach' },
    annotations: { summary: evil, runbook_url: 'javascript:alert(3)', description: '<a href="javascript:alert(4)">x</a>' },
  });
  a.generatorURL = 'javascript:alert(5)';
  await postWebhook(app, payload(uniqueGroup(), [a], { externalURL: 'javascript:alert(6)//' }));
  const c = new WebClient(app);
  await c.signIn();
  for (const url of ['/incidents', '/incidents/1']) {
    const page = (await c.get(url)).body;
    t.notOk(page.includes('<script>alert'), `${url}: no script`);
    t.notOk(/<img/i.test(page), `${url}: no img`);
    t.notOk(/href="javascript:/i.test(page), `${url}: no javascript: link`);
    t.notOk(/\sonerror=/i.test(page.replace(/&lt;img src=x onerror=/g, '')), `${url}: no handler attribute`);
  }
  const page = (await c.get('/incidents/1')).body;
  t.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(page, /<code>javascript:alert\(5\)<\/code>/, 'the generator URL is shown as text');
  t.notOk(page.includes('Silence in Alertmanager'), 'no silence link to a javascript: externalURL');
});

t.test(
  'the incident page: alerts before the checklist, only the current section open, one Save checklist button, distinct labels',
  async (t) => {
    const { app } = await seeded(t);
    const c = new WebClient(app);
    await c.signIn();
    const page = (await c.get('/incidents/1')).body;
    t.ok(page.indexOf('<section id="alerts"') < page.indexOf('<section id="checklist"'), 'the alerts come before the checklist');
    t.ok(page.indexOf('<section id="paging"') < page.indexOf('<section id="alerts"'), 'who was paged stays above them');
    const sections = [...page.matchAll(/<details class="section"( open)?><summary><span class="section-name">([^<]+)<\/span>/g)];
    t.ok(sections.length >= 3, 'one <details> per section');
    t.same(
      sections.filter((m) => m[1]).map((m) => m[2]),
      ['Immediate actions (first 5 minutes)'],
      'only the first section not done yet is open',
    );
    t.notMatch(page, />Update<\/button>/, 'no Update button beside each box');
    t.equal(page.match(/>Save checklist<\/button>/g)?.length, 1, 'one Save checklist button');
    t.match(page, /<form id="checklist-save" method="post" action="\/incidents\/1\/checklist\/save" class="nojs"/);

    // Tick every step of the first section: the next one is the open one.
    const first = checklistSteps(page, 'Immediate actions (first 5 minutes)');
    t.ok(first.length > 1);
    t.equal((await c.post('/incidents/1/checklist/save', { shown: first[0], done: first[0] })).statusCode, 303);
    const form = new URLSearchParams({ _csrf: c.csrf });
    for (const step of first) {
      form.append('shown', step);
      form.append('done', step);
    }
    t.equal((await postForm(c, '/incidents/1/checklist/save', form)).statusCode, 303);
    const after = (await c.get('/incidents/1')).body;
    t.same(
      [...after.matchAll(/<details class="section" open><summary><span class="section-name">([^<]+)/g)].map((m) => m[1]),
      ['Containment (first hour)'],
    );
    t.match(
      after,
      new RegExp(`Immediate actions \\(first 5 minutes\\)</span> <span class="muted">${first.length} of ${first.length} done`),
    );

    // "Root cause identified" (a checklist step) and the review's field are told apart by their names.
    const labels = [...after.matchAll(/<label for="([^"]+)">([^<]+)<\/label>/g)].map((m) => m[2]!);
    const step = labels.find((l) => l === 'Root cause identified');
    const review = labels.find((l) => l.startsWith('Root cause') && l !== step);
    t.ok(step && review, `both labels: ${step} / ${review}`);
    t.notOk(
      review!.toLowerCase().includes(step!.toLowerCase()) || step!.toLowerCase().includes(review!.toLowerCase()),
      'neither name contains the other',
    );
  },
);

t.test('the list: a colour and a word per severity, the incident number and the team', async (t) => {
  const { parseConfig } = await import('../../../src/config/load-config.js');
  const { shippedConfigText, TEAMS_YAML } = await import('../../helpers.js');
  const { app } = await makeApp(t, { config: { triage: parseConfig(shippedConfigText(TEAMS_YAML), 'triage.yml') } });
  for (const [name, labels] of [
    ['DDoSAttack', {}],
    ['ServiceDown', { team: 'payments' }],
    ['HighMemoryUsage', {}],
    ['SlowAPI', {}],
  ] as const)
    await postWebhook(app, payload(uniqueGroup(), [alert(name, { labels })]));
  const c = new WebClient(app);
  await c.signIn();
  const list = (await c.get('/incidents')).body;
  const rows = [
    ...list.matchAll(
      /<li class="incident sev-(\w+)"><a href="\/incidents\/(\d+)"><span class="badge sev-\1">(\w+)<\/span> <span class="number">#\2<\/span>/g,
    ),
  ];
  t.same(
    rows.map((m) => [m[1], m[3]]),
    [
      ['low', 'Low'],
      ['medium', 'Medium'],
      ['high', 'High'],
      ['critical', 'Critical'],
    ],
    'each row says its severity in words, in a badge of its own colour',
  );
  t.match(
    list,
    /#2<\/span> <span class="title">ServiceDown[^<]*<\/span><\/a>\n<span class="meta"><span class="status">Open<\/span> · team Payments · opened/,
  );
  // Each severity's badge and border have a colour of their own in the stylesheet.
  const css = (await c.get('/static/app.css')).body;
  const colours = ['critical', 'high', 'medium', 'low'].map(
    (s) => new RegExp(`\\.badge\\.sev-${s}\\{background:(#[0-9a-f]+)`).exec(css)?.[1],
  );
  t.equal(new Set(colours).size, 4, `four badge colours: ${colours.join(' ')}`);
  const borders = ['critical', 'high', 'medium', 'low'].map(
    (s) => new RegExp(`li\\.incident\\.sev-${s}\\{border-left-color:(#[0-9a-f]+)`).exec(css)?.[1],
  );
  t.equal(new Set(borders).size, 4, `four border colours, more specific than li.incident's grey: ${borders.join(' ')}`);
});

t.test('the report: a link on the page, an HTML view (escaped) and a Markdown download, for signed-in people only', async (t) => {
  const { app } = await makeApp(t);
  const evil = '<script>alert(1)</script>';
  await postWebhook(
    app,
    payload(uniqueGroup(), [alert('DDoSAttack', { labels: { service: evil }, annotations: { summary: `spike ${evil}` } })]),
  );
  const c = new WebClient(app);
  t.match(
    (await c.get('/incidents/1/report')).headers.location,
    /^\/sign-in\?next=%2Fincidents%2F1%2Freport$/,
    'signed out: sign in first',
  );
  t.match((await c.get('/incidents/1/report.md')).headers.location, /^\/sign-in/);
  await c.signIn();
  t.match((await c.get('/incidents/1')).body, /<a class="link-button" href="\/incidents\/1\/report">Report<\/a>/);

  const view = await c.get('/incidents/1/report');
  t.equal(view.statusCode, 200);
  t.match(view.headers['content-type'], 'text/html');
  t.match(view.body, /<h2>Incident Report - \d{4}-\d\d-\d\d: DDoSAttack: spike &lt;script&gt;[^<]*<\/h2>/);
  t.match(view.body, /<div class="table-scroll"><table>/);
  t.match(view.body, /<h3>Timeline<\/h3>/);
  t.notMatch(view.body, '<script>alert', 'hostile text is never markup');
  t.match(view.body, '&lt;script&gt;alert(1)&lt;/script&gt;');
  t.match(view.body, /<a class="link-button" href="\/incidents\/1\/report.md" download="incident-1-report.md">Download Markdown<\/a>/);

  const md = await c.get('/incidents/1/report.md');
  t.equal(md.statusCode, 200);
  t.match(md.headers['content-type'], 'text/markdown; charset=utf-8');
  t.equal(md.headers['content-disposition'], 'attachment; filename="incident-1-report.md"');
  const apiReport = await app.inject({ method: 'GET', url: '/api/incidents/1/report', headers: { authorization: `Bearer ${API_TOKEN}` } });
  t.equal(md.body, apiReport.body, 'the same report as the API');
  t.equal((await c.get('/incidents/99/report')).statusCode, 404);
  t.equal((await c.get('/incidents/99/report.md')).statusCode, 404);
});

/** The steps of one checklist section, as the page lists them. */
function checklistSteps(page: string, section: string): string[] {
  const start = page.indexOf(`<span class="section-name">${section}</span>`);
  const end = page.indexOf('</details>\n</li></ul></details>', start);
  const block = page.slice(start, page.indexOf('</ul></details>', end === -1 ? start : end) + 1 || undefined);
  return [...block.matchAll(/name="shown" value="([^"]+)"/g)].map((m) =>
    m[1]!
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"'),
  );
}

/** Posts a form with repeated fields (WebClient.post takes one value per name). */
function postForm(c: WebClient, url: string, form: URLSearchParams) {
  return c.app.inject({
    method: 'POST',
    url,
    payload: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
}
/** The text of each timeline entry of a page, in the order shown. */
const timelineItems = (body: string) => {
  const section = /<section id="timeline"[\s\S]*?<\/section>/.exec(body)![0];
  return [...section.matchAll(/<li class="kind-[a-z_]+">([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
};
const olderLink = (body: string) =>
  /<a href="([^"]+)" rel="next" data-older>Show older entries<\/a>/.exec(body)?.[1]?.replace(/&amp;/g, '&');

t.test(
  'a long timeline: the newest 50 entries first, "Show older entries" without JavaScript reaches every one once; the reads are bounded',
  async (t) => {
    const counted = countingStore(new SqliteStore({ path: ':memory:' }));
    const { app, store } = await makeApp(t, { store: counted.store });
    await postWebhook(app, payload(uniqueGroup(), [alert('DDoSAttack')]));
    const lee = { name: 'Lee', via: 'api' } as const;
    for (let n = 1; n <= 130; n++) await store.updateIncident(1, (i) => addNote(i, lee, `note ${n}`, T0 + n * 1000));
    const whole = (await store.getIncident(1))!.timeline.length;
    const c = new WebClient(app);
    await c.signIn();

    counted.reset();
    const first = (await c.get('/incidents/1')).body;
    t.equal(largestRead(counted.calls), 100, 'no read of the page returns more than its alerts window (100) or a page of entries');
    const items = timelineItems(first);
    t.equal(items.length, 50, 'the newest 50');
    t.match(items[0], /Lee.*note 130/, 'newest first');
    t.match(items[49], /note 81/);
    const notes = /<div id="note-list"[\s\S]*?<\/div>/.exec(first)![0];
    t.equal([...notes.matchAll(/<li>/g)].length, 20, 'the newest 20 notes');
    t.match(notes, 'older ones are in the timeline');
    t.notMatch(first, 'Newest entries', 'already the newest');

    const seen = [...items];
    let next = olderLink(first);
    let pages = 1;
    while (next) {
      t.match(next, /^\/incidents\/1\?before=\d+-\d+#timeline$/);
      const body = (await c.get(next)).body;
      t.match(body, '<a href="/incidents/1#timeline">Newest entries</a>');
      seen.push(...timelineItems(body));
      next = olderLink(body);
      pages += 1;
    }
    t.equal(pages, 3);
    t.equal(seen.length, whole, 'every entry once');
    t.equal(new Set(seen).size, whole);
    t.match(seen.at(-1), /Opened/, 'the oldest last');
    t.equal((await c.get('/incidents/1?before=nonsense')).statusCode, 400);
  },
);

t.test('many alerts: 100 at a time, with the count and links to the next and previous ones', async (t) => {
  const { app } = await makeApp(t);
  const alerts = Array.from({ length: 250 }, (_, i) =>
    alert('InstanceDown', { fingerprint: `fp${String(i).padStart(4, '0')}`, labels: { instance: `host-${i}` } }),
  );
  await postWebhook(app, payload(uniqueGroup(), alerts));
  const c = new WebClient(app);
  await c.signIn();
  const alertsOf = (body: string) => [...body.matchAll(/<li class="alert">/g)].length;
  const first = (await c.get('/incidents/1')).body;
  t.equal(alertsOf(first), 100);
  t.match(first, 'Alerts (250)');
  t.match(first, 'Showing alerts 1–100 of 250.');
  t.match(first, '<a href="/incidents/1?alerts=100#alerts" rel="next">Next 100 alerts</a>');
  const third = (await c.get('/incidents/1?alerts=200')).body;
  t.equal(alertsOf(third), 50);
  t.match(third, 'Showing alerts 201–250 of 250.');
  t.match(third, '<a href="/incidents/1?alerts=100#alerts" rel="prev">Previous 100 alerts</a>');
  t.notMatch(third, 'Next');
  t.match(third, 'host-249');
  t.equal((await c.get('/incidents/1?alerts=-1')).statusCode, 400);
});
