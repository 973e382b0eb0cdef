import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { alert, API_TOKEN, makeApp, payload, postWebhook, uniqueGroup } from '../helpers.js';
import { openChromium, skipWithoutChromium } from './chromium.js';

// Real Chromium: a responder previews and posts a public update from the incident page; /status
// shows it and the component's status, the preview matches the public page, and hostile labels and
// notes (HTML, links, bidi controls) never reach /status. STATUS_SHOTS=dir keeps screenshots at
// 375 and 1280 px of both pages.
const skip = skipWithoutChromium();
const SHOTS = process.env['STATUS_SHOTS'];

t.test('the status page in Chromium', { skip }, async (t) => {
  const { app } = await makeApp(t, { clock: systemClock, config: { statusCacheMs: 0 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const evil = '<script>window.__xss=1</script><a href="https://evil.example/x">evil link</a> \u202Egnp.exe';
  const r = await postWebhook(
    app,
    payload(uniqueGroup(), [
      alert('ServiceDown', {
        startsAt: new Date().toISOString(),
        labels: { service: 'api', team_secret: evil },
        annotations: { summary: `internal summary ${evil}`, runbook_url: 'https://wiki.internal/runbook' },
      }),
    ]),
  );
  const id = r.json().incident.id as number;

  const { context, page } = await openChromium(t, { width: 1280, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Your name').fill('Carol Diaz');
  await page.getByLabel('API token').fill(API_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${base}/incidents/${id}`);
  await page.getByLabel('Note', { exact: true }).fill(`note ${evil}`);
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.goto(`${base}/incidents/${id}#status-page`);
  t.equal(await page.locator('#pc-api').inputValue(), 'partial_outage', 'the matching component is proposed');
  t.equal(
    await page.locator('nav').getByRole('link', { name: 'Status page' }).getAttribute('href'),
    '/status',
    'responders find the public page from the navigation',
  );
  if (SHOTS) {
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.locator('#status-page').screenshot({ path: join(SHOTS, `incident-form-${width}.png`) });
      await page.locator('nav').screenshot({ path: join(SHOTS, `nav-${width}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  await page.getByLabel(/Public title/).fill('API errors for some customers');
  await page.locator('#pu-message').fill('We are investigating elevated error rates on the API.\n\nNext update in 30 minutes.');
  await page.locator('#pc-api').selectOption('major_outage');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.waitForURL(`${base}/incidents/${id}/status-updates`);
  const previewText = await page
    .locator('#public-preview .incident-title, #public-preview .affects, #public-preview .update-body')
    .allInnerTexts();
  t.same(previewText, [
    'API errors for some customers',
    'Affects: API (major outage)',
    'We are investigating elevated error rates on the API.\n\nNext update in 30 minutes.',
  ]);
  await page.getByRole('button', { name: 'Post to the status page' }).click();
  await page.waitForURL(`${base}/incidents/${id}#status-page`);
  t.match(await page.locator('#status-page .public-updates').innerText(), /Investigating by carol: API errors for some customers/);

  await page.goto(`${base}/status`);
  const publicText = await page.locator('#active .incident-title, #active .affects, #active .update-body').allInnerTexts();
  t.same(publicText, previewText, 'the preview is what the public page shows');
  t.equal(await page.locator('#component-api .component-status').innerText(), 'Major outage');
  t.equal(await page.locator('.overall').innerText(), 'Major outage');
  const html = await page.content();
  t.notMatch(
    html,
    /evil|gnp|wiki\.internal|team_secret|internal summary|ServiceDown|note /,
    'no hostile label, annotation or note on /status',
  );
  t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  t.equal(await page.locator('a[href*="evil"]').count(), 0);
  t.same(errors, []);
  if (SHOTS)
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(SHOTS, `status-${width}.png`), fullPage: true });
    }
  // No JavaScript needed: the page and its form work without it.
  const noJs = await context.browser()?.newContext({ javaScriptEnabled: false });
  if (noJs) {
    const p = await noJs.newPage();
    await p.goto(`${base}/status`);
    t.equal(await p.locator('#component-api .component-status').innerText(), 'Major outage');
    await noJs.close();
  }
});
