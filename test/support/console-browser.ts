/**
 * What the console's browser tests share: Debian's Chromium (skipped without it, required in CI),
 * axe-core's verdict, screenshots for the README, and waiting for what is on screen to settle.
 */
import AxeBuilder from '@axe-core/playwright';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { projectRoot } from '../../src/config';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);
if (!haveChromium && process.env.CI)
  throw new Error(`CI needs Chromium at ${chromiumPath} (apt-get install -y chromium)`);
if (!haveChromium) console.warn(`console test skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

/** Headless Chromium as the brief launches it: no sandbox (root in CI), no GPU, nothing fetched by itself. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** axe-core on what is on screen: no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${what}: ${violation.id} (${violation.impact}) ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
  expect(serious).toEqual([]);
}

/** `npm run screenshots` keeps them in console/screenshots (linked from the README); other runs in /tmp. */
const screenshotDir = resolve(
  projectRoot(),
  process.env.CONSOLE_SCREENSHOTS ?? join(tmpdir(), 'compliance-console-screenshots'),
);

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Retries an assertion until it holds (what is on screen settles after requests), for up to `timeoutMs`. */
export async function eventually(assertion: () => unknown | Promise<unknown>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
