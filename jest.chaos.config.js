/**
 * Chaos, fan-out and fuzz suites (`npm run test:chaos`): the real handlers against the same local
 * stand-ins as the integration tests (one dynalite and one fauxqs, started by the global set-up),
 * at volume and under injected faults. Minutes, not seconds: not part of `npm test`.
 */
const integration = require('./jest.int.config.js');

module.exports = {
  ...integration,
  testMatch: ['**/*.chaos.test.ts'],
  testTimeout: 15 * 60_000,
  // One suite at a time, in a worker process (a memory limit makes jest use a worker even for one
  // suite): the stand-ins run in jest's main process, and the chaos suite forks its delivery
  // processes, so a suite and the stand-ins share the cores instead of one.
  maxWorkers: 1,
  workerIdleMemoryLimit: '2GB',
};
