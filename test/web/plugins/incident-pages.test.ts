import t from 'tap';
import { addNote } from '../../../src/incidents/incident-machine.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { alert, makeApp, payload, postWebhook, T0, uniqueGroup } from '../../helpers.js';
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
    '>Save</button>',
    '<label for="note">Note</label>',
    '<label for="root-cause">Root cause</label>',
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
