import { Flags } from '@oclif/core';
import { runClientSuite } from '../../src/conform/client/run.js';
import { ArcpCommand } from '../_base.js';
import { emit, expected, liveFlags, progress, resultFlags } from './_report.js';

export default class ConformClient extends ArcpCommand {
  static override summary = 'Check an ARCP client against the v1.1 spec: the suite plays the runtime';
  static override description = `Spawns the client once per scenario with ARCP_URL, ARCP_TOKEN and ARCP_CONFORMANCE_SCENARIO in
its environment; a driver of a few lines maps each scenario to calls of your SDK
(docs/conformance.md describes each scenario; \`arcp conform driver\` is the one for this
project's client). --listen waits for a client you start by hand instead, one scenario at a time.

Exit codes: 0 every check passed, 1 a check failed or an expected failure went stale, 2 usage
or input error.`;
  static override strict = false;
  static override examples = [
    '<%= config.bin %> conform client -- node ./conformance-driver.js',
    '<%= config.bin %> conform client --junit client.xml -- arcp conform driver',
    "<%= config.bin %> conform client --listen --only 'client/resume/*'",
  ];
  static override flags = {
    listen: Flags.boolean({ description: 'wait for a client started by hand (prints ARCP_URL, ARCP_TOKEN and the scenario) instead of spawning one' }),
    token: Flags.string({ description: 'the bearer token handed to the client as ARCP_TOKEN (default: a random one)' }),
    ...liveFlags,
    ...resultFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConformClient);
    const command = this.commandAfterDashes();
    const p = progress(!flags.json && !flags.listen);
    const report = await runClientSuite({
      command: command.length ? command : undefined,
      listen: flags.listen,
      token: flags.token,
      only: flags.only,
      skip: flags.skip,
      jobs: flags.jobs,
      timeoutSec: flags.timeout,
      strict: flags.strict,
      records: flags.records,
      expectedFailures: expected(flags['expected-failures']),
      tapes: flags.tapes,
      commandLine: ['arcp', 'conform', 'client', ...this.argv],
      onListening: flags.listen ? (l) => process.stderr.write(`scenario ${l.scenario}: start your client with\n  ARCP_URL=${l.url} ARCP_TOKEN=${l.token} ARCP_CONFORMANCE_SCENARIO=${l.scenario}\n`) : undefined,
      onCheck: p.onCheck,
    }).finally(p.done);
    this.exit(emit(report, flags));
  }
}
