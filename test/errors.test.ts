import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';

/** Faults are logged in full and masked in production; client errors keep their message there. */
describe('error masking', () => {
  let database: TestDatabase;
  let production: GraphQLClient;
  let development: GraphQLClient;

  beforeAll(async () => {
    database = await openTestDatabase();
    production = await GraphQLClient.create({ ...database, settings: { ...database.settings, production: true } });
    development = await GraphQLClient.create(database);
    // An outage: every statement now fails.
    await database.dataSource.destroy();
  });
  afterAll(async () => {
    await production.stop();
    await development.stop();
    await database.close();
  });

  it('answers an unexpected failure with "Internal server error" and no stack trace in production', async () => {
    const result = await production.execute('{ partners { totalCount } }');
    expect(result).toEqual({
      data: null,
      errors: [{ message: 'Internal server error', path: ['partners'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    // Logged in full (the stack, not the query parameters), with the request id.
    expect(production.logLines).toContainEqual(
      expect.objectContaining({ msg: 'unexpected error', requestId: 'test-request' }),
    );
  });

  it('shows the cause outside production', async () => {
    const result = await development.execute('{ partners { totalCount } }');
    expect(result.errors?.[0].message).not.toBe('Internal server error');
    expect(result.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('keeps client errors readable in production', async () => {
    const result = await production.execute('{ partners(first: 500) { totalCount } }');
    expect(result.errors).toMatchObject([
      { message: 'first: must be from 1 to 100; got 500', extensions: { code: 'BAD_USER_INPUT', field: 'first' } },
    ]);
    expect(result.errors?.[0].extensions).not.toHaveProperty('stacktrace');
  });

  it('names an argument given an explicit null where it may not be null, in production too', async () => {
    const result = await production.execute(
      'query ($zone: String) { activationStats(filter: { from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }, timeZone: $zone) { totals { attempts } } }',
      { zone: null },
    );
    expect(result.errors).toMatchObject([
      {
        message: 'Argument "timeZone" of non-null type "String!" must not be null.',
        extensions: { code: 'BAD_USER_INPUT', field: 'timeZone' },
      },
    ]);
  });
});
