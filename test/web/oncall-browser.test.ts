import type { AddressInfo } from 'node:net';
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { systemClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load-config.js';
import { alert, API_TOKEN, payload, postWebhook, shippedConfigText, TEAMS_YAML, uniqueGroup } from '../helpers.js';
import { needs } from '../monitoring/tools.js';
import { pagingApp } from '../notify/paging-helpers.js';

// Real Chromium: a responder takes a shift on /oncall; the page, the API and the next page's
// recipient agree. A swap asked by one person is accepted by the other in a second browser context.
const CHROMIUM = '/usr/bin/chromium';
const skip = needs(CHROMIUM, 'chromium');
const teamsConfig = parseConfig(shippedConfigText(TEAMS_YAML), 'teams.yml');

t.test('/oncall in Chromium: take a shift, swap with another person, at phone and desk widths', { skip }, async (t) => {
  // No PUBLIC_URL: the pages are served over plain http here, so the cookies must not be Secure.
  const { app, mail, drain } = await pagingApp(t, { triage: teamsConfig }, { clock: systemClock }, { publicUrl: undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const api = async (path: string) =>
    (await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as {
      current: { contact: { id: string }; override: boolean };
    };

  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  } catch (err) {
    t.fail(`Chromium did not start: ${(err as Error).message}`);
    return;
  }
  t.teardown(() => browser.close());
  const errors: string[] = [];
  const signIn = async (name: string, zone: string, width: number): Promise<Page> => {
    const context = await browser.newContext({ timezoneId: zone, viewport: { width, height: 900 } });
    const page = await context.newPage();
    // A missing resource is told by its response below (the browser asks for /favicon.ico on its own).
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/sign-in?next=/oncall/payments`);
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('API token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/oncall\/payments/);
    return page;
  };

  const before = (await api('/api/oncall?team=payments')).current.contact.id;
  const taker = before === 'alice' ? 'Bob Chen' : 'Alice Martin';
  const takerId = before === 'alice' ? 'bob' : 'alice';
  // The taker's browser is in New York: the page names Paris times and adds the browser's own.
  const page = await signIn(taker, 'America/New_York', 375);
  await page.screenshot({ path: '/tmp/oncall-375.png', fullPage: true });
  t.match(await page.locator('#viewer-zone').textContent(), /Yours, in America\/New_York, in brackets/);
  t.match(await page.locator('p.now .yours').first().textContent(), /\(yours: .+\)/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  t.ok(width <= 375, `no sideways scrolling at 375 px (${width})`);

  await page.getByRole('button', { name: 'Take this shift' }).first().click();
  await page.waitForURL(/done=taken/);
  t.match(await page.locator('p.now').textContent(), new RegExp(`${taker}.*override, taken by ${taker}`));
  t.match((await api('/api/oncall?team=payments')).current, { contact: { id: takerId }, override: true }, 'the API agrees');
  await postWebhook(app, payload(uniqueGroup(), [alert('ServiceDown', { labels: { team: 'payments' } })]));
  await drain();
  t.same(mail.received.at(-1)!.rcptTo, [`${takerId}@example.com`], "the next page's recipient agrees");

  // A swap: the taker offers their next own shift for the other person's; the other accepts in a second context.
  const other = before === 'alice' ? 'Alice Martin' : 'Bob Chen';
  await page.locator('form.swap').first().getByRole('button').click();
  await page.waitForURL(/done=asked/);
  const second = await signIn(other, 'Europe/Paris', 1280);
  t.match(await second.locator('#viewer-zone').textContent(), /same zone|that zone too/);
  await second.screenshot({ path: '/tmp/oncall-1280.png', fullPage: true });
  await second.getByRole('button', { name: 'Accept' }).click();
  await second.waitForURL(/done=accept/);
  t.match(await second.locator('#log').textContent(), new RegExp(`${other}\\s*accepted the swap`));
  t.same(errors, [], 'no script or CSP error');
});
