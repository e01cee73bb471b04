import { z } from 'zod';

/** What one report page holds, embedded as one JSON script tag; the page's script reads nothing else. */
export const REPORT_SCHEMA = 'arcp.report/1';

/** One swimlane: a channel of the tape (an ARCP connection, a stdio session, one HTTP exchange). */
export const Lane = z.object({
  channel: z.number().int(),
  kind: z.enum(['ws', 'stdio', 'http']),
  label: z.string(),
  /** For an HTTP exchange: the job (its `n`) that caused it. */
  job: z.number().int().optional(),
  frames: z.number().int(),
});
export type Lane = z.infer<typeof Lane>;

/**
 * Frames column by column (one array per field, index i is one frame), so 200k frames cost
 * numbers and short strings, not 200k objects with repeated keys. `text` is the frame's bytes
 * as text, clipped to the per-frame limit; null once the page's byte budget is spent.
 */
export const FrameColumns = z.object({
  seq: z.array(z.number().int()),
  lane: z.array(z.number().int()),
  /** Microseconds since the tape's first frame (the recorder's monotonic clock). */
  t: z.array(z.number().int()),
  dir: z.array(z.number().int()),
  kind: z.array(z.number().int()),
  size: z.array(z.number().int()),
  flags: z.array(z.number().int()),
  summary: z.array(z.string()),
  text: z.array(z.string().nullable()),
});
export type FrameColumns = z.infer<typeof FrameColumns>;

export const RecordView = z.object({
  kind: z.string(),
  action: z.string(),
  status: z.string(),
  durationMs: z.number(),
  error: z.string().optional(),
  /** [field, seq] per evidence link. */
  evidence: z.array(z.tuple([z.string(), z.number().int()])),
  /** The ExecutionEvent as JSON text (clipped); null past the budget. */
  event: z.string().nullable(),
});
export type RecordView = z.infer<typeof RecordView>;

export const JobView = z.object({
  n: z.number().int(),
  id: z.string(),
  lane: z.number().int(),
  agent: z.string().optional(),
  status: z.string().optional(),
  parent: z.string().optional(),
  submitSeq: z.number().int().optional(),
  acceptedSeq: z.number().int().optional(),
  terminalSeq: z.number().int().optional(),
  error: z.string().optional(),
  /** [seq, kind, gist] per job.event, up to the per-job limit. */
  events: z.array(z.tuple([z.number().int(), z.string(), z.string()])),
  eventCount: z.number().int(),
  /** The HTTP exchanges (LLM calls) it caused. */
  calls: z.array(z.object({ lane: z.number().int(), method: z.string(), path: z.string(), status: z.number().int().optional(), sse: z.number().int(), firstSeq: z.number().int(), linkedBy: z.string().optional() })),
  records: z.array(RecordView),
});
export type JobView = z.infer<typeof JobView>;

export const TapeView = z.object({
  path: z.string(),
  fingerprint: z.string().optional(),
  startedAt: z.string().optional(),
  frameCount: z.number().int(),
  lanes: z.array(Lane),
  frames: FrameColumns,
  /** [lane, t] of every SSE chunk of a streamed body, flattened. */
  sse: z.array(z.number().int()),
  jobs: z.array(JobView),
  /** Records no job can be named for. */
  unowned: z.array(RecordView),
  recordsError: z.string().optional(),
  /** How much was left out to keep the file bounded. */
  limits: z.object({ frameChars: z.number().int(), budget: z.number().int(), textless: z.number().int(), clipped: z.number().int() }),
});
export type TapeView = z.infer<typeof TapeView>;

export const DivergenceView = z.object({
  ok: z.boolean(),
  headline: z.string(),
  /** The first divergence's seq on the recorded tape, when one is named. */
  seq: z.number().int().optional(),
  path: z.string().optional(),
  reason: z.string().optional(),
  expected: z.string().nullable(),
  actual: z.string().nullable(),
  /** Everything else the replay reported, for the curious (clipped JSON text). */
  outcome: z.string(),
});

export const ConformView = z.object({
  summary: z.string(),
  sections: z.array(
    z.object({
      section: z.string(),
      title: z.string(),
      results: z.array(z.object({ id: z.string(), verdict: z.string(), title: z.string(), detail: z.string().optional(), tape: z.string().optional(), seqs: z.array(z.number().int()) })),
    }),
  ),
});

export const TreeView = z.object({
  nodes: z.array(z.object({ depth: z.number().int(), name: z.string(), line: z.string(), detail: z.string() })),
});

export const ReportData = z.object({
  schema: z.literal(REPORT_SCHEMA),
  title: z.string(),
  generatedBy: z.string(),
  /** Frame kinds, directions and flag names by index, as the frame columns number them. */
  names: z.object({ kinds: z.array(z.string()), dirs: z.array(z.string()), flags: z.array(z.string()) }),
  tape: TapeView.optional(),
  divergence: DivergenceView.optional(),
  conform: ConformView.optional(),
  tree: TreeView.optional(),
});
export type ReportData = z.infer<typeof ReportData>;

