import t from 'tap';
import { alert, makeApp, payload, postWebhook, uniqueGroup } from '../../helpers.js';
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
