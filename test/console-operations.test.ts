/**
 * The console's operations pages as people use them (issue 17, part 2; live updates, issue 20): an
 * analyst's overview (map, trends, locked devices, review queue, CSV, live decisions), the review
 * queue's count moving without a reload, a sweep from dry run to 100%, and a partner's failed webhook
 * delivery redelivered. One server on the demo data and one headless Chromium for the whole file;
 * each page is checked against the same report asked directly through GraphQL, for requests that
 * leave the server, errors in the browser, and serious accessibility violations (axe-core).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Browser, Locator, Page } from 'playwright-core';
import { App, createApp } from '../src/app';
import { projectRoot } from '../src/config';
import { openTestDatabase, TestDatabase } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';
import { HttpsReceiver } from './support/https-receiver';
import { decideActivationWith } from './support/decisions';
import { graphqlOverHttp } from './support/http-graphql';
import {
  eventually as settle,
  expectAccessible,
  haveChromium,
  launchChromium,
  screenshot,
} from './support/console-browser';

const ADMIN_KEY = 'cgk_local-admin-key-for-the-operations-test-0123456789';
// The demo data's window (test/support/fixtures: 60 days up to FIXED_UNTIL), as whole UTC days.
const FROM_DAY = new Date(FIXED_UNTIL.getTime() - 60 * 86_400_000).toISOString().slice(0, 10);
const TO_DAY = new Date(FIXED_UNTIL.getTime() - 86_400_000).toISOString().slice(0, 10);
const WINDOW = { from: `${FROM_DAY}T00:00:00.000Z`, to: FIXED_UNTIL.toISOString() };
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
const SIMFEROPOL = { gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 } };

let database: TestDatabase;
let app: App;
let server: Server;
let browser: Browser;
let origin: string;
const receiver = new HttpsReceiver();
const keys: Record<string, string> = {};

const graphql = (query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY) =>
  graphqlOverHttp(`${origin}/graphql`, key, query, variables);

async function createKey(name: string, role: string) {
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
    { input: { name, role } },
  );
  expect(data.createApiKey.userErrors).toEqual([]);
  return data.createApiKey.secret as string;
}

/** An ACTIVE device (of a partner, when given) that the file has not used yet. */
const usedImeis = new Set<string>();
async function activeDevice(partnerId?: string): Promise<string> {
  const data = partnerId
    ? await graphql(
        `
          query ($id: ID!) {
            node(id: $id) {
              ... on Partner {
                devices(first: 50, statuses: [ACTIVE]) {
                  nodes {
                    imei
                  }
                }
              }
            }
          }
        `,
        { id: partnerId },
      )
    : await graphql('{ devices(first: 50, filter: { statuses: [ACTIVE] }) { nodes { imei } } }');
  const nodes: { imei: string }[] = partnerId ? data.node.devices.nodes : data.devices.nodes;
  const imei = nodes.map((node) => node.imei).find((candidate) => !usedImeis.has(candidate));
  if (!imei) throw new Error('no unused ACTIVE device');
  usedImeis.add(imei);
  return imei;
}

async function decide(imei: string, signals: object): Promise<string> {
  const data = await decideActivationWith(graphql, { imei, signals }, 'decision { outcome } userErrors { message }');
  expect(data.decideActivation.userErrors).toEqual([]);
  return data.decideActivation.decision.outcome;
}

/** What is on screen settles slowly on a loaded machine: 20 s. */
const eventually = (assertion: () => unknown | Promise<unknown>, timeoutMs = 20_000) => settle(assertion, timeoutMs);
const visible = (locator: Locator) => locator.first().waitFor({ timeout: 20_000 });
const textOf = (locator: Locator) => locator.first().innerText();
const numberIn = (text: string) => Number(text.replace(/[^\d]/g, ''));

interface Tab {
  page: Page;
  graphqlRequests: () => number;
  problems: () => { outside: string[]; errors: string[] };
  close: () => Promise<void>;
}

async function openTab(): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: 1360, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  const page = await context.newPage();
  const outside: string[] = [];
  const errors: string[] = [];
  let graphqlRequests = 0;
  page.on('request', (request) => {
    const url = request.url();
    if (url === `${origin}/graphql` && request.method() === 'POST') graphqlRequests++;
    if (
      !url.startsWith(origin) &&
      !url.startsWith('ws://127.0.0.1') &&
      !url.startsWith('data:') &&
      !url.startsWith('blob:')
    )
      outside.push(url);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return {
    page,
    graphqlRequests: () => graphqlRequests,
    problems: () => ({ outside, errors }),
    close: () => context.close(),
  };
}

async function signIn(page: Page, secret: string) {
  await page.goto(`${origin}/console`);
  await page.getByLabel('API key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Clicks a region on the map where a person would: a point inside its outline that nothing covers. */
async function clickRegion(page: Page, code: string) {
  const point = await page
    .locator(`path[data-region="${code}"]`)
    .first()
    .evaluate((path: any) => {
      const box = path.getBoundingClientRect();
      for (let row = 1; row < 20; row++)
        for (let column = 1; column < 20; column++) {
          const x = box.left + (box.width * column) / 20;
          const y = box.top + (box.height * row) / 20;
          if ((globalThis as any).document.elementFromPoint(x, y) === path) return { x, y };
        }
      return null;
    });
  if (!point) throw new Error(`no visible point of ${code} on the map`);
  await page.mouse.move(point.x, point.y);
  await page.mouse.click(point.x, point.y);
}

const TREND = `query ($filter: ActivationStatsFilter!, $interval: StatsInterval!, $timeZone: String!) {
  activationStats(filter: $filter, interval: $interval, timeZone: $timeZone) {
    rows { bucketStart attempts locks reviews monitorWouldLocks }
    totals { attempts devices locks reviews monitorWouldLocks }
  }
}`;
const LOCKED = `query ($filter: DeviceScopeFilter!) { lockedDeviceStats(filter: $filter, groupBy: [POLICY]) { totals { devices } rows { policy { title } devices } } }`;

// A page and its checks take a while on a loaded 2-core machine.
jest.setTimeout(150_000);

(haveChromium ? describe : describe.skip)('the console for analysts, sweeps and partners', () => {
  beforeAll(async () => {
    execFileSync(process.execPath, [join(projectRoot(), 'scripts', 'build-if-stale.mjs'), 'console'], {
      stdio: 'inherit',
    });
    await receiver.start();
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 200, 3000);
    app = await createApp(database.dataSource, {
      ...database.settings,
      adminKey: ADMIN_KEY,
      // Small batches with a pause between them: a sweep runs long enough to be watched and paused.
      sweeps: { batchSize: 2, leaseMs: 30_000, batchPauseMs: 300 },
      // One failed try ends a delivery (FAILED), the partner's endpoint is this machine's test receiver.
      webhooks: {
        maxAttempts: 2,
        retryBaseMs: 50,
        retryMaxMs: 200,
        timeoutMs: 2_000,
        caFile: receiver.caFile,
        allowPrivateAddresses: true,
      },
    });
    // As main starts them: deliveries are sent by the instance's background loop.
    app.services.webhooks.startPolling(200);
    server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    keys.analyst = await createKey('analyst', 'ANALYST');
    keys.support = await createKey('desk', 'SUPPORT');
    keys.author = await createKey('second author', 'POLICY_AUTHOR');
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await app?.apollo.stop();
    await app?.services.close();
    await database?.close();
    await receiver.stop();
  });

  it('an analyst filters the overview to a region by clicking the map: trend and locked devices become that region’s', async () => {
    const tab = await openTab();
    const { page } = tab;
    await signIn(page, keys.analyst!);
    const timeZone = 'Europe/Berlin';
    await page.goto(`${origin}/console/overview?from=${FROM_DAY}&to=${TO_DAY}&interval=WEEK&tz=${timeZone}`);
    const trendTable = page.getByRole('table', { name: 'Trend' });
    await visible(trendTable);
    await visible(page.locator('path[data-region="IR"]'));
    // This load's requests (the browser's resource timing starts anew with the page): the viewer, the
    // map's document and the rest of the page's; the shapes are a static file beside them.
    const load = await page.evaluate(() => {
      const performance = (globalThis as any).performance;
      const names: string[] = performance.getEntriesByType('resource').map((entry: { name: string }) => entry.name);
      return {
        graphql: names.filter((name) => name.endsWith('/graphql')).length,
        shapes: names.filter((name) => name.endsWith('/world-shapes.json')).length,
        dataShownMs: Math.round(performance.now()),
      };
    });
    expect(load.graphql).toBeLessThanOrEqual(3);
    expect(load.graphql + load.shapes).toBeLessThanOrEqual(4);
    expect(load.dataShownMs).toBeLessThan(15_000);
    console.log(`overview on the demo data: ${JSON.stringify(load)}`);

    const all = await graphql(TREND, { filter: WINDOW, interval: 'WEEK', timeZone });
    const totalRow = trendTable.locator('tfoot tr');
    await eventually(async () =>
      expect(numberIn((await totalRow.locator('td').allInnerTexts())[0]!)).toBe(all.activationStats.totals.attempts),
    );
    // Crimea and Sevastopol are regions of their own on the map, not part of any country.
    const byRegion = await graphql(
      `
        query ($filter: ActivationStatsFilter!) {
          activationStats(filter: $filter, groupBy: [REGION]) {
            rows {
              region {
                code
                name
              }
              attempts
            }
          }
        }
      `,
      { filter: WINDOW },
    );
    const subdivisions = byRegion.activationStats.rows.filter((row: any) =>
      ['UA-43', 'UA-40'].includes(row.region?.code),
    );
    expect(subdivisions.map((row: any) => row.region.code)).toContain('UA-43');
    for (const row of subdivisions)
      await visible(
        page.getByRole('button', {
          name: `${row.region.name} (${row.region.code}): ${row.attempts.toLocaleString('en')} attempts`,
          exact: false,
        }),
      );
    // Ukraine's own figures leave them out.
    const ukraine = byRegion.activationStats.rows
      .filter(
        (row: any) => row.region && /^UA(-|$)/.test(row.region.code) && !['UA-43', 'UA-40'].includes(row.region.code),
      )
      .reduce((sum: number, row: any) => sum + row.attempts, 0);
    await visible(
      page.getByRole('button', { name: `Ukraine (UA): ${ukraine.toLocaleString('en')} attempts`, exact: false }),
    );
    // A click on Ukraine filters the page to what the map calls Ukraine: the trend, the locked devices
    // and the CSV leave Crimea and Sevastopol out, as the API does when asked so.
    const mainland = { regionCodes: ['UA'], excludeRegionCodes: ['UA-43', 'UA-40'] };
    const ukraineTrend = await graphql(TREND, { filter: { ...WINDOW, ...mainland }, interval: 'WEEK', timeZone });
    const ukraineLocked = await graphql(LOCKED, { filter: mainland });
    expect(ukraineTrend.activationStats.totals.attempts).toBe(ukraine);
    await clickRegion(page, 'UA');
    await visible(
      page
        .getByRole('note')
        .filter({ hasText: 'leave out Sevastopol (UA-40) and Autonomous Republic of Crimea (UA-43)' }),
    );
    await eventually(async () => expect(numberIn((await totalRow.locator('td').allInnerTexts())[0]!)).toBe(ukraine));
    await eventually(async () =>
      expect(
        numberIn(
          await textOf(page.getByRole('region', { name: /^Devices locked now in/ }).locator('p.summary strong')),
        ),
      ).toBe(ukraineLocked.lockedDeviceStats.totals.devices),
    );
    const [ukraineCsv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Trend (CSV)' }).click(),
    ]);
    const csvLines = readFileSync((await ukraineCsv.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    const attemptsColumn = csvLines[0]!.split(',').indexOf('attempts');
    expect(csvLines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[attemptsColumn]), 0)).toBe(ukraine);
    // Its review queue is Ukraine's as the map draws it too: a review waiting in Crimea is not in it.
    expect(await decide(await activeDevice(), { ...SIMFEROPOL, sim: { mcc: '262', mnc: '01' } })).toBe('REVIEW');
    const openIn = async (filter: object) =>
      (await graphql('query ($filter: ReviewQueueFilter) { reviewQueue(filter: $filter) { totalCount } }', { filter }))
        .reviewQueue.totalCount as number;
    expect(await openIn({ regionCodes: ['UA-43'] })).toBeGreaterThan(0);
    const mainlandQueue = await openIn(mainland);
    await page.getByRole('link', { name: 'Open the queue' }).click();
    await eventually(() => expect(page.url()).toMatch(/\/reviews\?region=UA&without=UA-40%2CUA-43$/));
    await visible(page.getByRole('note').filter({ hasText: 'Leaves out UA-40 and UA-43' }));
    await eventually(async () => expect(numberIn(await textOf(page.locator('p.summary strong')))).toBe(mainlandQueue));
    await page.goBack();
    await page.getByRole('button', { name: 'Show all regions' }).click();
    await visible(page.getByRole('heading', { name: 'Overview', exact: true }));
    await expectAccessible(page, 'overview');
    await screenshot(page, 'overview');

    // Hover shows the region's figures; a click filters the page to it.
    const { name: iranName } = (await graphql('{ region(code: "IR") { name } }')).region;
    const iran = await graphql(TREND, { filter: { ...WINDOW, regionCodes: ['IR'] }, interval: 'WEEK', timeZone });
    const iranLocked = await graphql(LOCKED, { filter: { regionCodes: ['IR'] } });
    const allLocked = await graphql(LOCKED, { filter: {} });
    expect(iran.activationStats.totals.attempts).toBeLessThan(all.activationStats.totals.attempts);
    expect(iranLocked.lockedDeviceStats.totals.devices).toBeGreaterThan(0);
    await clickRegion(page, 'IR');
    await eventually(() => expect(page.url()).toMatch(/region=IR/));
    await visible(page.getByRole('heading', { name: `Overview: ${iranName}` }));
    expect(await textOf(page.locator('.map-hover'))).toContain(
      `${iranName} (IR): ${iran.activationStats.totals.attempts.toLocaleString('en')} attempts`,
    );
    const cells = async () => (await totalRow.locator('td').allInnerTexts()).map(numberIn);
    const { totals } = iran.activationStats;
    await eventually(async () =>
      expect(await cells()).toEqual([
        totals.attempts,
        totals.devices,
        totals.locks,
        totals.reviews,
        totals.monitorWouldLocks,
      ]),
    );
    const weekly = await page
      .getByRole('table', { name: `Trend in ${iranName}` })
      .locator('tbody tr td:first-of-type')
      .allInnerTexts();
    expect(weekly.map(numberIn)).toEqual(iran.activationStats.rows.map((row: any) => row.attempts));
    const lockedPanel = page.getByRole('region', { name: `Devices locked now in ${iranName}` });
    await eventually(async () =>
      expect(numberIn(await textOf(lockedPanel.locator('p.summary strong')))).toBe(
        iranLocked.lockedDeviceStats.totals.devices,
      ),
    );
    expect(iranLocked.lockedDeviceStats.totals.devices).toBeLessThan(allLocked.lockedDeviceStats.totals.devices);
    const byPolicy = page.getByRole('table', { name: 'Locked now by policy' });
    for (const row of iranLocked.lockedDeviceStats.rows)
      expect(await textOf(byPolicy.getByRole('row').filter({ hasText: row.policy.title }))).toContain(
        String(row.devices),
      );

    // The trend's CSV: the same report, same filter, from the CSV route.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Trend (CSV)' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(csv[0]).toMatch(/attempts/);
    expect(csv.length - 1).toBe(iran.activationStats.rows.length);

    // The region filter is in the URL: a reload keeps it; "Show all regions" lifts it.
    await page.reload();
    await visible(page.getByRole('heading', { name: `Overview: ${iranName}` }));
    await page.getByRole('button', { name: 'Show all regions' }).click();
    await visible(page.getByRole('heading', { name: 'Overview', exact: true }));
    expect(tab.problems()).toEqual({ outside: [], errors: [] });
    await tab.close();
  });

  it('live: a decision made through the API shows in the overview feed, and the review count moves without a reload', async () => {
    const analyst = await openTab();
    await signIn(analyst.page, keys.analyst!);
    await analyst.page.goto(`${origin}/console/overview?from=${FROM_DAY}&to=${TO_DAY}`);
    await visible(analyst.page.getByRole('heading', { name: 'Live decisions' }));
    const feed = analyst.page.getByRole('list', { name: 'Decisions, newest first' });

    const desk = await openTab();
    await signIn(desk.page, keys.support!);
    await desk.page.goto(`${origin}/console/reviews`);
    const count = desk.page.locator('p.summary strong').first();
    await visible(count);
    const waiting = numberIn(await textOf(count));
    const requestsBefore = desk.graphqlRequests();
    // Let both pages' subscriptions start before the decisions are made (events are not replayed).
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const locked = await activeDevice();
    expect(await decide(locked, HAVANA)).toBe('LOCK');
    await visible(feed.getByRole('listitem').filter({ hasText: locked }));
    expect(await textOf(feed.getByRole('listitem').filter({ hasText: locked }))).toContain('CU');

    const held = await activeDevice();
    expect(await decide(held, { ...HAVANA, sim: { mcc: '214', mnc: '07' } })).toBe('REVIEW');
    await eventually(async () => expect(numberIn(await textOf(count))).toBe(waiting + 1));
    await visible(feed.getByRole('listitem').filter({ hasText: held }));
    // No reload: the page re-read its list after the event, nothing else.
    expect(await desk.page.evaluate(() => (globalThis as any).performance.getEntriesByType('navigation').length)).toBe(
      1,
    );
    expect(desk.graphqlRequests()).toBeGreaterThan(requestsBefore);
    await screenshot(analyst.page, 'overview-live');
    expect(analyst.problems()).toEqual({ outside: [], errors: [] });
    expect(desk.problems()).toEqual({ outside: [], errors: [] });
    await analyst.close();
    await desk.close();
  });

  it('a sweep: the dry run counts, the real run reaches 100% on screen with the dry run’s counts, pausing and resuming on the way', async () => {
    // A new enforced LOCK policy for France: phones activated there before it wait for a sweep.
    const created = await graphql(`
      mutation {
        createPolicy(
          input: {
            key: "france-console-sweep"
            title: "France (sweep test)"
            description: "d"
            legalBasis: "l"
            action: LOCK
            mode: ENFORCE
            effectiveFrom: "2025-01-01T00:00:00Z"
            regionCodes: ["FR"]
            lockMessage: "Not for this market"
          }
        ) {
          policy {
            id
          }
          userErrors {
            message
          }
        }
      }
    `);
    expect(created.createPolicy.userErrors).toEqual([]);
    const activated = await graphql(
      `
        mutation ($id: ID!) {
          activatePolicy(input: { id: $id }) {
            changeRequest {
              id
            }
            userErrors {
              message
            }
          }
        }
      `,
      { id: created.createPolicy.policy.id },
    );
    expect(activated.activatePolicy.userErrors).toEqual([]);
    if (activated.activatePolicy.changeRequest) {
      const approved = await graphql(
        `
          mutation ($id: ID!) {
            approvePolicyChange(input: { id: $id, comment: "checked" }) {
              userErrors {
                message
              }
            }
          }
        `,
        { id: activated.activatePolicy.changeRequest.id },
        keys.author,
      );
      expect(approved.approvePolicyChange.userErrors).toEqual([]);
    }

    const tab = await openTab();
    const { page } = tab;
    await signIn(page, ADMIN_KEY);
    await page.getByRole('link', { name: 'Sweeps' }).click();
    const form = page.getByRole('form', { name: 'Start a sweep' });
    await visible(form);
    await form.getByLabel('Policy').selectOption('france-console-sweep');
    await form.getByLabel('Action').selectOption('LOCK_ACTIVE_DEVICES');
    await form.getByLabel('Note (why)').fill('France added to the restricted markets');
    await form.getByRole('button', { name: 'Dry run' }).click();
    const preview = page.getByRole('region', { name: 'Dry run result' });
    await visible(preview);
    const summary = await textOf(preview.getByRole('status'));
    const [, changed, total] = /(\d+) of (\d+) devices/.exec(summary)!.map(Number);
    expect(changed).toBeGreaterThanOrEqual(4);
    const byRegion = await preview
      .getByRole('table', { name: /by region/ })
      .locator('tbody tr')
      .allInnerTexts();
    expect(byRegion.join('\n')).toContain(`(FR)\t${changed}`);
    await visible(preview.getByRole('list', { name: 'Sample devices' }).getByRole('link'));
    await expectAccessible(page, 'sweep dry run');
    await screenshot(page, 'sweeps-dry-run');
    // The dry run wrote nothing: still no sweep, the devices still ACTIVE.
    expect((await graphql('{ sweeps(first: 1) { totalCount } }')).sweeps.totalCount).toBe(0);

    await preview.getByRole('button', { name: `Run it for real (${changed} devices)` }).click();
    const progress = page.getByRole('status').filter({ hasText: 'processed' });
    await visible(progress);
    await eventually(() => expect(page.url()).toMatch(/sweep=/));
    // Pause while it runs (batches of 2, 300 ms apart), then resume.
    await page.getByRole('button', { name: 'Pause' }).click();
    await visible(page.getByRole('heading', { name: /Sweep of france-console-sweep/ }).getByText('PAUSED'));
    const pausedAt = numberIn(/processed (\d+)/.exec(await textOf(progress))![1]!);
    expect(pausedAt).toBeLessThan(total!);
    // Until it completes the total may be an estimate, and the page says so.
    expect(await textOf(progress)).toContain(`of about ${total} ·`);
    await page.getByRole('button', { name: 'Resume' }).click();
    await visible(page.getByRole('heading', { name: /Sweep of france-console-sweep/ }).getByText('COMPLETED'));
    await eventually(async () =>
      expect(await textOf(progress)).toContain(`processed ${total} of ${total} · changed ${changed} · failed 0`),
    );
    expect(await textOf(progress)).toMatch(/^100%/);
    const changedByRegion = await page
      .getByRole('table', { name: /changed, by region/ })
      .locator('tbody tr')
      .allInnerTexts();
    expect(changedByRegion).toEqual(byRegion);
    await expectAccessible(page, 'sweep progress');
    await screenshot(page, 'sweeps');
    const sweep = await graphql('{ sweeps(first: 1) { nodes { status changed total processed } } }');
    expect(sweep.sweeps.nodes[0]).toEqual({ status: 'COMPLETED', changed, total, processed: total });
    expect(tab.problems()).toEqual({ outside: [], errors: [] });
    await tab.close();
  });

  it('an admin registers a partner’s webhook endpoint (secret shown once), sees a failed delivery with its tries, redelivers it and disables the endpoint', async () => {
    const partners = await graphql('{ partners(first: 5) { nodes { id name } } }');
    const partner = partners.partners.nodes[0];
    const tab = await openTab();
    const { page } = tab;
    await signIn(page, ADMIN_KEY);
    await page.getByRole('link', { name: 'Partners' }).click();
    await page.getByRole('table', { name: 'Partners' }).getByRole('link', { name: partner.name }).click();
    await visible(page.getByRole('heading', { name: partner.name }));
    await visible(page.getByRole('table', { name: `Devices of ${partner.name}` }).getByRole('link'));

    const form = page.getByRole('form', { name: 'Register a webhook endpoint' });
    // A plain-HTTP URL is refused beside its field.
    await form.getByLabel('HTTPS URL').fill('http://partner.example/hooks');
    await form.getByRole('button', { name: 'Register endpoint' }).click();
    await visible(form.locator('.field').filter({ hasText: 'HTTPS URL' }).getByText('url must use https'));
    await form.getByLabel('HTTPS URL').fill(receiver.url);
    await form.getByLabel('Description (optional)').fill('carrier lock feed');
    await form.getByRole('button', { name: 'Register endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: `Endpoint ${receiver.url} registered` });
    await visible(dialog);
    expect((await textOf(dialog.getByLabel("The endpoint's signing secret"))).trim().length).toBeGreaterThan(20);
    await expectAccessible(page, 'endpoint secret dialog');
    await dialog.getByRole('button', { name: 'I have passed it on' }).click();

    // The endpoint answers 500 to both tries of the next event: the delivery fails.
    receiver.answers = [500, 500];
    const imei = await activeDevice(partner.id);
    expect(await decide(imei, HAVANA)).toBe('LOCK');
    await page.getByRole('link', { name: receiver.url }).click();
    await page.getByLabel('Delivery status').selectOption('FAILED');
    const failed = page.getByRole('listitem', { name: `Device locked ${imei}: FAILED` });
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await failed.waitFor({ timeout: 1_000 });
    });
    const tries = failed.getByRole('table', { name: `Tries of the delivery of ${imei}` }).locator('tbody tr');
    expect(await tries.count()).toBe(2);
    expect(await tries.allInnerTexts()).toEqual([
      expect.stringMatching(/\t500\t\d+ ms\t/),
      expect.stringMatching(/\t500\t\d+ ms\t/),
    ]);
    await expectAccessible(page, 'partner deliveries');

    // Redelivered: the endpoint now answers 200.
    await failed.getByRole('button', { name: 'Redeliver' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Redelivery queued' }));
    await page.getByLabel('Delivery status').selectOption('DELIVERED');
    const delivered = page.getByRole('listitem', { name: `Device locked ${imei}: DELIVERED` });
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await delivered.waitFor({ timeout: 1_000 });
    });
    expect(await textOf(delivered)).toContain('a redelivery');
    expect(
      receiver.received.filter((request) => request.body.includes(imei)).map((request) => request.answered),
    ).toEqual([500, 500, 200]);
    await screenshot(page, 'partners');

    // Disabled after confirming.
    await page.getByRole('button', { name: `Disable ${receiver.url}…` }).click();
    const confirm = page.getByRole('dialog', { name: `Disable ${receiver.url}?` });
    await visible(confirm);
    await expectAccessible(page, 'disable endpoint dialog');
    await confirm.getByRole('button', { name: 'Disable the endpoint' }).click();
    await visible(page.getByRole('row').filter({ hasText: receiver.url }).getByText('disabled'));
    expect(tab.problems()).toEqual({ outside: [], errors: [] });
    await tab.close();
  });
});
