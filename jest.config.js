/** Tests run against a real database: SQLite by default, PostgreSQL when DATABASE_URL is set. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpiled file by file, not type-checked: `npm run check` type-checks tests and sources with tsc
    // once, and a type-check here cost every Jest process a TypeScript program of the whole project
    // (CPU: 17.6 s cold / 7.3 s warm against 5.5 / 1.9 s for test/schema.test.ts alone).
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: { isolatedModules: true }, diagnostics: { warnOnly: false, ignoreCodes: [151002] } },
    ],
  },
  setupFiles: ['reflect-metadata'],
  // One migrated database per run, copied for each test file (test/support/database.ts says why).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
};
