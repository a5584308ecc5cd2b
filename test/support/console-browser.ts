/**
 * What the console's browser tests share: Debian's Chromium (skipped without it, required in CI),
 * axe-core's verdict, screenshots for the README, and waiting for what is on screen to settle.
 */
import AxeBuilder from '@axe-core/playwright';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, Locator, Page, chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { App, createApp } from '../../src/app';
import { openTestDatabase, TestDatabase } from './database';
import { seedDemo } from './fixtures';
import { graphqlOverHttp } from './http-graphql';
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

export interface ConsoleServer {
  origin: string;
  /** A GraphQL request with a key (the admin key by default); fails on any error. */
  graphql: (query: string, variables?: Record<string, unknown>, key?: string) => Promise<any>;
  /** A new API key of a role; its secret. */
  createKey: (name: string, role: string, partnerId?: string) => Promise<string>;
  browser: Browser;
  database: TestDatabase;
  close: () => Promise<void>;
}

/** The production build (made again only when console/ or the schema changed), the demo data, a server, Chromium. */
export async function startConsoleServer(
  adminKey: string,
  demo: { devices: number; attempts: number },
): Promise<ConsoleServer> {
  execFileSync(process.execPath, [join(projectRoot(), 'scripts', 'build-if-stale.mjs'), 'console'], {
    stdio: 'inherit',
  });
  const database = await openTestDatabase();
  let app: App | undefined;
  let browser: Browser | undefined;
  try {
    await seedDemo(database.dataSource, demo.devices, demo.attempts);
    app = await createApp(database.dataSource, { ...database.settings, adminKey });
    const server: Server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const graphql = (query: string, variables: Record<string, unknown> = {}, key = adminKey) =>
      graphqlOverHttp(`${origin}/graphql`, key, query, variables);
    const createKey = async (name: string, role: string, partnerId?: string) => {
      const data = await graphql(
        `
          mutation ($input: CreateApiKeyInput!) {
            createApiKey(input: $input) {
              secret
              userErrors {
                message
              }
            }
          }
        `,
        { input: { name, role, ...(partnerId ? { partnerId } : {}) } },
      );
      if (data.createApiKey.userErrors.length) throw new Error(JSON.stringify(data.createApiKey.userErrors));
      return data.createApiKey.secret as string;
    };
    const started = { app, browser };
    return {
      origin,
      graphql,
      createKey,
      browser,
      database,
      close: async () => {
        await started.browser.close();
        await started.app.apollo.stop();
        await database.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await app?.apollo.stop();
    await database.close();
    throw error;
  }
}

export const visible = (locator: Locator, timeout = 15_000) => locator.first().waitFor({ timeout });
export const textOf = (locator: Locator) => locator.first().innerText();

export interface Tab {
  page: Page;
  /** Requests outside the server, errors in the page, console errors: what must stay empty. */
  problems: () => { outside: string[]; errors: string[] };
  close: () => Promise<void>;
}

/** A fresh tab (its own sessionStorage) in Berlin's time zone, watched for requests elsewhere and console errors. */
export async function openTab(server: ConsoleServer, allowedConsoleErrors: RegExp[] = []): Promise<Tab> {
  const context = await server.browser.newContext({
    viewport: { width: 1360, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  const page = await context.newPage();
  const outside: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(server.origin) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowedConsoleErrors.some((allowed) => allowed.test(message.text())))
      errors.push(`console: ${message.text()}`);
  });
  return { page, problems: () => ({ outside, errors }), close: () => context.close() };
}

export async function signIn(server: ConsoleServer, page: Page, secret: string) {
  await page.goto(`${server.origin}/console`);
  await page.getByLabel('API key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export function expectNoProblems(tab: Tab) {
  expect(tab.problems()).toEqual({ outside: [], errors: [] });
}
