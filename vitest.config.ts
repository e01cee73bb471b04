import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most tests wait on sockets, timers and child processes: two files at a time on two cores.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
