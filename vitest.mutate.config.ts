import { defineConfig } from 'vitest/config';

// The suite Stryker runs against each mutant: only the test files of the chosen group
// (stryker.config.mjs), one worker, no dist/ rebuild (the sandbox holds mutated sources).
const include = (process.env.ARCP_MUTATE_TESTS ?? '').split(',').filter((s) => s.length > 0);

export default defineConfig({
  test: {
    include: include.length > 0 ? include : ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
