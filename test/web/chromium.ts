// Real Chromium (Debian's) driven by playwright-core, as the browser tests start it: a throwaway
// profile, the flags this machine's closed network needs, stopped and removed at teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Teardown } from '../helpers.js';
import { needs } from '../monitoring/tools.js';

export const CHROMIUM = '/usr/bin/chromium';
/** false when Chromium can run here, else the skip message (a failure under CI). */
export const skipWithoutChromium = () => needs(CHROMIUM, 'chromium');

/** A persistent context at `viewport` on a fresh profile, with its first page. */
export async function openChromium(
  t: Teardown,
  viewport: { width: number; height: number },
): Promise<{ context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(join(tmpdir(), 'alert-triage-chromium-'));
  t.teardown(() => rmSync(profile, { recursive: true, force: true }));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport,
    });
  } catch (err) {
    throw new Error(`cannot start ${CHROMIUM} with playwright-core: ${(err as Error).message}`);
  }
  t.teardown(() => context.close());
  context.setDefaultTimeout(10_000);
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}
