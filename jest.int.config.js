/** Integration tests: the real handlers against real local stand-ins (dynalite, fauxqs). */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['**/*.int.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/integration/global-setup.ts',
  globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
  setupFiles: [...base.setupFiles, '<rootDir>/test/integration/setup-env.ts'],
  testTimeout: 60_000,
};
