// Mutation testing (`npm run mutate`, see docs/testing.md). Too slow for CI on two cores: run
// one group at a time (`MUTATE_GROUP=faults npm run mutate`), or all groups in turn.
// Each group names the modules it mutates and the test files that are meant to catch them;
// only those files run, so a group fits on a small machine. Tests that run dist/ (the CLI tests,
// serve-replay) cannot kill a mutant and are left out; so is test/tape/format.test.ts, which
// reads the spec from outside the repository (not there in Stryker's sandbox).
const groups = {
  compare: { mutate: ['src/replay/compare.ts', 'src/replay/early.ts'], tests: ['test/replay/compare.test.ts', 'test/replay/compare-rules.test.ts', 'test/replay/early.test.ts', 'test/replay/drive-window.test.ts'] },
  volatile: { mutate: ['src/replay/volatile.ts'], tests: ['test/replay/volatile.test.ts', 'test/replay/compare.test.ts'] },
  ids: { mutate: ['src/replay/ids.ts'], tests: ['test/replay/ids.test.ts', 'test/replay/compare.test.ts'] },
  faults: { mutate: ['src/replay/faults.ts'], tests: ['test/replay/faults.test.ts', 'test/replay/serve-replay.test.ts'] },
  player: { mutate: ['src/replay/player.ts', 'src/replay/driver.ts'], tests: ['test/replay/serve-replay.test.ts', 'test/replay/stranger-flows.test.ts', 'test/replay/stdio-lines.test.ts'] },
  driver: { mutate: ['src/replay/driver.ts'], tests: ['test/replay/driver-mutants.test.ts', 'test/replay/drive-window.test.ts'] },
  playerfast: { mutate: ['src/replay/player.ts'], tests: ['test/replay/player-mutants.test.ts'] },
  fingerprint: { mutate: ['src/tape/fingerprint.ts', 'src/tape/verify.ts'], tests: ['test/tape/fingerprint.test.ts', 'test/tape/verify.test.ts', 'test/tape/writer.test.ts', 'test/contract/record-channel.test.ts'] },
  redact: { mutate: ['src/tape/redact.ts'], tests: ['test/tape/redact.test.ts', 'test/tape/writer.test.ts'] },
  reader: { mutate: ['src/tape/reader.ts', 'src/tape/prefetch.ts', 'src/tape/frame-pages.ts'], tests: ['test/tape/reader.test.ts', 'test/tape/prefetch.test.ts', 'test/tape/verify.test.ts', 'test/tape/writer.test.ts', 'test/contract/record-channel.test.ts'] },
  record: {
    mutate: ['src/record/channel.ts', 'src/record/http-proxy.ts', 'src/record/http-exchange.ts', 'src/record/ws-proxy.ts'],
    tests: ['test/record/channel.test.ts', 'test/record/http-routes.test.ts', 'test/contract/record-channel.test.ts', 'test/record/http-record.test.ts', 'test/record/http-backpressure.test.ts', 'test/record/http-forwarding.test.ts', 'test/record/http-client-gone.test.ts', 'test/record/http-respond.test.ts', 'test/record/ws-record.test.ts', 'test/record/ws-backpressure.test.ts', 'test/record/ws-upgrade-close.test.ts', 'test/record/stdio-backlog.test.ts'],
  },
  // ws-proxy.ts alone, with only the tests that open a WebSocket recorder: the whole `record`
  // group runs every HTTP test too, and took over 40 minutes for this one file.
  recordws: {
    mutate: ['src/record/ws-proxy.ts'],
    tests: ['test/record/ws-record.test.ts', 'test/record/ws-backpressure.test.ts', 'test/record/ws-upgrade-close.test.ts', 'test/record/ws-proxy-mutants.test.ts', 'test/contract/record-channel.test.ts'],
  },
  // The server matrix runs the whole suite against 25 runtimes (minutes per mutant): the library
  // tests below judge the same verdicts and reports directly.
  conform: { mutate: ['src/conform/verdict.ts', 'src/conform/results.ts'], tests: ['test/conform/verdict.test.ts', 'test/conform/results.test.ts'] },
};

const name = process.env.MUTATE_GROUP;
if (name !== undefined && !(name in groups)) {
  throw new Error(`MUTATE_GROUP=${name} is not a group; use one of: ${Object.keys(groups).join(', ')}`);
}
const chosen = name === undefined ? Object.values(groups) : [groups[name]];
// Read by vitest.mutate.config.ts in the test-runner processes Stryker forks from this one.
process.env.ARCP_MUTATE_TESTS = [...new Set(chosen.flatMap((g) => g.tests))].join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  mutate: chosen.flatMap((g) => g.mutate),
  coverageAnalysis: 'perTest',
  concurrency: 1,
  // A rerun only mutates what changed since the last run of the same group.
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${name ?? 'all'}.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation-${name ?? 'all'}.json` },
  timeoutMS: 20000,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
