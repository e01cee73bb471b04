import { deriveRecords } from '../records/derive.js';
import { recordsPerJob } from '../records/per-job.js';
import type { ArcpRecord } from '../records/schema.js';
import { boundedJson } from '../replay/preview.js';
import { chunksOf, DIRECTIONS, FLAG, FRAME_KINDS } from '../tape/format.js';
import { indexJobs } from '../tape/jobs.js';
import { TapeReader } from '../tape/reader.js';
import { Budget, DEFAULT_LIMITS, type ReportLimits } from './budget.js';
import type { FrameColumns, JobView, Lane, RecordView, TapeView } from './data.js';
import { frameSummary, frameText } from './frame-text.js';

export interface TapeViewOptions extends ReportLimits {
  /** Only frames in this seq range (a divergence's neighbourhood); the whole tape otherwise. */
  fromSeq?: number;
  toSeq?: number;
  /** Leave the execution records out (a window of a tape: records speak of whole jobs). */
  records?: boolean;
}

function recordView(r: ArcpRecord, budget: Budget): RecordView {
  const e = r.event;
  const { text } = boundedJson(e, budget.perItem);
  return {
    kind: r.kind,
    action: e.action,
    status: e.status,
    durationMs: e.durationMs,
    ...(e.error ? { error: `${e.error.name}${e.error.code ? ` ${e.error.code}` : ''}: ${e.error.message}` } : {}),
    evidence: Object.entries(r.evidence.fields).flatMap(([field, refs]) => refs.map((x): [string, number] => [field, x.seq])),
    event: budget.take(text),
  };
}

/**
 * What a report shows of a tape: one lane per channel, every frame (clipped, within a byte
 * budget), the SSE chunks of streamed bodies, jobs with their events and the LLM calls they
 * caused, and each job's execution records with their evidence seqs. Reads the tape in passes
 * (frames, jobs, records), each streaming, so memory follows what the page will hold.
 */
export function tapeView(path: string, o: TapeViewOptions = {}): TapeView {
  const budget = new Budget(o.budget ?? DEFAULT_LIMITS.budget, o.frameChars ?? DEFAULT_LIMITS.frameChars);
  const eventsPerJob = o.eventsPerJob ?? DEFAULT_LIMITS.eventsPerJob;
  const tape = TapeReader.open(path);
  try {
    const channels = tape.channels();
    const laneOf = new Map(channels.map((c, i) => [c.id, i]));
    const lanes: Lane[] = channels.map((c) => ({ channel: c.id, kind: c.kind, label: c.label, frames: 0 }));
    const cols: FrameColumns = { seq: [], lane: [], t: [], dir: [], kind: [], size: [], flags: [], summary: [], text: [] };
    const sse: number[] = [];
    let t0: number | undefined;
    for (const f of tape.frames({ fromSeq: o.fromSeq, toSeq: o.toSeq })) {
      t0 ??= f.mono_us;
      const lane = laneOf.get(f.channel) ?? 0;
      lanes[lane].frames++;
      cols.seq.push(f.seq);
      cols.lane.push(lane);
      cols.t.push(f.mono_us - t0);
      cols.dir.push(DIRECTIONS.indexOf(f.dir));
      cols.kind.push(FRAME_KINDS.indexOf(f.kind));
      cols.size.push(f.size);
      cols.flags.push(f.flags);
      cols.summary.push(frameSummary(f));
      cols.text.push(budget.take(frameText(f, budget.perItem)));
      if (f.kind === 'http.response.body' && f.flags & FLAG.sse) for (const c of chunksOf(f)) sse.push(lane, c.mono_us - t0);
    }
    const index = indexJobs(tape);
    const inRange = (seq: number) => (o.fromSeq === undefined || seq >= o.fromSeq) && (o.toSeq === undefined || seq <= o.toSeq);
    const jobs: JobView[] = index.jobs.map((j) => ({
      n: j.n,
      id: j.id,
      lane: laneOf.get(j.channel) ?? 0,
      ...(j.agent ? { agent: j.agent } : {}),
      ...(j.status ? { status: j.status } : {}),
      ...(j.parentId ? { parent: j.parentId } : {}),
      ...(j.submitSeq !== undefined ? { submitSeq: j.submitSeq } : {}),
      ...(j.acceptedSeq !== undefined ? { acceptedSeq: j.acceptedSeq } : {}),
      ...(j.terminalSeq !== undefined ? { terminalSeq: j.terminalSeq } : {}),
      ...(j.error ? { error: [j.error.code, j.error.message].filter(Boolean).join(': ') } : {}),
      events: j.events.filter((e) => inRange(e.seq)).slice(0, eventsPerJob).map((e): [number, string, string] => [e.seq, e.kind, e.gist]),
      eventCount: j.events.length,
      calls: j.exchanges.map((x) => {
        const lane = laneOf.get(x.channel) ?? 0;
        lanes[lane].job = j.n;
        return { lane, method: x.method, path: x.path, ...(x.status !== undefined ? { status: x.status } : {}), sse: x.sseEvents, firstSeq: x.seqs[0], ...(x.linkedBy ? { linkedBy: x.linkedBy } : {}) };
      }),
      records: [],
    }));
    const view: TapeView = {
      path,
      ...(tape.meta.fingerprint ? { fingerprint: tape.meta.fingerprint } : {}),
      startedAt: tape.meta.started_at,
      frameCount: cols.seq.length,
      lanes,
      frames: cols,
      sse,
      jobs,
      unowned: [],
      limits: { frameChars: budget.perItem, budget: budget.total, textless: 0, clipped: 0 },
    };
    if (o.records !== false) attachRecords(view, path, budget);
    view.limits.textless = budget.refused;
    view.limits.clipped = budget.clipped;
    return view;
  } finally {
    tape.close();
  }
}

/** Each job's records under it; a tape the records cannot be derived from still gets its report, saying why. */
function attachRecords(view: TapeView, path: string, budget: Budget): void {
  try {
    const byId = new Map(view.jobs.map((j) => [j.id, j]));
    for (const g of recordsPerJob(deriveRecords(path))) {
      const rs = [...(g.job ? [g.job] : []), ...g.actions].map((r) => recordView(r, budget));
      const j = g.jobId !== undefined ? byId.get(g.jobId) : undefined;
      if (j) j.records = rs;
      else view.unowned.push(...rs);
    }
  } catch (e) {
    view.recordsError = (e as Error).message;
  }
}
