/**
 * `npm run test:faults`: the fault and hostile-input suite (test/faults/*.faults.ts). Each file
 * starts its own Kafka broker (it kills and partitions it, so never the shared one) and two
 * replicas of every service; files run one at a time (they are CPU-heavy) and the global
 * teardown prints the table of faults survived and inputs tried.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.faults.ts'],
  globalSetup: '<rootDir>/test/faults/support/faults-global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/support/faults-global-teardown.ts',
  testTimeout: 300_000,
  maxWorkers: 1,
};
