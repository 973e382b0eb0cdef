import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { alert, API_TOKEN, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { openChromium, skipWithoutChromium } from './chromium.js';
import { ROOT } from '../monitoring/tools.js';

// Real Chromium (Debian's) driven by playwright-core: the pages as a responder's browser sees them,
// with the Content-Security-Policy, the cookies and the script in force.
const skip = skipWithoutChromium();
const SCREENSHOT = join(ROOT, 'docs', 'incident-page.png');

t.test('the incident pages in Chromium', { skip }, async (t) => {
  const { app } = await makeApp(t, { clock: systemClock });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, text: await res.text() };
  };

  const now = new Date().toISOString();
  // 1: an ordinary critical incident; 2: one for the replay; 3: one changed through the API.
  await postWebhook(
    app,
    payload(
      uniqueGroup(),
      [
        alert('DDoSAttack', {
          startsAt: now,
          labels: { instance: 'lb-1:443', service: 'edge' },
          annotations: { summary: 'Request flood on lb-1', runbook_url: 'https://runbooks.example.com/ddos' },
        }),
      ],
      { externalURL: 'http://alertmanager:9093' },
    ),
  );
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { startsAt: now })]));
  await postWebhook(app, payload(uniqueGroup(), [alert('HighErrorRate', { startsAt: now })]));
  // 4: hostile labels and annotations, long enough to test the phone width too.
  const evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  const hostile = alert('DataExfiltration', {
    startsAt: now,
    labels: { service: evil, pod: `checkout-${'x'.repeat(120)}` },
    annotations: {
      summary: evil,
      runbook_url: 'javascript:window.__xss=3',
      description: `" onmouseover="window.__xss=4" ${'y'.repeat(200)}`,
    },
  });
  hostile.generatorURL = 'javascript:window.__xss=5';
  await postWebhook(app, payload(uniqueGroup(), [hostile], { externalURL: 'http://alertmanager:9093' }));

  const { context, page } = await openChromium(t, { width: 1024, height: 900 });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') cspErrors.push(m.text());
  });

  await t.test('signed out → sign-in → the list → an incident', async (t) => {
    await page.goto(`${base}/`);
    t.match(page.url(), /\/sign-in\?next=/);
    await page.getByLabel('Your name').fill('Carol Diaz');
    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    t.match(await page.getByRole('alert').textContent(), /Wrong API token/);
    await page.getByLabel('API token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/incidents`);
    t.match(await page.locator('nav .who').textContent(), 'Signed in as Carol Diaz');
    t.equal(await page.locator('li.incident').count(), 4);
    await page.getByRole('link', { name: /DDoSAttack/ }).click();
    await page.waitForURL(`${base}/incidents/1`);
    t.match(await page.locator('h1').textContent(), 'DDoSAttack');
    t.match(await page.locator('#summary').textContent(), /Respond by .* in [45]m|in \d+s/);
  });

  await t.test('tick a step: the timeline says who and when', async (t) => {
    await page.getByLabel('PRESERVE: save all logs before anything else changes').check();
    // The script sends the tick as soon as the box changes; the page comes back with it recorded.
    await page.waitForURL(`${base}/incidents/1#checklist`);
    await page.locator('#timeline', { hasText: 'Done: PRESERVE: save all logs before anything else changes' }).waitFor();
    t.match(await page.locator('#timeline li.kind-checklist').textContent(), /\d{4}-\d\d-\d\d \d\d:\d\d UTC carol Done: PRESERVE/);
    t.ok(await page.getByLabel('PRESERVE: save all logs before anything else changes').isChecked());
    // With the script, the whole checklist's button (for pages without it) is hidden; its steps and the review's are told apart.
    t.notOk(await page.getByRole('button', { name: 'Save checklist' }).isVisible());
    t.equal(await page.getByLabel('Root cause identified').count(), 1);
    t.equal(await page.getByLabel('Root cause of the incident').count(), 1);
    t.match(await page.locator('li.step.done .by').textContent(), /✅ done by carol/);
  });

  await t.test('a note and a root cause, both in the report', async (t) => {
    await page.getByLabel('Note', { exact: true }).fill('Logs copied to /srv/incident-1');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('#note-list', { hasText: 'Logs copied to /srv/incident-1' }).waitFor();
    await page.getByLabel('Root cause of the incident').fill('A botnet hit the login endpoint');
    await page.getByLabel('Impact').fill('Checkout slow for 20 minutes');
    await page.getByRole('button', { name: 'Save review' }).click();
    await page.locator('#review-saved', { hasText: 'Saved by carol' }).waitFor();
    t.equal(await page.getByLabel('Root cause of the incident').inputValue(), 'A botnet hit the login endpoint');
    const report = await api('GET', '/api/incidents/1/report');
    t.match(report.text, /### Root Cause\nA botnet hit the login endpoint/);
    t.match(report.text, /Note: Logs copied to \/srv\/incident-1/);
    t.match(report.text, /- \[x\] PRESERVE: save all logs before anything else changes \(carol, /);
  });

  await t.test('Acknowledge', async (t) => {
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('#summary', { hasText: 'Acknowledged' }).waitFor();
    t.match(await page.locator('#summary').textContent(), /acknowledged by Carol Diaz/);
    t.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    t.match(JSON.parse((await api('GET', '/api/incidents/1')).text), { status: 'acknowledged', acknowledgedBy: 'Carol Diaz' });
  });

  await t.test('hostile labels stay inert', async (t) => {
    await page.goto(`${base}/incidents/4`);
    t.match(await page.locator('h1').textContent(), 'DataExfiltration');
    t.ok(await page.getByText('<script>window.__xss=1</script>', { exact: false }).first().isVisible(), 'the markup is shown as text');
    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no injected code ran');
    t.equal(await page.locator('main script, main img, [onerror], [onmouseover]').count(), 0);
    t.equal(await page.locator('a[href^="javascript:" i]').count(), 0, 'no javascript: link');
    t.equal(await page.locator('script').count(), 1, 'only the page’s own script');
    await page.getByText('Silence in Alertmanager').first().hover();
    t.same(dialogs, []);
    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  });

  await t.test('a cross-origin replay is refused', async (t) => {
    // Another origin (another port) that knows the form's shape, not its token.
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${base}/incidents/2/ack"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => attacker.close());
    const evilPage = await context.newPage();
    const refused = evilPage.waitForResponse((r) => r.url() === `${base}/incidents/2/ack`);
    await evilPage.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    t.equal((await refused).status(), 403);
    await evilPage.close();
    t.match(JSON.parse((await api('GET', '/api/incidents/2')).text), { status: 'open' }, 'nothing changed');
  });

  await t.test('a change made through the API appears on an open page, and on the list', async (t) => {
    await page.goto(`${base}/incidents/3`);
    t.match(await page.locator('#summary').textContent(), /Open/);
    const started = Date.now();
    t.equal((await api('POST', '/api/incidents/3/ack', { by: 'alice' })).status, 200);
    await page.locator('#summary', { hasText: 'acknowledged by alice' }).waitFor({ timeout: 8000 });
    t.ok(Date.now() - started < 8000, `shown ${Date.now() - started} ms after, without a reload`);
    await page.locator('#timeline', { hasText: 'Acknowledged by alice' }).waitFor({ timeout: 8000 });

    // A new incident committed after the list was rendered and before the script's first poll
    // reached the server (held here until the webhook is in): the list shows it without a reload.
    await page.route(
      '**/incidents/live**',
      async (route) => {
        await postWebhook(app, payload(uniqueGroup(), [alert('AuthBypassAttempt', { startsAt: new Date().toISOString() })]));
        await route.continue();
      },
      { times: 1 },
    );
    const rendered = await page.goto(`${base}/incidents`);
    // What the server rendered (the live script may already have swapped the list by now).
    t.notMatch(await rendered!.text(), /AuthBypassAttempt/, 'rendered before the webhook');
    await page.locator('#incident-list', { hasText: 'AuthBypassAttempt' }).waitFor({ timeout: 8000 });
    t.equal(await page.locator('li.incident').count(), 5);
  });

  await t.test('on a phone: 375 px wide, no sideways scrolling; the screenshot', async (t) => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const path of ['/incidents', '/incidents/1', '/incidents/4', '/incidents/1/report', '/sign-in']) {
      await page.goto(`${base}${path}`);
      t.ok(
        await page.evaluate(() => document.documentElement.scrollWidth <= 375),
        `${path}: scrollWidth ${await page.evaluate(() => document.documentElement.scrollWidth)} ≤ 375`,
      );
    }
    await page.goto(`${base}/incidents/1`);
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    t.pass(`screenshot written to ${SCREENSHOT}`);
  });

  t.same(
    cspErrors.filter((e) => /Content Security Policy/i.test(e)),
    [],
    'the page itself breaks no CSP rule',
  );
});
