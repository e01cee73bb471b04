import { valueAt as atPointer } from '../../src/json/pointer.js';
import type { RecordsDocument } from '../../src/records/schema.js';
import { readFrames } from '../helpers/tape.js';

/**
 * Checks every evidence link of every record against the tape itself: the frame at that seq
 * exists, its bytes hash to the cited sha256, and a cited JSON pointer leads somewhere in it.
 * Returns what does not hold (empty when the evidence is true).
 */
export function falseEvidence(doc: RecordsDocument, tape: string): string[] {
  const frames = readFrames(tape);
  const bySeq = new Map(frames.map((f) => [f.seq, f]));
  const problems: string[] = [];
  for (const r of doc.records) {
    if (r.evidence.tape !== doc.tape.fingerprint) problems.push(`${r.event.id}: evidence names tape ${r.evidence.tape}`);
    for (const [field, refs] of Object.entries(r.evidence.fields)) {
      for (const ref of refs) {
        const f = bySeq.get(ref.seq);
        if (!f) problems.push(`${r.event.id} ${field}: no frame ${ref.seq}`);
        else if (f.hash !== ref.sha256) problems.push(`${r.event.id} ${field}: frame ${ref.seq} hashes to ${f.hash}, cited ${ref.sha256}`);
        else if (ref.pointer !== undefined && !atPointer(JSON.parse(f.data.toString('utf8')), ref.pointer).found) problems.push(`${r.event.id} ${field}: frame ${ref.seq} has nothing at ${ref.pointer}`);
      }
    }
    for (const field of ['id', 'intent', 'action', 'inputs', 'status', 'startedAt', 'completedAt', 'durationMs', ...Object.keys(r.event.attributes ?? {}).map((k) => `attributes.${k}`)]) {
      if (!r.evidence.fields[field]) problems.push(`${r.event.id}: no evidence for ${field}`);
    }
    if (r.event.output !== undefined && !r.evidence.fields.output) problems.push(`${r.event.id}: no evidence for output`);
    if (r.event.error !== undefined && !r.evidence.fields.error) problems.push(`${r.event.id}: no evidence for error`);
  }
  return problems;
}

/** The JSON value a field's first pointer evidence names, read from the tape. */
export function citedValue(doc: RecordsDocument, tape: string, id: string, field: string): unknown {
  const r = doc.records.find((x) => x.event.id === id)!;
  const ref = r.evidence.fields[field].find((x) => x.pointer !== undefined)!;
  const f = readFrames(tape).find((x) => x.seq === ref.seq)!;
  return atPointer(JSON.parse(f.data.toString('utf8')), ref.pointer!).value;
}
