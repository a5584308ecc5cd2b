/**
 * The operations console as people use it: a real server on a test database with the demo data, the
 * production build of console/, headless Chromium. Each test reads what is on screen (roles, labels,
 * text) and fails on a request that leaves the server, an error in the browser's console, or a
 * serious accessibility violation (axe-core) on a page or dialog it opens.
 */
import { execFileSync } from 'node:child_process';
import { Server, get } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Browser, Locator, Page } from 'playwright-core';
import { App, createApp } from '../src/app';
import { projectRoot } from '../src/config';
import { openTestDatabase, TestDatabase } from './support/database';
import { seedDemo } from './support/fixtures';
import { decideActivationWith } from './support/decisions';
import { graphqlOverHttp } from './support/http-graphql';
import { eventually, expectAccessible, haveChromium, launchChromium, screenshot } from './support/console-browser';

const LOCAL_ADMIN_KEY = 'cgk_local-admin-key-for-the-console-test-0123456789';
let database: TestDatabase;
let app: App;
let server: Server;
let browser: Browser;
let origin: string;
const keys: Record<string, { id: string; secret: string }> = {};
let heldImei: string;
let heldAttemptId: string;
const timings: Record<string, Record<string, number>> = {};

const graphql = (query: string, variables: Record<string, unknown> = {}, key = LOCAL_ADMIN_KEY) =>
  graphqlOverHttp(`${origin}/graphql`, key, query, variables);

async function createKey(name: string, role: string, partnerId?: string) {
  const data = await graphql(
    `
      mutation ($input: CreateApiKeyInput!) {
        createApiKey(input: $input) {
          apiKey {
            id
          }
          secret
          userErrors {
            message
          }
        }
      }
    `,
    { input: { name, role, ...(partnerId ? { partnerId } : {}) } },
  );
  expect(data.createApiKey.userErrors).toEqual([]);
  return { id: data.createApiKey.apiKey.id, secret: data.createApiKey.secret };
}

const visible = (locator: Locator) => locator.first().waitFor({ timeout: 15_000 });
const textOf = (locator: Locator) => locator.first().innerText();

interface Session {
  page: Page;
  /** Requests outside the server, errors in the page, console errors: what must stay empty. */
  problems: () => { outside: string[]; errors: string[] };
  close: () => Promise<void>;
}

/** A fresh tab (its own sessionStorage), watched for requests elsewhere and console errors. */
async function openTab(allowedConsoleErrors: RegExp[] = []): Promise<Session> {
  const context = await browser.newContext({
    viewport: { width: 1360, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  const page = await context.newPage();
  const outside: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowedConsoleErrors.some((allowed) => allowed.test(message.text())))
      errors.push(`console: ${message.text()}`);
  });
  return { page, problems: () => ({ outside, errors }), close: () => context.close() };
}

async function signIn(page: Page, secret: string) {
  await page.goto(`${origin}/console`);
  const field = page.getByLabel('API key');
  await field.fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The browser's navigation timing and the moment the page's data showed, in ms from navigation start. */
async function measure(page: Page, name: string, dataShown: () => Promise<unknown>) {
  await dataShown();
  const figures = await page.evaluate(() => {
    const performance = (globalThis as any).performance;
    const navigation = performance.getEntriesByType('navigation')[0];
    return {
      domInteractive: Math.round(navigation.domInteractive),
      domContentLoaded: Math.round(navigation.domContentLoadedEventEnd),
      load: Math.round(navigation.loadEventEnd),
      dataShown: Math.round(performance.now()),
      graphqlRequests: performance
        .getEntriesByType('resource')
        .filter((entry: { name: string }) => entry.name.endsWith('/graphql')).length,
    };
  });
  timings[name] = figures;
  return figures;
}

function expectNoProblems(session: Session) {
  expect(session.problems()).toEqual({ outside: [], errors: [] });
}

// A test drives a few pages and their checks: on a loaded 2-core machine that outlasts jest's default minute.
jest.setTimeout(150_000);

(haveChromium ? describe : describe.skip)('the operations console in a browser', () => {
  // Up to five minutes: a build on a cold checkout (no `npm ci` prepare ran) outlasts a test's default 60 s.
  beforeAll(async () => {
    // The production build, made once (and again only when console/ or the schema changed).
    execFileSync(process.execPath, [join(projectRoot(), 'scripts', 'build-if-stale.mjs'), 'console'], {
      stdio: 'inherit',
    });
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 200, 3000);
    app = await createApp(database.dataSource, { ...database.settings, adminKey: LOCAL_ADMIN_KEY });
    server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    keys.support = await createKey('desk agent', 'SUPPORT');
    // A held activation with a GPS fix: in Cuba by GPS, a Spanish SIM — the signals disagree, a person decides.
    const device = await graphql('{ devices(first: 1, filter: { statuses: [ACTIVE] }) { nodes { imei } } }');
    heldImei = device.devices.nodes[0].imei;
    const decided = await decideActivationWith(
      graphql,
      {
        imei: heldImei,
        signals: { gps: { latitude: 23.11, longitude: -82.37, accuracyMeters: 1500 }, sim: { mcc: '214', mnc: '07' } },
      },
      'decision { outcome } attempt { id }',
    );
    expect(decided.decideActivation.decision.outcome).toBe('REVIEW');
    heldAttemptId = decided.decideActivation.attempt.id;
    keys.analyst = await createKey('auditor', 'ANALYST');
  }, 300_000);
  afterAll(async () => {
    if (Object.keys(timings).length)
      console.log(`console navigation timings (ms): ${JSON.stringify(timings, null, 1)}`);
    await browser?.close();
    await app?.apollo.stop();
    await database?.close();
  });

  it('a support agent works the review queue: a lock needs a reason, the review leaves the queue, the next opens', async () => {
    const tab = await openTab();
    const { page } = tab;
    await signIn(page, keys.support!.secret);
    await visible(page.getByRole('heading', { name: 'Review queue' }));
    // A shared link: the queue filtered to Cuba, one review open.
    await page.goto(`${origin}/console/reviews?region=CU&review=${encodeURIComponent(heldAttemptId)}`);
    const summary = page.locator('p.summary');
    await eventually(async () => expect(await textOf(summary)).toContain('open reviews'));
    const before = Number(await summary.locator('strong').first().innerText());
    expect(before).toBeGreaterThanOrEqual(2);
    await eventually(async () => expect(await textOf(summary)).toContain('oldest waiting'));

    // The review shows its evidence: the map with the fix, the signals, the policies considered.
    const review = page.getByRole('region', { name: /Review of/ });
    await visible(review);
    const imei = heldImei;
    await eventually(async () => expect(await textOf(review.getByRole('heading'))).toBe(`Review of ${imei}`));
    await visible(review.getByText('214-07 is Movistar'));
    await visible(review.getByText('Policies considered'));
    const evidenceMap = review.getByRole('img', { name: /Map: GPS fix/ });
    await visible(evidenceMap);
    await eventually(async () =>
      expect(await evidenceMap.getAttribute('aria-label')).toMatch(/accuracy 1500 m, with the outline of Cuba \(CU\)$/),
    );
    // Cuba is Natural Earth's outline, as on the world map (country-coder's was a four-sided box).
    let cubaPoints = 0;
    for (const path of await evidenceMap.locator('path.region').all())
      cubaPoints += ((await path.getAttribute('d')) ?? '').split('L').length;
    expect(cubaPoints).toBeGreaterThan(100);
    await expectAccessible(page, 'review queue');
    await screenshot(page, 'review-queue');

    // Keyboard: k opens the previous review, j the next one.
    const heading = review.getByRole('heading').first();
    await page.keyboard.press('k');
    await eventually(async () => expect(await textOf(heading)).not.toBe(`Review of ${imei}`));
    await page.keyboard.press('j');
    await eventually(async () => expect(await textOf(heading)).toBe(`Review of ${imei}`));

    // No reason, no lock: the error stands beside the field.
    await review.getByRole('button', { name: 'Lock device' }).click();
    await visible(review.getByText('A reason is required'));
    await review.getByLabel('Reason (required)').fill('GPS fix in Havana; the customer confirmed the phone is there');
    await review.getByRole('button', { name: 'Lock device' }).click();
    await visible(page.getByRole('status').filter({ hasText: `Resolved: device ${imei} is now LOCKED` }));
    // The next review is open and the queue lost one.
    await eventually(async () => expect(await textOf(summary.locator('strong').first())).toBe(String(before - 1)));
    const nextHeading = page
      .getByRole('region', { name: /Review of/ })
      .getByRole('heading')
      .first();
    await eventually(async () => expect(await textOf(nextHeading)).not.toBe(`Review of ${imei}`));
    await eventually(async () =>
      expect(
        await page
          .getByRole('table', { name: /Open reviews/ })
          .getByText(imei)
          .count(),
      ).toBe(0),
    );

    // The device is locked now, as the server says.
    const device = await graphql(`{ device(imei: "${imei}") { status lockReason } }`);
    expect(device.device.status).toBe('LOCKED');

    // Filters live in the URL: a reload keeps them.
    await page.getByLabel('Waiting').selectOption('1d');
    await eventually(() => expect(page.url()).toMatch(/olderThan=1d/));
    await page.reload();
    await eventually(async () => expect(await page.getByLabel('Waiting').inputValue()).toBe('1d'));
    await eventually(async () => expect(await textOf(page.locator('p.summary'))).toContain('open'));

    // A fresh load of the queue: navigation timing, and the moment the queue's rows show.
    await page.goto(`${origin}/console/reviews`);
    const figures = await measure(page, 'review queue', () =>
      page
        .getByRole('region', { name: /Review of/ })
        .getByText('Reason codes')
        .waitFor(),
    );
    expect(figures.dataShown).toBeLessThan(10_000);
    expect(figures.graphqlRequests).toBeLessThanOrEqual(3);
    expectNoProblems(tab);
    await tab.close();
  });

  it('a support agent finds a locked device by IMEI, reads why, unlocks it with a reason; an analyst finds the unlock in the audit log and is offered no unlock', async () => {
    const locked = await graphql(
      '{ devices(first: 5, filter: { statuses: [LOCKED] }) { nodes { imei lockedByAttempt { policyVersion { policy { key } } } } } }',
    );
    const imei: string = locked.devices.nodes.find((node: any) => node.imei !== heldImei).imei;
    const wrongDigit = `${imei.slice(0, 14)}${(Number(imei[14]) + 1) % 10}`;

    const tab = await openTab();
    const { page } = tab;
    await signIn(page, keys.support!.secret);
    await page.getByRole('link', { name: 'Devices' }).click();
    await visible(page.getByRole('heading', { name: 'Devices' }));
    // The check digit is checked as the IMEI is typed.
    await page.getByLabel('IMEI').fill(wrongDigit);
    await visible(page.getByText(`The check digit does not match: it should be ${imei[14]}.`));
    await page.getByLabel('IMEI').fill(imei);
    await page.getByRole('button', { name: 'Open device' }).click();

    await visible(page.getByRole('heading', { name: `Device ${imei}` }));
    await visible(page.getByText('Why it is locked'));
    await visible(page.getByText(/export-restricted-territories v1/));
    await visible(page.getByText('Activation attempts, newest first'));
    // An attempt opens to its evidence. (Demo devices may have attempts after their lock on the first page, decided
    // otherwise: the newest attempt is the one opened, whatever its outcome.)
    await page.locator('details summary').first().click();
    await visible(page.locator('details[open]').getByText('Resolved region'));
    await expectAccessible(page, 'device');
    await screenshot(page, 'device');

    // A fresh load of the device page: navigation timing, and the moment its data shows.
    await page.reload();
    const figures = await measure(page, 'device', () => visible(page.getByText('Activation attempts, newest first')));
    expect(figures.dataShown).toBeLessThan(10_000);
    expect(figures.graphqlRequests).toBeLessThanOrEqual(3);

    await page.getByRole('button', { name: 'Unlock device…' }).click();
    const dialog = page.getByRole('dialog', { name: `Unlock device ${imei}` });
    await visible(dialog);
    await expectAccessible(page, 'unlock dialog');
    await dialog.getByRole('button', { name: 'Unlock' }).click();
    await visible(dialog.getByText('A reason is required'));
    await dialog.getByLabel('Reason (required)').fill('Customer travelled back home; ticket 4711');
    await dialog.getByRole('button', { name: 'Unlock' }).click();
    await visible(page.getByRole('status').filter({ hasText: `Device ${imei} unlocked: now ACTIVE` }));
    await eventually(async () =>
      expect(await textOf(page.getByRole('heading', { name: `Device ${imei}` }))).toContain('ACTIVE'),
    );
    await visible(
      page.getByRole('list', { name: /Status history/ }).getByText('Customer travelled back home; ticket 4711'),
    );
    expectNoProblems(tab);
    await tab.close();

    // An analyst reads the device, is offered no unlock, and follows the link to its audit events.
    const analystTab = await openTab();
    const analyst = analystTab.page;
    await signIn(analyst, keys.analyst!.secret);
    await analyst.goto(
      `${origin}/console/devices/${locked.devices.nodes.find((node: any) => node.imei !== heldImei && node.imei !== imei).imei}`,
    );
    await visible(analyst.getByText('Why it is locked'));
    expect(await analyst.getByRole('button', { name: /Unlock/ }).count()).toBe(0);
    await analyst.goto(`${origin}/console/devices/${imei}`);
    await analyst.getByRole('link', { name: 'Audit events of this device' }).click();
    await visible(analyst.getByRole('heading', { name: 'Audit log' }));
    const unlockEvent = analyst.getByRole('listitem').filter({ hasText: 'device.unlock' });
    await visible(unlockEvent);
    expect(await textOf(unlockEvent)).toContain('desk agent (SUPPORT)');
    // Before and after, field by field.
    const statusRow = unlockEvent.getByRole('row').filter({ hasText: 'status' }).first();
    expect(await textOf(statusRow)).toMatch(/LOCKED.*ACTIVE/s);
    await expectAccessible(analyst, 'audit log');
    await screenshot(analyst, 'audit-log');
    // The review queue shows the evidence but no resolve buttons to an analyst.
    await analyst.getByRole('link', { name: 'Review queue' }).click();
    await visible(analyst.getByRole('region', { name: /Review of/ }));
    expect(await analyst.getByRole('button', { name: 'Lock device' }).count()).toBe(0);
    // Filters of the audit log in the URL: by role and action.
    await analyst.goto(`${origin}/console/audit?role=SUPPORT&action=device.unlock`);
    await eventually(async () => expect(await textOf(analyst.locator('p.summary'))).toMatch(/^1 event/));
    expectNoProblems(analystTab);
    await analystTab.close();
  });

  it('a PARTNER key sees only its own devices, with no desk pages and no unlock', async () => {
    const partners = await graphql(
      '{ partners(first: 2) { nodes { id name devices(first: 1) { totalCount nodes { imei } } } } }',
    );
    const [own, other] = partners.partners.nodes;
    const partnerKey = await createKey('carrier portal', 'PARTNER', own.id);
    const tab = await openTab();
    const { page } = tab;
    await signIn(page, partnerKey.secret);
    // Its home is the overview of its own devices (test/console-operations.test.ts); its devices are one click away.
    const nav = page.getByRole('navigation', { name: 'Console' });
    await visible(page.getByRole('heading', { name: 'Overview' }));
    expect((await nav.getByRole('link').allInnerTexts()).map((text) => text.trim())).toEqual(['Overview', 'Devices']);
    await nav.getByRole('link', { name: 'Devices' }).click();
    await visible(page.getByRole('heading', { name: 'Devices' }));
    await eventually(async () =>
      expect(await textOf(page.locator('p.summary'))).toBe(`${own.devices.totalCount} devices`),
    );
    const partnerCells = await page
      .getByRole('table', { name: 'Devices' })
      .locator('tbody tr td:nth-child(4)')
      .allInnerTexts();
    expect(partnerCells.length).toBeGreaterThan(0);
    expect(new Set(partnerCells)).toEqual(new Set([own.name]));
    await expectAccessible(page, 'devices');
    await screenshot(page, 'devices-partner');

    await page.goto(`${origin}/console/devices/${other.devices.nodes[0].imei}`);
    await visible(page.getByText(`No device with IMEI ${other.devices.nodes[0].imei} is visible to your key.`));
    await page.goto(`${origin}/console/devices/${own.devices.nodes[0].imei}`);
    await visible(page.getByRole('heading', { name: `Device ${own.devices.nodes[0].imei}` }));
    expect(await page.getByRole('button', { name: /Unlock/ }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Exemptions' }).count()).toBe(0);
    await page.goto(`${origin}/console/reviews`);
    await visible(page.getByText('This page is not available to your key’s role.'.replace('’', "'")));
    expectNoProblems(tab);
    await tab.close();
  });

  it('an admin creates a key (the secret shown once) and revokes it after confirming', async () => {
    const tab = await openTab();
    const { page } = tab;
    await page.goto(`${origin}/console`);
    await page.getByRole('button', { name: 'Sign in' }).click(); // the local key, filled in on this machine
    await page.getByRole('link', { name: 'API keys' }).click();
    await visible(page.getByRole('table', { name: 'API keys' }));
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByRole('button', { name: 'Create key' }).click();
    await visible(form.getByRole('alert'));
    await form.getByLabel('Name').fill('gateway-eu-9');
    await form.getByLabel('Role').selectOption('GATEWAY');
    await form.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Key gateway-eu-9 (GATEWAY) created' });
    await visible(dialog);
    await visible(dialog.getByText('This is the only time the secret is shown'));
    const secret = (await textOf(dialog.getByLabel("The new key's secret"))).trim();
    expect(secret).toMatch(/^cgk_/);
    await dialog.getByRole('button', { name: 'Copy the secret' }).click();
    await visible(dialog.getByRole('status'));
    await expectAccessible(page, 'new key dialog');
    await dialog.getByRole('button', { name: 'I have stored it' }).click();

    const row = page.getByRole('row').filter({ hasText: 'gateway-eu-9' });
    await visible(row);
    expect(await textOf(row)).toContain('never'); // not used yet
    await screenshot(page, 'api-keys');
    await row.getByRole('button', { name: 'Revoke gateway-eu-9…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke the key gateway-eu-9?' });
    await visible(confirm);
    await expectAccessible(page, 'revoke dialog');
    await confirm.getByRole('button', { name: 'Revoke the key' }).click();
    // Active keys only by default: the revoked one leaves the list, and shows under "Revoked or expired".
    await eventually(async () =>
      expect(await page.getByRole('row').filter({ hasText: 'gateway-eu-9' }).count()).toBe(0),
    );
    await page.getByLabel('State').selectOption('inactive');
    await visible(page.getByRole('row').filter({ hasText: 'gateway-eu-9' }).getByText('revoked'));
    const refused = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    expect(refused.status).toBe(401);
    expectNoProblems(tab);
    await tab.close();
  });

  it('an admin grants a device an exemption (errors beside their fields) and revokes it', async () => {
    const active = await graphql('{ devices(first: 1, filter: { statuses: [ACTIVE] }) { nodes { imei } } }');
    const imei: string = active.devices.nodes[0].imei;
    const tab = await openTab();
    const { page } = tab;
    await page.goto(`${origin}/console`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${origin}/console/devices/${imei}`);
    const form = page.getByRole('form', { name: 'Grant an exemption' });
    await visible(form);
    await form.getByLabel('Reason').fill('Diplomatic mission staff phone');
    await form.getByRole('button', { name: 'Grant exemption' }).click();
    // The server's userErrors stand beside the fields they name.
    await visible(form.locator('.field').filter({ hasText: 'Policy' }).getByText('no policy has key ""'));
    await form.getByLabel('Policy').selectOption('export-restricted-territories');
    await form.getByLabel('Expires (optional)').fill('2020-01-01T12:00');
    await form.getByRole('button', { name: 'Grant exemption' }).click();
    await visible(form.locator('.field').filter({ hasText: 'Expires' }).getByText('expiresAt must lie in the future'));
    await form.getByLabel('Expires (optional)').fill('2099-01-01T12:00');
    await form.getByRole('button', { name: 'Grant exemption' }).click();
    const row = page
      .getByRole('table', { name: 'Exemptions of this device' })
      .getByRole('row')
      .filter({ hasText: 'Diplomatic mission' });
    await visible(row);
    expect(await textOf(row)).toContain('2099');
    await row.getByRole('button', { name: 'Revoke…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke the exemption' });
    await visible(dialog);
    await expectAccessible(page, 'revoke exemption dialog');
    await dialog.getByLabel('Reason (required)').fill('Mission ended');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await eventually(async () => expect(await textOf(row)).toContain('revoked'));
    expectNoProblems(tab);
    await tab.close();
  });

  it('a failed request shows its code and a retry, never a blank page', async () => {
    const tab = await openTab([/status of 503/]);
    const { page } = tab;
    let refused = 0;
    await page.route(`${origin}/graphql`, async (route) => {
      if (refused === 0 && (route.request().postData() ?? '').includes('DevicesPage')) {
        refused++;
        await route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            errors: [
              { message: 'the database is unavailable; retry shortly', extensions: { code: 'DATABASE_UNAVAILABLE' } },
            ],
          }),
        });
      } else await route.continue();
    });
    await signIn(page, keys.support!.secret);
    await page.goto(`${origin}/console/devices`);
    const alert = page.getByRole('alert').filter({ hasText: 'The request failed (DATABASE_UNAVAILABLE)' });
    await visible(alert);
    expect(await textOf(alert)).toContain('the database is unavailable; retry shortly');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await visible(page.getByRole('table', { name: 'Devices' }));
    await eventually(async () => expect(await page.getByRole('alert').count()).toBe(0));
    await screenshot(page, 'devices');
    expectNoProblems(tab);
    await tab.close();
  });

  it('a revoked key is sent back to sign-in with the reason', async () => {
    const revoked = await createKey('soon revoked', 'SUPPORT');
    // The refused requests themselves show up in the browser's console as failed loads (401).
    const tab = await openTab([/status of 401/]);
    const { page } = tab;
    await signIn(page, revoked.secret);
    await visible(page.getByRole('heading', { name: 'Review queue' }));
    await graphql(
      `
        mutation ($input: RevokeApiKeyInput!) {
          revokeApiKey(input: $input) {
            userErrors {
              message
            }
          }
        }
      `,
      {
        input: { id: revoked.id },
      },
    );
    await page.reload();
    await visible(page.getByRole('alert').filter({ hasText: 'You were signed out: the API key was revoked' }));
    await visible(page.getByRole('button', { name: 'Sign in' }));
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'sign-in');
    expectNoProblems(tab);
    await tab.close();
  });

  it('on this machine the sign-in form comes with the local key; elsewhere it does not', async () => {
    const tab = await openTab();
    await tab.page.goto(`${origin}/console`);
    await eventually(async () => expect(await tab.page.getByLabel('API key').inputValue()).toBe(LOCAL_ADMIN_KEY));
    // Another name for this server (as a DNS-rebinding page would use) gets no key.
    const elsewhere = await new Promise<string>((resolve, reject) => {
      const port = (server.address() as AddressInfo).port;
      get({ host: '127.0.0.1', port, path: '/console', headers: { host: `console.example:${port}` } }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(elsewhere).toContain('<div id="root">');
    expect(elsewhere).not.toContain(LOCAL_ADMIN_KEY);
    expectNoProblems(tab);
    await tab.close();
  });
});
