/** Unit, template and snapshot tests. Integration tests (`*.int.test.ts`) run from jest.int.config.js. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$', '\\.chaos\\.test\\.ts$'],
  // isolatedModules: transpile only; `tsc --noEmit` type-checks separately. @middy/core is ESM-only,
  // so jest must transform it (allowJs + the exception below).
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.js'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};
