import { Args, Flags } from '@oclif/core';
import { readAgentsMap } from '../../src/conform/agents-map.js';
import { runServerSuite } from '../../src/conform/server/run.js';
import { stdioTarget, wsTarget } from '../../src/conform/server/target.js';
import { ToolError } from '../../src/errors.js';
import { ArcpCommand } from '../_base.js';
import { emit, expected, liveFlags, progress, resultFlags } from './_report.js';

export default class ConformServer extends ArcpCommand {
  static override summary = 'Check an ARCP runtime against the v1.1 spec: the suite plays the client';
  static override description = `Runs every server check (arcp conform list --server) against the runtime at WS-URL, or
against a runtime spawned per connection and spoken to over stdio (-- <command>). The runtime
should host the conformance agents (shared/spec/conformance-agents.md); checks whose agent or
feature is missing are skipped with the reason, never passed. Every check's exchange is taped.

Exit codes: 0 every check passed (warnings, info and skips allowed unless --strict), 1 a check
failed or an expected failure went stale, 2 usage or input error (bad flag, unreachable runtime,
refused token).`;
  static override strict = false;
  static override args = { url: Args.string({ description: 'the runtime under test, ws:// or wss://', required: false, ignoreStdin: true }) };
  static override examples = [
    '<%= config.bin %> conform server ws://127.0.0.1:7777 --token "$ARCP_TOKEN" --token2 "$ARCP_TOKEN2"',
    '<%= config.bin %> conform server ws://127.0.0.1:7777 --token tok --junit conform.xml --markdown CONFORMANCE.md',
    "<%= config.bin %> conform server ws://127.0.0.1:7777 --token tok --only 'session/resume/*' --tapes ./conform-tapes",
    '<%= config.bin %> conform server ws://127.0.0.1:7777 --token tok --tapes ./conform-tapes --records   # each tape\'s execution records beside it',
    '<%= config.bin %> conform server --token tok -- arcp serve --stdio --token tok=alice',
    '<%= config.bin %> conform server ws://127.0.0.1:7777 --token tok --agents agents.json --expected-failures known-failures.txt',
  ];
  static override flags = {
    token: Flags.string({ description: 'bearer token of the principal the suite acts as', env: 'ARCP_TOKEN', required: true }),
    token2: Flags.string({ description: 'bearer token of a second principal (isolation checks)' }),
    'observer-token': Flags.string({ description: "bearer token of a principal the runtime lets observe --token's jobs (credential redaction checks)" }),
    agents: Flags.string({ description: "JSON file mapping profile agent names to the runtime's names" }),
    ...liveFlags,
    ...resultFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConformServer);
    const command = this.commandAfterDashes();
    // oclif also fills the positional arg from the words after --.
    const dd = this.argv.indexOf('--');
    if (args.url !== undefined && dd >= 0 && this.argv.indexOf(args.url) > dd) args.url = undefined;
    if (args.url && command.length) throw new ToolError('E_USAGE', 'give a ws:// URL or a runtime command after --, not both', 'see arcp conform server --help');
    if (!args.url && !command.length) throw new ToolError('E_USAGE', 'no runtime to check', 'pass its ws:// URL, or -- <command> that runs it on stdio');
    const p = progress(!flags.json);
    const report = await runServerSuite({
      target: args.url ? wsTarget(args.url) : stdioTarget(command),
      token: flags.token,
      token2: flags.token2,
      observerToken: flags['observer-token'],
      agents: flags.agents ? readAgentsMap(flags.agents) : undefined,
      only: flags.only,
      skip: flags.skip,
      jobs: flags.jobs,
      timeoutSec: flags.timeout,
      strict: flags.strict,
      records: flags.records,
      expectedFailures: expected(flags['expected-failures']),
      tapes: flags.tapes,
      commandLine: ['arcp', 'conform', 'server', ...this.argv],
      onCheck: p.onCheck,
    }).finally(p.done);
    this.exit(emit(report, flags));
  }
}
