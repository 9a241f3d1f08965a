/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Starts a private Temporal + Kafka + PostgreSQL on test ports before any test file, stops it after.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // End-to-end files share one stack and the machine has two cores.
  maxWorkers: 1,
  testTimeout: 120_000,
};
