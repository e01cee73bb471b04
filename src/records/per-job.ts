import type { ArcpRecord, RecordsDocument } from './schema.js';

/** One job's records: the job itself, then what it did (tool calls, LLM calls, delegations) and the cancels aimed at it, in tape order. */
export interface JobRecords {
  /** Absent for records no job can be named for: submits never answered, LLM calls no job named. */
  jobId?: string;
  /** The job's own record (for a job rejected before acceptance: the rejected submit). */
  job?: ArcpRecord;
  /** The parent job, for a delegated child. */
  parent?: string;
  actions: ArcpRecord[];
}

export interface EvidenceLink {
  /** The record field (`output`, `attributes.arcp.lease`, …). */
  field: string;
  seq: number;
  sha256: string;
  pointer?: string;
  /** The command that shows the frame. */
  show: string;
}

/**
 * Records grouped under their jobs, for a report: jobs in the order they appear on the tape,
 * each with its own record first and its actions after it. What `arcp tape records` prints and
 * what `arcp report` lists.
 */
export function recordsPerJob(doc: RecordsDocument): JobRecords[] {
  const groups = new Map<string | undefined, JobRecords>();
  for (const r of doc.records) {
    let g = groups.get(r.job);
    if (!g) groups.set(r.job, (g = { ...(r.job !== undefined ? { jobId: r.job } : {}), actions: [] }));
    if (r.kind === 'job' && !g.job && r.job !== undefined) {
      g.job = r;
      const parent = r.event.attributes?.['arcp.parent_job_id'];
      if (typeof parent === 'string') g.parent = parent;
    } else g.actions.push(r);
  }
  const unnamed = groups.get(undefined);
  groups.delete(undefined);
  return [...groups.values(), ...(unnamed ? [unnamed] : [])];
}

/** Every frame a record was derived from, by field, with the command that shows it. */
export function evidenceLinks(r: ArcpRecord, tapePath: string): EvidenceLink[] {
  return Object.entries(r.evidence.fields).flatMap(([field, refs]) =>
    refs.map((ref) => ({ field, seq: ref.seq, sha256: ref.sha256, ...(ref.pointer !== undefined ? { pointer: ref.pointer } : {}), show: `arcp tape show ${quote(tapePath)} --frame ${ref.seq}` })),
  );
}

const quote = (p: string) => (/^[\w./@:-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
