/**
 * One jest run for the whole repository: unit specs beside the code, integration specs
 * (`*.integration.spec.ts`) and end-to-end tests in test/. A real Kafka broker is started once in
 * global setup (or KAFKA_BROKERS is used) and every test uses its own topics/groups or stream ids.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/**
 * ESM-only packages that tests load (through @kubernetes/client-node 1.x): jest's own module loader
 * cannot require() ESM before Node 24.9, so swc compiles these to CommonJS like our TypeScript.
 */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];
const ESM_ONLY_JS = `/node_modules/(${ESM_ONLY.join('|')})/.+\\.m?js$`;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc, [ESM_ONLY_JS]: swc },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleNameMapper: { '^@tributary/([^/]+)$': '<rootDir>/libs/$1/src' },
  testMatch: [
    '<rootDir>/{libs,services,tools}/**/src/**/*.spec.ts',
    '<rootDir>/tools/scripts/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120_000,
  // Two cores: Kafka, the services under test and ffmpeg share them.
  maxWorkers: 2,
  verbose: true,
};
