import { ToolError } from '../errors.js';
import { attachRecords } from '../records/attach.js';
import type { RecordsAttachment } from './report.js';

/**
 * `--records`: the execution records of every tape a report cites, written beside each tape
 * (`<tape>.records.json`), so a check links to what the agents did in it and to the frames that
 * prove it. A tape records cannot be derived from is listed with the reason, never dropped:
 * the run's verdicts stand either way.
 */
export function attachTapeRecords(tapes: Iterable<string>): RecordsAttachment[] {
  return [...new Set(tapes)].map((tape) => {
    try {
      const a = attachRecords(tape);
      return { tape, file: a.path, sha256: a.sha256, fingerprint: a.fingerprint, records: a.records, byKind: a.byKind, errors: a.errors };
    } catch (e) {
      if (!(e instanceof ToolError)) throw e;
      return { tape, error: e.message };
    }
  });
}
