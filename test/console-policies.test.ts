/**
 * The console's policy pages as authors and readers use them (issue 17): drafting a change with the
 * region picker, simulating it (the figures simulatePolicy gives for the same input), submitting it
 * with the simulation in view, a second author approving it while the first is told why they cannot,
 * the history's new version and diff, the as-of view, withdrawing and rejecting, a new draft's
 * validation errors beside their fields, and read-only roles without edit controls. One server on the
 * demo data and one headless Chromium for the whole file; axe-core on every page and dialog opened.
 */
import {
  ConsoleServer,
  eventually,
  expectAccessible,
  expectNoProblems,
  haveChromium,
  openTab,
  screenshot,
  signIn,
  startConsoleServer,
  textOf,
  visible,
} from './support/console-browser';
import { FIXED_UNTIL } from './support/fixtures';

const ADMIN_KEY = 'cgk_local-admin-key-for-the-policies-test-0123456789';
const POLICY = 'export-restricted-territories';
const SHIPPED_REGIONS = ['CU', 'IR', 'KP', 'SD', 'SY', 'UA-40', 'UA-43'];
const AUTHOR_CANNOT_APPROVE = 'the author of a change request cannot approve it: ask a second person';

// The last 20 days of the demo data (up to FIXED_UNTIL), as instants and as the browser (Europe/Berlin) types them.
const WINDOW = { from: new Date(FIXED_UNTIL.getTime() - 20 * 86_400_000).toISOString(), to: FIXED_UNTIL.toISOString() };
const minuteUtc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
/** A figure as the console shows it: with thousands separators. */
const n = (value: number) => value.toLocaleString('en');
const berlin = (iso: string) =>
  new Date(iso).toLocaleString('sv-SE', { timeZone: 'Europe/Berlin', hour12: false }).replace(' ', 'T').slice(0, 16);

const SIMULATE = `query ($input: SimulatePolicyInput!) {
  simulatePolicy(input: $input) { attempts changedAttempts changedDevices transitions { from to attempts devices } byRegion { attempts devices from to region { code } } }
}`;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let server: ConsoleServer;
const keys: Record<'author' | 'second' | 'analyst' | 'support', string> = {} as never;
/** The country the author adds: the one with the most demo attempts that the shipped policy does not cover. */
let added: { code: string; name: string };

(haveChromium ? describe : describe.skip)('the policy pages in a browser', () => {
  beforeAll(async () => {
    server = await startConsoleServer(ADMIN_KEY, { devices: 200, attempts: 3000 });
    keys.author = await server.createKey('policy author', 'POLICY_AUTHOR');
    keys.second = await server.createKey('second author', 'POLICY_AUTHOR');
    keys.analyst = await server.createKey('analyst', 'ANALYST');
    keys.support = await server.createKey('desk agent', 'SUPPORT');
    const stats = await server.graphql(
      `query ($filter: ActivationStatsFilter!) { activationStats(filter: $filter, groupBy: [COUNTRY]) { rows { attempts country { code name } } } }`,
      { filter: WINDOW },
    );
    const candidates = stats.activationStats.rows
      .filter((row: any) => row.country && !SHIPPED_REGIONS.includes(row.country.code))
      .sort((a: any, b: any) => b.attempts - a.attempts);
    added = candidates[0].country;
  }, 300_000);
  afterAll(async () => {
    await server?.close();
  });

  it('an author drafts a change adding a region, simulates it, submits it; a second author approves; the history shows it', async () => {
    const tab = await openTab(server);
    const { page } = tab;
    await signIn(server, page, keys.author);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Policies' }).click();
    const row = page.getByRole('table', { name: 'Policies' }).getByRole('row').filter({ hasText: POLICY });
    await visible(row);
    expect(await textOf(row)).toMatch(/ACTIVE[\s\S]*v1[\s\S]*ENFORCE[\s\S]*LOCK[\s\S]*100/);
    await expectAccessible(page, 'policies');
    await screenshot(page, 'policies');

    await row.getByRole('link').first().click();
    await page.getByRole('link', { name: 'Propose a change' }).click();
    const form = page.getByRole('form', { name: /Propose a change to/ });
    await visible(form);
    // The region picker: found by name, checked, listed among the chosen.
    await form.getByLabel('Find a country or subdivision').fill(added.name);
    await form.getByRole('checkbox', { name: `${added.name} (${added.code})`, exact: true }).check();
    const chosen = form.getByRole('list', { name: 'Chosen regions' });
    await eventually(async () => expect(await textOf(chosen)).toContain(`${added.name} (${added.code})`));
    // Submitting waits for a simulation of the draft as it stands.
    expect(await form.getByRole('button', { name: 'Submit change' }).isDisabled()).toBe(true);

    await form.getByLabel('Replay from').fill(berlin(WINDOW.from));
    await form.getByLabel('Replay to').fill(berlin(WINDOW.to));
    await form.getByRole('button', { name: 'Simulate' }).click();
    const simulation = form.getByRole('region', { name: 'Simulated impact' });
    await visible(simulation, 60_000);

    // The same input queried directly gives the figures on screen.
    const direct = (
      await server.graphql(
        SIMULATE,
        {
          input: {
            ...WINDOW,
            policy: {
              policyKey: POLICY,
              action: 'LOCK',
              mode: 'ENFORCE',
              priority: 100,
              regionCodes: [...SHIPPED_REGIONS, added.code],
              productScope: [],
            },
          },
        },
        keys.author,
      )
    ).simulatePolicy;
    expect(direct.changedAttempts).toBeGreaterThan(0);
    const shown = await simulation
      .getByRole('table', { name: 'Transitions', exact: true })
      .locator('tbody tr')
      .allInnerTexts();
    const expected = direct.transitions.map((t: any) => `${t.from}→${t.to}\t${n(t.attempts)}\t${n(t.devices)}`);
    expect(shown.map((text) => text.trim()).sort()).toEqual(expected.sort());
    expect(await textOf(simulation.locator('p.summary'))).toContain(`Replayed ${n(direct.attempts)} attempts from`);
    expect(await textOf(simulation.locator('p.summary'))).toContain(
      `${n(direct.changedAttempts)} would change outcome, on ${n(direct.changedDevices)}`,
    );
    expect(await simulation.getByRole('table', { name: 'Transitions by region' }).locator('tbody tr').count()).toBe(
      direct.byRegion.length,
    );
    expect(await textOf(simulation.getByRole('table', { name: 'Transitions by region' }))).toContain(added.code);
    // The same by region on the map: one region per country (or subdivision drawn as its own), each
    // named with the attempts that change outcome there.
    const transitionsMap = simulation.getByRole('group', { name: /^Attempts that would change outcome, by region/ });
    const drawn = new Map<string, number>();
    for (const row of direct.byRegion) {
      const code = ['UA-40', 'UA-43'].includes(row.region.code) ? row.region.code : row.region.code.split('-')[0];
      drawn.set(code, (drawn.get(code) ?? 0) + row.attempts);
    }
    await eventually(async () => expect(await transitionsMap.getByRole('img').count()).toBe(drawn.size));
    const addedAttempts = drawn.get(added.code)!.toLocaleString('en');
    await visible(
      transitionsMap.getByRole('img', {
        name: new RegExp(
          `^${escapeRegExp(added.name)} \\(${added.code}\\): ${addedAttempts} attempts? changes? outcome \\(.*ALLOW→LOCK`,
        ),
      }),
    );
    // Sample devices open their device pages.
    const sample = simulation.getByRole('list', { name: 'Sample devices' }).getByRole('link').first();
    expect(await sample.getAttribute('href')).toMatch(/^\/console\/devices\/\d{15}$/);

    await form.getByLabel('Why (kept with the change request)').fill(`${added.name} joins the restricted list`);
    await expectAccessible(page, 'policy editor with its simulation');
    await screenshot(page, 'policy-editor');
    await form.getByRole('button', { name: 'Submit change' }).click();
    const opened = form.getByRole('status').filter({ hasText: 'Change request opened (WIDER_REGIONS)' });
    await visible(opened);
    await opened.getByRole('link', { name: 'Open the change request' }).click();

    // The author is told why they cannot approve, before trying, in the API's words; they may withdraw.
    const detail = page.getByRole('region', { name: /Change request for/ });
    await visible(detail);
    await visible(detail.getByText(`You cannot approve this request: ${AUTHOR_CANNOT_APPROVE}.`));
    expect(await detail.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await visible(detail.getByRole('button', { name: 'Withdraw' }));
    const requestId = new URL(page.url()).searchParams.get('request')!;
    const rights = await server.graphql(
      `query ($id: ID!) { node(id: $id) { ... on PolicyChangeRequest { viewerCanApprove viewerCannotApproveReason note } } }`,
      { id: requestId },
      keys.author,
    );
    expect(rights.node).toMatchObject({ viewerCanApprove: false, viewerCannotApproveReason: AUTHOR_CANNOT_APPROVE });
    // The simulation the author submitted with is kept with the request, in its note.
    expect(rights.node.note).toContain(`${added.name} joins the restricted list`);
    expect(rights.node.note).toContain(
      `Simulated ${minuteUtc(WINDOW.from)} to ${minuteUtc(WINDOW.to)}: ${n(direct.changedAttempts)} of ${n(direct.attempts)} attempts`,
    );
    await expectAccessible(page, 'change request, as its author');
    expectNoProblems(tab);

    // A second author reads the request, replays its impact over the author's window, approves.
    const secondTab = await openTab(server);
    const second = secondTab.page;
    await signIn(server, second, keys.second);
    await second.getByRole('link', { name: 'Change requests' }).click();
    await second
      .getByRole('table', { name: 'Change requests' })
      .getByRole('link', { name: /No sale or distribution/ })
      .click();
    const review = second.getByRole('region', { name: /Change request for/ });
    await visible(review);
    await visible(review.getByText(`${added.name} joins the restricted list`));
    await visible(review.getByRole('region', { name: 'Regions added' }).getByText(`${added.name} (${added.code})`));
    await review.getByLabel('Impact from').fill(berlin(WINDOW.from));
    await review.getByLabel('Impact to').fill(berlin(WINDOW.to));
    await eventually(async () => {
      const impact = review.getByRole('region', { name: 'Impact, replayed now' });
      expect(await textOf(impact.locator('p.summary'))).toContain(`${direct.changedAttempts} would change outcome`);
    }, 60_000);
    await expectAccessible(second, 'change request, to a second author');
    await screenshot(second, 'change-request');
    await review.getByLabel(/^Comment/).fill('Checked: the impact matches the simulation');
    await review.getByRole('button', { name: 'Approve' }).click();
    await visible(review.getByText(/approved by second author \(POLICY_AUTHOR\)/), 60_000);
    expectNoProblems(secondTab);
    await secondTab.close();

    // The history: version 2, approved by the second author, and its diff with version 1.
    await page.goto(`${server.origin}/console/policies/${POLICY}`);
    const versions = page.getByRole('table', { name: 'Versions' });
    await eventually(async () => expect(await versions.locator('tbody tr').count()).toBe(2));
    expect(await textOf(versions.locator('tbody tr').first())).toMatch(/v2[\s\S]*second author \(POLICY_AUTHOR\)/);
    const addedList = page.getByRole('region', { name: 'Regions added' });
    expect(await textOf(addedList)).toContain(`${added.name} (${added.code})`);
    expect(await textOf(page.getByRole('region', { name: 'Regions removed' }))).toContain('none');
    const regionsRow = page
      .getByRole('table', { name: 'Differences between v1 and v2' })
      .getByRole('row', { name: /^Regions/ });
    expect(await textOf(regionsRow)).toMatch(/7 regions\s+8 regions\s+changed/);
    // The same on the map: the added country drawn as added, the shipped regions as unchanged
    // (Crimea and Sevastopol each as its own region).
    const diffMap = page.getByRole('group', { name: 'Regions of v1 and v2 on the map' });
    await visible(diffMap.getByRole('img', { name: `${added.name} (${added.code}): added` }));
    expect(await diffMap.getByRole('img', { name: /: unchanged$/ }).count()).toBe(SHIPPED_REGIONS.length);
    await visible(diffMap.getByRole('img', { name: 'Autonomous Republic of Crimea (UA-43): unchanged' }));
    await expectAccessible(page, 'policy history');
    await screenshot(page, 'policy-history');

    // As of a day of the demo data: version 1's regions; back to now: version 2's.
    await page.getByRole('link', { name: 'All policies' }).click();
    const regionsOf = page.getByRole('list', { name: `Regions of ${POLICY}` });
    await eventually(async () => expect(await textOf(regionsOf)).toContain(added.code));
    await page.getByLabel('As of').fill('2026-10-01T12:00');
    await eventually(() => expect(page.url()).toContain('asOf=2026-10-01T10%3A00'));
    await visible(page.getByRole('status').filter({ hasText: 'As of' }));
    await eventually(async () => expect(await textOf(regionsOf)).not.toContain(added.code));
    expect(
      await textOf(page.getByRole('table', { name: 'Policies' }).getByRole('row').filter({ hasText: POLICY })),
    ).toContain('v1');
    await page.reload();
    await eventually(async () => expect(await textOf(regionsOf)).not.toContain(added.code));
    await page.getByRole('button', { name: 'Back to now' }).click();
    await eventually(async () => expect(await textOf(regionsOf)).toContain(added.code));
    expectNoProblems(tab);
    await tab.close();
    // Three replays of the window (the author's, the direct one, the reviewer's) and an approval's: minutes on a loaded machine.
  }, 480_000);

  it('read-only roles see policies and requests without edit controls, and why; the author withdraws, a second author rejects', async () => {
    // A MONITOR policy of the author's, and a change to ENFORCE waiting for a second person.
    const created = await server.graphql(
      `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } userErrors { message } } }`,
      {
        input: {
          key: 'kherson-review',
          title: 'Review activations in Kherson Oblast',
          description: 'A person looks at activations there.',
          legalBasis: 'Section 4.2',
          action: 'REVIEW',
          mode: 'MONITOR',
          regionCodes: ['UA-65'],
          effectiveFrom: '2026-01-01T00:00:00Z',
          lockMessage: 'This device needs a review before it can be used here.',
        },
      },
      keys.author,
    );
    const policyId = created.createPolicy.policy.id;
    await server.graphql(
      `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { userErrors { message } } }`,
      { id: policyId },
      keys.author,
    );
    const propose = async (note: string) =>
      (
        await server.graphql(
          `mutation ($input: UpdatePolicyInput!) { updatePolicy(input: $input) { changeRequest { id } userErrors { message } } }`,
          { input: { id: policyId, mode: 'ENFORCE', note } },
          keys.author,
        )
      ).updatePolicy.changeRequest.id as string;
    const requestId = await propose('Enforce the Kherson reviews');

    // An analyst reads everything and changes nothing.
    const analystTab = await openTab(server);
    const analyst = analystTab.page;
    await signIn(server, analyst, keys.analyst);
    await analyst.goto(`${server.origin}/console/policies`);
    await visible(analyst.getByText('Read only: a ANALYST key cannot change policies'));
    expect(await analyst.getByRole('link', { name: 'New policy' }).count()).toBe(0);
    await visible(analyst.getByRole('table', { name: 'Policies' }).getByRole('link', { name: '1 waiting' }));
    await analyst.getByRole('link', { name: 'Review activations in Kherson Oblast' }).click();
    await visible(analyst.getByRole('heading', { name: /Version 1 in force/ }));
    expect(await analyst.getByRole('link', { name: 'Propose a change' }).count()).toBe(0);
    expect(await analyst.getByRole('button', { name: /Retire|Activate/ }).count()).toBe(0);
    await visible(analyst.getByText('Read only: a ANALYST key cannot change policies'));
    await analyst.goto(`${server.origin}/console/policies/kherson-review/edit`);
    await visible(analyst.getByRole('alert').filter({ hasText: 'A ANALYST key cannot change policies' }));
    await analyst.goto(`${server.origin}/console/changes?request=${encodeURIComponent(requestId)}`);
    const detail = analyst.getByRole('region', { name: /Change request for/ });
    await visible(detail.getByText('Read only: a ANALYST key cannot approve, reject or withdraw change requests'));
    await visible(detail.getByRole('region', { name: 'Impact, replayed now' }));
    expect(await detail.getByRole('button').count()).toBe(0);
    expect(await detail.getByLabel(/^Comment/).count()).toBe(0);
    await expectAccessible(analyst, 'change request, read only');
    expectNoProblems(analystTab);
    await analystTab.close();

    // A support agent reads the policies; change requests are not theirs to see.
    const supportTab = await openTab(server);
    const support = supportTab.page;
    await signIn(server, support, keys.support);
    const nav = support.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'Policies' }).click();
    await visible(support.getByRole('table', { name: 'Policies' }).getByText('kherson-review'));
    expect(await nav.getByRole('link', { name: 'Change requests' }).count()).toBe(0);
    expect(await support.getByRole('columnheader', { name: 'Waiting changes' }).count()).toBe(0);
    await visible(support.getByText('Read only: a SUPPORT key cannot change policies'));
    await expectAccessible(support, 'policies, read only');
    expectNoProblems(supportTab);
    await supportTab.close();

    // The author withdraws (a comment is required).
    const authorTab = await openTab(server);
    const author = authorTab.page;
    await signIn(server, author, keys.author);
    await author.goto(`${server.origin}/console/changes?request=${encodeURIComponent(requestId)}`);
    const own = author.getByRole('form', { name: 'Decide the change request' });
    await own.getByRole('button', { name: 'Withdraw' }).click();
    await visible(own.locator('.field').filter({ hasText: 'Comment' }).getByText('A comment is required'));
    await own.getByLabel(/^Comment/).fill('Waiting for the legal review');
    await own.getByRole('button', { name: 'Withdraw' }).click();
    await visible(author.getByText(/withdrawn by policy author \(POLICY_AUTHOR\)/));
    expectNoProblems(authorTab);
    await authorTab.close();

    // Proposed again, a second author rejects it with a comment.
    const again = await propose('Enforce the Kherson reviews, legal review done');
    const secondTab = await openTab(server);
    const second = secondTab.page;
    await signIn(server, second, keys.second);
    await second.goto(`${server.origin}/console/changes?request=${encodeURIComponent(again)}`);
    const decide = second.getByRole('form', { name: 'Decide the change request' });
    await decide.getByRole('button', { name: 'Reject' }).click();
    await visible(decide.getByText('A comment is required'));
    await decide.getByLabel(/^Comment/).fill('Not before the partner notice goes out');
    await decide.getByRole('button', { name: 'Reject' }).click();
    await visible(second.getByText(/rejected by second author \(POLICY_AUTHOR\)/));
    await second.goto(`${server.origin}/console/changes?status=REJECTED`);
    await visible(
      second.getByRole('table', { name: 'Change requests' }).getByText('Review activations in Kherson Oblast'),
    );
    expectNoProblems(secondTab);
    await secondTab.close();
  }, 240_000);

  it('a new draft: the API’s errors stand beside their fields, subdivisions sit under their country, the lock message previews per locale', async () => {
    const tab = await openTab(server);
    const { page } = tab;
    await signIn(server, page, keys.author);
    await page.goto(`${server.origin}/console/policies`);
    await page.getByRole('link', { name: 'New policy' }).click();
    const form = page.getByRole('form', { name: 'New policy' });
    await visible(form);
    // The editor of a new policy has a path of its own: /policies/new is the policy whose key is "new".
    expect(new URL(page.url()).pathname).toBe('/console/new-policy');
    await form.getByLabel('Key', { exact: true }).fill('Not A Key');
    await form.getByRole('button', { name: 'Save draft' }).click();
    const field = (label: string) => form.locator('.field').filter({ has: page.getByLabel(label, { exact: true }) });
    await visible(field('Key').getByText('key must be 2 to 100 lower-case letters, digits or dashes'));
    await visible(field('Title').getByText('title must be 1 to 200 characters'));
    await visible(form.getByRole('group', { name: 'Regions' }).getByText('regionCodes must name at least one region'));
    await visible(field('English (en)').getByText('lockMessage must be 1 to 1000 characters'));

    await form.getByLabel('Key', { exact: true }).fill('crimea-review');
    await form.getByLabel('Title').fill('Review activations in Crimea');
    await form.getByLabel('Legal basis').fill('Section 4.3');
    await form.getByLabel('Action').selectOption('REVIEW');
    // A country lists its subdivisions; checking the country covers them.
    await form.getByLabel('Find a country or subdivision').fill('Ukraine');
    const subdivisions = form.getByRole('list', { name: 'Subdivisions of Ukraine' });
    await visible(subdivisions.getByRole('checkbox', { name: /Autonomous Republic of Crimea \(UA-43\)/ }));
    await form.getByRole('checkbox', { name: 'Ukraine (UA)', exact: true }).check();
    await visible(subdivisions.getByText('covered through UA'));
    expect(await subdivisions.getByRole('checkbox', { name: /UA-43/ }).isDisabled()).toBe(true);
    await form.getByRole('checkbox', { name: 'Ukraine (UA)', exact: true }).uncheck();
    await subdivisions.getByRole('checkbox', { name: /UA-43/ }).check();
    await form.getByLabel('Find a country or subdivision').fill('Sevastopol');
    await form.getByRole('checkbox', { name: /Sevastopol \(UA-40\)/ }).check();
    expect(await textOf(form.getByRole('list', { name: 'Chosen regions' }))).toMatch(/UA-43[\s\S]*UA-40/);

    // Lock messages per locale, previewed as the phone shows them (Arabic right to left; an unknown locale in English).
    await form.getByLabel('English (en)').fill('This device is under review.');
    await form.getByRole('button', { name: 'Add a translation' }).click();
    await form.getByLabel('Locale #1', { exact: true }).fill('ar');
    await form.getByLabel('Message in ar').fill('هذا الجهاز قيد المراجعة.');
    await form.getByLabel('Preview in').selectOption('ar');
    const phone = form.getByRole('figure', { name: 'Lock screen preview (ar)' });
    await visible(phone);
    expect(await phone.locator('.phone-screen').getAttribute('dir')).toBe('rtl');
    expect(await textOf(phone)).toContain('هذا الجهاز قيد المراجعة.');
    await expectAccessible(page, 'new policy');
    await screenshot(page, 'policy-new');

    await form.getByRole('button', { name: 'Save draft' }).click();
    await visible(page.getByRole('heading', { name: /Review activations in Crimea/ }));
    await visible(page.getByRole('heading', { name: 'Draft version 1' }));
    await page.getByRole('button', { name: 'Activate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Activate Review activations in Crimea' });
    await visible(dialog);
    await expectAccessible(page, 'activate dialog');
    await dialog.getByRole('button', { name: 'Activate', exact: true }).click();
    // MONITOR activates at once: nothing can be locked by it.
    await visible(dialog.getByText('Activated'));
    await dialog.getByRole('button', { name: 'Close' }).click();
    await eventually(async () => expect(await textOf(page.getByRole('heading', { level: 1 }))).toContain('ACTIVE'));

    const created = await server.graphql(
      `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { userErrors { message } } }`,
      {
        input: {
          key: 'new',
          title: 'A policy keyed new',
          description: 'Its key is a word the console once used for the editor.',
          legalBasis: 'Section 1',
          action: 'REVIEW',
          mode: 'MONITOR',
          regionCodes: ['CU'],
          effectiveFrom: '2026-01-01T00:00:00Z',
          lockMessage: 'Under review.',
        },
      },
      keys.author,
    );
    expect(created.createPolicy.userErrors).toEqual([]);
    await page.goto(`${server.origin}/console/policies/new`);
    await visible(page.getByRole('heading', { name: /A policy keyed new/ }));
    expectNoProblems(tab);
    await tab.close();
  }, 240_000);
});
