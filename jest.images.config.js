/**
 * `npm run test:images`: builds every service image with buildah (tools/images/build.sh) and runs
 * each entrypoint in a chroot (test/images/*.images.ts). Kept out of the default run because a cold
 * build takes minutes of apt, npm and vfs layer copies; no Kafka needed, so no global setup.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/images/**/*.images.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 300_000,
  maxWorkers: 1,
};
