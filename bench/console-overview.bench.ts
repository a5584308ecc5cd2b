/**
 * The console's overview at scale: `npm run bench:console -- [--devices 200000] [--attempts 1000000]
 * [--screenshot console/screenshots/overview-1m.png] [--database /tmp/overview-1m.sqlite]` (add
 * DATABASE_URL=postgres://… for PostgreSQL). Seeds a fresh database with the demo generator (attempts
 * over 120 days) — or, with --database (SQLite), seeds that file once and reuses it on later runs, as
 * seeding a million attempts takes minutes and the figures only read — serves the console on it
 * and loads the overview in headless Chromium (/usr/bin/chromium) as an analyst, over the last 90
 * days of the data, five times after a warm-up: the time from navigation to the map and every figure
 * shown, the GraphQL requests it took, and the same for a click on a region. The same loads on the
 * demo-sized database (3,000 attempts) give the ratio. The database is dropped afterwards.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, Page } from 'playwright-core';
import { createApp } from '../src/app';
import { readSettings, Settings } from '../src/config';
import { openDatabase } from '../src/database';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { generateDemoData } from '../src/seeding/demo-data';
import { startProgress } from '../src/ops/progress';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200000' },
    attempts: { type: 'string', default: '1000000' },
    screenshot: { type: 'string' },
    database: { type: 'string' },
  },
});
const UNTIL = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const KEY = 'cgk_console-overview-bench-key-0123456789abcdef';
const day = (date: Date) => date.toISOString().slice(0, 10);
const WINDOW = `from=${day(new Date(UNTIL.getTime() - 90 * DAY))}&to=${day(new Date(UNTIL.getTime() - DAY))}`;

interface Load {
  shownMs: number;
  graphqlRequests: number;
}

/** Loads the overview and waits for the map's regions and the page's figures. */
async function loadOverview(page: Page, url: string): Promise<Load> {
  await page.goto(url);
  await page.locator('path[data-region]').first().waitFor({ timeout: 120_000 });
  await page.locator('table[aria-label^="Trend"] tfoot').waitFor({ timeout: 120_000 });
  await page.locator('table[aria-label="Top regions"] tbody tr').first().waitFor({ timeout: 120_000 });
  return page.evaluate(() => {
    const performance = (globalThis as any).performance;
    return {
      shownMs: Math.round(performance.now()),
      graphqlRequests: performance
        .getEntriesByType('resource')
        .filter((entry: { name: string }) => entry.name.endsWith('/graphql')).length,
    };
  });
}

/** A click on a region of the map until the page shows that region's trend. */
async function clickRegion(page: Page, code: string): Promise<number> {
  const started = Date.now();
  await page
    .getByRole('button', { name: new RegExp(`\\(${code}\\):`) })
    .first()
    .focus();
  await page.keyboard.press('Enter');
  await page.locator(`table[aria-label^="Trend in"]`).waitFor({ timeout: 120_000 });
  await page.locator('.overview-grid[aria-busy="false"]').waitFor({ timeout: 120_000 });
  return Date.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(
  label: string,
  settings: Settings,
  devices: number,
  attempts: number,
  screenshot?: string,
  reuse = false,
) {
  const dataSource = await openDatabase({ ...settings, seedDemoData: false }, () => undefined);
  const [{ count }] = reuse
    ? await dataSource.query('SELECT COUNT(*) AS count FROM activation_attempt')
    : [{ count: 0 }];
  if (Number(count) > 0) {
    if (Number(count) !== attempts) throw new Error(`--database holds ${count} attempts, not ${attempts}`);
  } else {
    await generateDemoData(dataSource, {
      devices,
      attempts,
      seed: 'console-overview-bench',
      until: UNTIL,
      days: 120,
      progress: startProgress(`${label} seeding`, attempts, { unit: 'attempts' }),
    });
  }
  const app = await createApp(dataSource, { ...settings, adminKey: KEY, logLevel: 'silent' });
  const server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    await page.goto(`${origin}/console`);
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const url = `${origin}/console/overview?${WINDOW}&interval=DAY&tz=UTC`;
    await loadOverview(page, url); // warm-up: the bundle and the shapes cached, the database's pages read
    const loads: Load[] = [];
    const clicks: number[] = [];
    for (let run = 0; run < 5; run++) {
      loads.push(await loadOverview(page, url));
      clicks.push(await clickRegion(page, 'IR'));
    }
    if (screenshot) {
      await loadOverview(page, `${origin}/console/overview?${WINDOW}&interval=WEEK&tz=UTC`);
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    return {
      shownMs: median(loads.map((load) => load.shownMs)),
      clickMs: median(clicks),
      graphqlRequests: Math.max(...loads.map((load) => load.graphqlRequests)),
    };
  } finally {
    await browser.close();
    await app.apollo.stop();
    await app.services.close();
    await dataSource.destroy();
  }
}

async function withDatabase<T>(work: (settings: Settings) => Promise<T>): Promise<T> {
  const base = readSettings();
  if (base.database.kind === 'postgres') {
    const created = await createTemporaryDatabase(base.database.url!, 'cg_console_bench');
    try {
      return await work({ ...base, database: { ...base.database, url: created.url } });
    } finally {
      await created.drop();
    }
  }
  const directory = mkdtempSync(join(tmpdir(), 'compliance-console-bench-'));
  try {
    return await work({ ...base, database: { ...base.database, sqlitePath: join(directory, 'bench.sqlite') } });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main() {
  const devices = Number(values.devices);
  const attempts = Number(values.attempts);
  const kind = readSettings().database.kind;
  const small = await withDatabase((settings) => measure('demo', settings, 200, 3_000));
  const large = values.database
    ? await measure(
        'large',
        { ...readSettings(), database: { ...readSettings().database, kind: 'sqlite', sqlitePath: values.database } },
        devices,
        attempts,
        values.screenshot,
        true,
      )
    : await withDatabase((settings) => measure('large', settings, devices, attempts, values.screenshot));
  const line = (label: string, figures: typeof small) =>
    `${label}: overview shown ${figures.shownMs} ms from navigation (${figures.graphqlRequests} GraphQL requests), a region click ${figures.clickMs} ms`;
  console.log(`console overview on ${kind}, median of 5, 90 days by day:`);
  console.log(line('  3,000 attempts', small));
  console.log(line(`  ${attempts.toLocaleString('en')} attempts`, large));
  console.log(
    `  ratio: load ${(large.shownMs / small.shownMs).toFixed(2)}, click ${(large.clickMs / small.clickMs).toFixed(2)}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
