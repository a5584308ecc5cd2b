import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Browser, chromium } from 'playwright-core';
import { App, createApp } from '../src/app';
import { openTestDatabase, TestDatabase } from './support/database';
import { seedDemo } from './support/fixtures';

const LOCAL_ADMIN_KEY = 'cgk_local-admin-key-for-the-ide-test-0123456789';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium && process.env.CI)
  throw new Error(`CI needs Chromium at ${chromiumPath} (apt-get install -y chromium)`);
if (!haveChromium) console.warn(`IDE test skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

/** Opens the IDE as a person would, in headless Chromium, and runs its example query. */
(haveChromium ? describe : describe.skip)('GraphQL IDE in a browser', () => {
  let database: TestDatabase;
  let app: App;
  let server: Server;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 200, 3000);
    // As `npm start` does outside production: the page served to this machine carries the admin key.
    app = await createApp(database.dataSource, { ...database.settings, adminKey: LOCAL_ADMIN_KEY });
    server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.apollo.stop();
    await database?.close();
  });

  it('loads from this server only, shows the schema docs, runs the example query and shows data', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });

    await page.goto(`${origin}/graphql`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
    // The editor fills in after the button shows up (Monaco loads its own chunks): wait for the example query.
    await page.locator('.graphiql-query-editor', { hasText: 'LockedDevices' }).waitFor({ timeout: 30_000 });

    const answer = page.waitForResponse(
      (response) =>
        response.request().method() === 'POST' && (response.request().postData() ?? '').includes('LockedDevices'),
    );
    await page.click('.graphiql-execute-button');
    const response = await answer;
    expect(await response.request().headerValue('authorization')).toBe(`Bearer ${LOCAL_ADMIN_KEY}`);
    const body = await response.json();
    expect(body.errors).toBeUndefined();
    expect(body.data.region.name).toBe('Autonomous Republic of Crimea');
    expect(body.data.devices.totalCount).toBeGreaterThan(0);
    await page.locator('.result-window', { hasText: 'totalCount' }).waitFor({ timeout: 30_000 });
    const result = await page.locator('.result-window').innerText();
    expect(result).toContain('"imei"');
    expect(result).toContain('"LOCKED"');
    expect(result).not.toContain('"errors"');

    // The documentation explorer lists the root fields the schema describes.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('text=Query', { timeout: 10_000 });

    await page.screenshot({ path: join(tmpdir(), 'compliance-graph-ide.png') });
    const outside = requested.filter(
      (url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'),
    );
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
    // Only the browser's own favicon probe may miss.
    expect(failed.filter((line) => !line.endsWith('/favicon.ico'))).toEqual([]);
  });
});
