/** Tests run against a real database: SQLite by default, PostgreSQL when DATABASE_URL is set. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: false, diagnostics: { warnOnly: false, ignoreCodes: [151002] } }],
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
