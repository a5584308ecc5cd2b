/**
 * Budgets a caller can see: `extensions.cost` on every response, the IETF RateLimit fields beside
 * Retry-After, and the `rateLimit` field, just under and just over a limit, over real HTTP.
 */
import { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { App, createApp } from '../src/app';
import { estimateCost } from '../src/common/query-limits';
import { buildAppSchema } from '../src/schema';
import { openTestDatabase, TestDatabase } from './support/database';

const ADMIN_KEY = 'cgk_budgets-admin-key-0123456789abcdef0123456789ab';
const PER_SECOND = 5;
const QUERY = '{ regions(first: 10) { nodes { code } } }';

let database: TestDatabase;
let app: App;
let url: string;

async function post(body: unknown, key: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    policy: response.headers.get('ratelimit-policy'),
    rateLimit: response.headers.get('ratelimit'),
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as any,
  };
}

/**
 * The budget's window is one second long. On a loaded machine a run of requests can straddle two
 * windows, and then the figures are right for a case the test is not about. Each run reports the
 * window end (`resetAt`) of every answer: it is the same instant, give or take the milliseconds
 * between requests, within one window, and at least most of a second later in the next. A run that
 * straddled is tried again with a fresh key, a few times, so the assertions always look at one window.
 */
async function inOneWindow<T>(run: (key: string) => Promise<{ result: T; resetAts: string[] }>, name: string) {
  for (let attempt = 1; ; attempt += 1) {
    const { result, resetAts } = await run(await freshKey(`${name}-${attempt}`));
    const instants = resetAts.map((resetAt) => Date.parse(resetAt));
    if (Math.max(...instants) - Math.min(...instants) < 500 || attempt === 5) return result;
  }
}

/** A fresh ANALYST key: its own budget, untouched by the other tests. */
async function freshKey(name: string): Promise<string> {
  // The admin key has the same small budget as every key: tests that create keys in quick succession
  // can spend it, so a refusal is waited out (as a client is told to), never taken for a key.
  for (;;) {
    const created = await post(
      {
        query: `mutation ($name: String!) { createApiKey(input: { name: $name, role: ANALYST }) { secret } }`,
        variables: { name },
      },
      ADMIN_KEY,
    );
    if (created.status === 429) {
      await new Promise((resolve) => setTimeout(resolve, Number(created.retryAfter) * 1000));
      continue;
    }
    if (!created.body.data?.createApiKey) throw new Error(`createApiKey failed: ${JSON.stringify(created.body)}`);
    return created.body.data.createApiKey.secret;
  }
}

beforeAll(async () => {
  database = await openTestDatabase();
  const settings = {
    ...database.settings,
    adminKey: ADMIN_KEY,
    rateLimits: { ...database.settings.rateLimits, perSecond: PER_SECOND },
  };
  app = await createApp(database.dataSource, settings);
  const server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await app.apollo.stop();
  await database.close();
});

describe('a key just under and just over its budget', () => {
  it('sees what each request cost and what is left, then a 429 with the same figures', async () => {
    const requested = estimateCost(await buildAppSchema(), parse(QUERY), undefined, {}, database.settings);
    expect(requested).toBeGreaterThan(10);
    const answers = await inOneWindow(async (key) => {
      const sent = [];
      for (let count = 0; count <= PER_SECOND; count += 1) sent.push(await post({ query: QUERY }, key));
      return { result: sent, resetAts: sent.map((answer) => answer.body.extensions.cost.resetAt) };
    }, 'budget-reader');
    const underLimit = answers.slice(0, PER_SECOND);
    for (const [index, answer] of underLimit.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.policy).toBe(`"key";q=${PER_SECOND};w=1`);
      expect(answer.rateLimit).toMatch(new RegExp(`^"key";r=${PER_SECOND - 1 - index};t=[01]$`));
      expect(answer.retryAfter).toBeNull();
      expect(answer.body.extensions.cost).toEqual({
        requested,
        maxCost: database.settings.limits.maxCost,
        limit: PER_SECOND,
        remaining: PER_SECOND - 1 - index,
        resetAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    }
    const last = underLimit[PER_SECOND - 1].body.extensions.cost;
    expect(Date.parse(last.resetAt) - Date.now()).toBeLessThanOrEqual(1_000);

    const over = answers[PER_SECOND];
    expect(over.status).toBe(429);
    expect(over.retryAfter).toBe('1');
    expect(over.policy).toBe(`"key";q=${PER_SECOND};w=1`);
    expect(over.rateLimit).toMatch(/^"key";r=0;t=[01]$/);
    expect(over.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(over.body.extensions.cost).toEqual({
      requested: null,
      maxCost: database.settings.limits.maxCost,
      limit: PER_SECOND,
      remaining: 0,
      resetAt: expect.any(String),
    });
  });

  it('answers `rateLimit` without spending budget, even when none is left', async () => {
    const key = await freshKey('budget-poller');
    const budget = '{ rateLimit { limit remaining resetAt windowSeconds } }';
    const first = await post({ query: budget }, key);
    expect(first.body.data.rateLimit).toMatchObject({ limit: PER_SECOND, remaining: PER_SECOND, windowSeconds: 1 });
    await post({ query: QUERY }, key);
    for (let poll = 0; poll < PER_SECOND + 2; poll += 1) {
      const polled = await post({ query: budget }, key);
      expect(polled.status).toBe(200);
      // One spent in this window, or a whole budget once the (one-second) window has passed: polling spends none.
      expect([PER_SECOND - 1, PER_SECOND]).toContain(polled.body.data.rateLimit.remaining);
      expect(polled.rateLimit).toMatch(new RegExp(`^"key";r=${polled.body.data.rateLimit.remaining};t=[01]$`));
    }
    // Spend a whole budget, then poll and ask beside something else: all in the window that refused.
    const { refused, exhausted, mixed } = await inOneWindow(async (exhaustedKey) => {
      let refusal: Awaited<ReturnType<typeof post>> | null = null;
      for (let spent = 0; spent < 4 * PER_SECOND && !refusal; spent += 1) {
        const answer = await post({ query: QUERY }, exhaustedKey);
        if (answer.status === 429) refusal = answer;
      }
      const polled = await post({ query: budget }, exhaustedKey);
      // Asked beside anything else, it is an ordinary request.
      const withOther = await post({ query: `{ rateLimit { remaining } viewer { name } }` }, exhaustedKey);
      return {
        result: { refused: refusal !== null, exhausted: polled, mixed: withOther },
        resetAts: [refusal?.body.extensions.cost.resetAt, polled.body.data?.rateLimit.resetAt].concat(
          withOther.body.extensions?.cost?.resetAt ?? [],
        ),
      };
    }, 'budget-exhausted');
    expect(refused).toBe(true);
    expect(exhausted.status).toBe(200);
    expect(exhausted.body.data.rateLimit.remaining).toBe(0);
    expect(mixed.status).toBe(429);
  });

  it('counts a batch once and reports the cost of each of its operations', async () => {
    const key = await freshKey('budget-batcher');
    const batch = await post([{ query: QUERY }, { query: '{ viewer { name } }' }], key);
    expect(batch.status).toBe(200);
    expect(batch.rateLimit).toMatch(new RegExp(`^"key";r=${PER_SECOND - 1};t=[01]$`));
    expect(batch.body.map((answer: any) => answer.extensions.cost.remaining)).toEqual([PER_SECOND - 1, PER_SECOND - 1]);
    expect(batch.body[0].extensions.cost.requested).toBeGreaterThan(batch.body[1].extensions.cost.requested);
  });
  it('spends budget on a CSV report even when its URL carries a budget query (only GraphQL answers one)', async () => {
    // The CSV routes share the GraphQL budget, and the free pass for `{ rateLimit { … } }` read any
    // GET's `query` parameter: one the CSV route ignores, so a key over its budget had every report
    // for the asking. The same report without it is counted and refused alike.
    const to = new Date();
    const from = new Date(to.getTime() - 86_400_000);
    const report = (key: string, extra: string) =>
      fetch(
        `${url.replace(/\/graphql$/, '')}/reports/activation-stats.csv?from=${from.toISOString()}&to=${to.toISOString()}${extra}`,
        { headers: { authorization: `Bearer ${key}` } },
      );
    const budgetQuery = `&query=${encodeURIComponent('{ rateLimit { remaining } }')}`;
    const { refused, disguised, plain } = await inOneWindow(async (key) => {
      let refusal: Awaited<ReturnType<typeof post>> | null = null;
      for (let spent = 0; spent < 4 * PER_SECOND && !refusal; spent += 1) {
        const answer = await post({ query: QUERY }, key);
        if (answer.status === 429) refusal = answer;
      }
      const [disguisedAnswer, plainAnswer] = [await report(key, budgetQuery), await report(key, '')];
      const resetOf = (answer: Response) => {
        const seconds = /t=(\d+)/.exec(answer.headers.get('ratelimit') ?? '')?.[1];
        return new Date(Date.now() + Number(seconds ?? 0) * 1000).toISOString();
      };
      return {
        result: { refused: refusal !== null, disguised: disguisedAnswer, plain: plainAnswer },
        resetAts: [refusal?.body.extensions.cost.resetAt, resetOf(disguisedAnswer), resetOf(plainAnswer)],
      };
    }, 'budget-csv');
    expect(refused).toBe(true);
    expect(plain.status).toBe(429);
    expect(disguised.status).toBe(429);
    expect(((await disguised.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
    // Within its budget the same request is a report.
    const fresh = await report(await freshKey('budget-csv-fresh'), budgetQuery);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('content-type')).toMatch(/^text\/csv/);
  });
  it('refuses a request over its budget before reading its body', async () => {
    // Every request was parsed (up to 5 MB) before the budget was counted, so a key or an
    // anonymous client over its budget still had each body read: a limit that failed late. A body
    // too big to be a budget query is counted first: this malformed megabyte is refused 429, not
    // parsed into a 400.
    const key = await freshKey('budget-flooder');
    const flood = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: `{"query": "${'x'.repeat(1_000_000)}`,
      });
    // The window is a second long: on a loaded machine it may pass between the last refusal and the
    // flood (which is then read and refused 400), so a few tries; before, every one was a 400.
    let answer: Response | null = null;
    for (let attempt = 0; attempt < 5 && answer?.status !== 429; attempt += 1) {
      let refused = false;
      for (let spent = 0; spent < 4 * PER_SECOND && !refused; spent += 1)
        refused = (await post({ query: QUERY }, key)).status === 429;
      expect(refused).toBe(true);
      answer = await flood();
    }
    expect(answer!.status).toBe(429);
    expect(((await answer!.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
    // Within its budget the same body is read, and refused for what it is.
    const fresh = await freshKey('budget-flooder-2');
    const malformed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh}` },
      body: `{"query": "${'x'.repeat(1_000_000)}`,
    });
    expect(malformed.status).toBe(400);
  });
});
