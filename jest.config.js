// Three projects, from fastest to slowest; `npx jest --selectProjects unit` runs in seconds with nothing started.
//   unit:     pure code, no server;
//   workflow: workflows with mocked activities on Temporal's time-skipping test server (test/workflow/env.ts);
//   e2e:      the real stack (Temporal, Kafka, PostgreSQL and the simulators), started once for the run.
const base = {
  // One file at a time, but for files that only wait (test/jest-one-at-a-time.cjs says which and why).
  testEnvironment: '<rootDir>/test/jest-one-at-a-time.cjs',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...base, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    { ...base, displayName: 'workflow', roots: ['<rootDir>/test/workflow'] },
    {
      ...base,
      displayName: 'e2e',
      roots: ['<rootDir>/test/e2e'],
      // Starts a private Temporal + Kafka + PostgreSQL on test ports before the first end-to-end file, stops it
      // after; only when an e2e file is selected.
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
  // End-to-end files share one stack and the machine has two cores: the environment above runs them one at a
  // time; the second worker is for a file that runs beside them (started first by the sequencer).
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/jest-sequencer.cjs',
  testTimeout: 120_000,
};
