import { Args, Flags } from '@oclif/core';
import { runTapeSuite } from '../../src/conform/tape.js';
import { ArcpCommand } from '../_base.js';
import { emit, expected, resultFlags } from './_report.js';

export default class ConformTape extends ArcpCommand {
  static override summary = 'Judge recorded traffic: every passive check over one or more tapes';
  static override description = `Runs the wire checks (arcp conform list --tape) over the ARCP connections of each tape:
envelopes and schemas, event_seq order, one terminal state per job, result_chunk rules,
retryable rules, features within the negotiated set, ids echoed, resume continuity; and names
the v1.0 forms and the reference SDK's own forms (wire-notes) with the draft sentence they
depart from. By default the runtime's obligations are judged (recorded clients often probe a
runtime on purpose); --subject client or both judges the client too. A tape pinned to another
spec text is judged with a warning naming both hashes.

Exit codes: 0 no check failed, 1 a check failed, 2 not a readable tape or a usage error.`;
  static override strict = false;
  static override args = { tape: Args.string({ description: 'tape file(s)', required: true, ignoreStdin: true }) };
  static override examples = [
    '<%= config.bin %> conform tape tapes/run.tape',
    '<%= config.bin %> conform tape tapes/*.tape --subject both --json',
    '<%= config.bin %> tape import --jsonl capture.jsonl --tape capture.tape && <%= config.bin %> conform tape capture.tape',
  ];
  static override flags = {
    subject: Flags.string({ description: 'whose obligations to judge', options: ['runtime', 'client', 'both'], default: 'runtime' }),
    ...resultFlags,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ConformTape);
    const report = runTapeSuite({
      tapes: argv as string[],
      subjects: flags.subject === 'both' ? ['runtime', 'client'] : [flags.subject as 'runtime' | 'client'],
      only: flags.only,
      skip: flags.skip,
      strict: flags.strict,
      records: flags.records,
      expectedFailures: expected(flags['expected-failures']),
    });
    this.exit(emit(report, flags));
  }
}
