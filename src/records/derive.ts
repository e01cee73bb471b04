import { ToolError } from '../errors.js';
import { arcpRecords } from './job-records.js';
import { Ledger } from './ledger.js';
import { llmRecords } from './llm-records.js';
import { RECORDS_SCHEMA, RecordsDocument, RECORD_KINDS, type ArcpRecord } from './schema.js';
import { walkTape } from './walk.js';

export interface DeriveOptions {
  /** Only the records of this job (its own, its tool calls, LLM calls, delegations, cancels of it). */
  job?: string;
}

const startSeq = (r: ArcpRecord) => r.evidence.fields.startedAt?.[0]?.seq ?? 0;

/**
 * The execution records of a tape: one per job, tool call, delegation, cancel and LLM exchange,
 * each with the evidence it was derived from. Deterministic: the same tape gives the same
 * document, byte for byte, which is what `--verify` relies on.
 */
export function deriveRecords(path: string, o: DeriveOptions = {}): RecordsDocument {
  const ledger = new Ledger();
  const tape = walkTape(path, ledger);
  const c = { fingerprint: tape.fingerprint, ledger, sealed: tape.sealed };
  let records = [...arcpRecords(c), ...llmRecords(c)].sort((a, b) => startSeq(a) - startSeq(b) || RECORD_KINDS.indexOf(a.kind) - RECORD_KINDS.indexOf(b.kind) || (a.event.id < b.event.id ? -1 : 1));
  if (o.job !== undefined) {
    const jobs = [...new Set(records.map((r) => r.job).filter((j): j is string => j !== undefined))];
    if (!jobs.includes(o.job)) throw new ToolError('E_USAGE', `${path} has no job ${o.job}`, jobs.length ? `its jobs: ${jobs.slice(0, 8).join(', ')}${jobs.length > 8 ? ', …' : ''}` : 'it holds no jobs');
    records = records.filter((r) => r.job === o.job);
  }
  const doc: RecordsDocument = { schema: RECORDS_SCHEMA, tape: { fingerprint: tape.fingerprint, frames: tape.frames, sealed: tape.sealed }, ...(o.job !== undefined ? { job: o.job } : {}), records };
  const parsed = RecordsDocument.safeParse(doc);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const r = typeof i.path[1] === 'number' ? records[i.path[1]] : undefined;
    throw new Error(`arcp derived a record that breaks its own schema (a bug; please report it with the tape): ${r ? `${r.event.id}: ` : ''}${i.path.join('.')}: ${i.message}`);
  }
  return doc;
}
