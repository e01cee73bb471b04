import { Args, Flags } from '@oclif/core';
import { writeRecords } from '../../src/records/attach.js';
import { deriveRecords } from '../../src/records/derive.js';
import { verifyRecords } from '../../src/records/verify.js';
import { recordsCheckLines, recordsLines } from '../../src/render/records.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeRecords extends ArcpCommand {
  static override summary = 'Execution records from a tape: what each agent meant to do, what it did, and the frames that prove it';
  static override description = `One record per action: each job (intent: the agent and its submitted input; outcome: its
result or error), each tool call, each delegation (parent → child), each cancel, and each LLM
exchange (tied to its job by the request's arcp-job-id or traceparent header; the streamed
answer reassembled). Records have the shape of IntentProof's ExecutionEvent (intent, action,
inputs, output or error, status, startedAt, completedAt, durationMs, correlationId,
attributes), with ARCP's lease, budget, trace, session and principal in attributes, and carry
their evidence: the tape's fingerprint and, for every field, the frame seqs and blob sha256s
it was derived from. Redacted values stay placeholders; credentials never appear in clear.

--verify FILE derives the records again and compares them with FILE exactly; every
difference is named (a record edited, a tape whose bytes or frames changed).

Exit codes: 0 shown (or verified), 1 --verify found differences, 2 not a readable tape, no such
job, or a file that is not a records file.`;
  static override examples = [
    '<%= config.bin %> tape records tapes/run.tape',
    '<%= config.bin %> tape records tapes/run.tape --json > run.records.json',
    '<%= config.bin %> tape records tapes/run.tape --job job_01J0ABCDEF --json | jq \'.records[].event.status\'',
    '<%= config.bin %> tape records tapes/run.tape -o run.records.json',
    '<%= config.bin %> tape records --verify run.records.json tapes/run.tape',
    '<%= config.bin %> tape records tapes/run.tape --events   # IntentProof ExecutionEvents, one per line',
  ];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    job: Flags.string({ description: 'only the records of this job (its tool calls, LLM calls, delegations, cancels)' }),
    verify: Flags.string({ description: 'check this records file against the tape instead', exclusive: ['job', 'out', 'events'] }),
    out: Flags.string({ char: 'o', description: 'write the records (pretty JSON) to this file' }),
    force: Flags.boolean({ description: 'replace the --out file if it exists', dependsOn: ['out'] }),
    events: Flags.boolean({ description: 'print only the ExecutionEvents, one JSON per line (no evidence), for IntentProof tools', exclusive: ['json', 'out'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeRecords);
    const c = styleFor(process.stdout);
    if (flags.verify) {
      const v = verifyRecords(flags.verify, args.tape);
      if (flags.json) this.emitJson('arcp-tape-records-check/1', v);
      else process.stdout.write(recordsCheckLines(v, c).join('\n') + '\n');
      if (!v.ok) this.exit(1);
      return;
    }
    const doc = deriveRecords(args.tape, { job: flags.job });
    if (flags.out) {
      const w = writeRecords(doc, flags.out, flags.force);
      if (flags.json) this.emitJson('arcp-tape-records-written/1', { ...w, records: doc.records.length, fingerprint: doc.tape.fingerprint });
      else process.stderr.write(`wrote ${doc.records.length} records to ${w.path} (sha256 ${w.sha256})\n`);
      return;
    }
    if (flags.events) for (const r of doc.records) this.emitDocument(r.event);
    else if (flags.json) this.emitDocument(doc);
    else process.stdout.write(recordsLines(doc, args.tape, c).join('\n') + '\n');
  }
}
