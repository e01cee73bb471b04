import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most tests wait on sockets, timers and child processes (the suite uses ~1.4 of 2 cores at
    // two files at a time): three at a time cuts the wall time by a sixth without starving timers.
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
    // Every test file stops what it started: no child process, no listening socket left (test/setup/leftovers.ts).
    setupFiles: ['test/setup/leftovers.ts'],
    // A --json output that does not fit its schema fails the test (children inherit this).
    env: { ARCP_STRICT_JSON: '1' },
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
