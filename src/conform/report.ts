import { z } from 'zod';

/** The `--json` output of every `arcp conform` run. Bump the version when a field changes meaning. */
export const REPORT_FORMAT = 'arcp-conform-report/1';

const OutcomeSchema = z.enum(['pass', 'fail', 'warning', 'info', 'skipped']);

export const FindingSchema = z.object({
  requirement: z.string(),
  outcome: OutcomeSchema,
  message: z.string(),
  deviation: z.object({ kind: z.enum(['v1.0 form', 'deviates from draft']), quote: z.string(), section: z.string() }).optional(),
  seqs: z.array(z.number().int()).optional(),
  tape: z.string().optional(),
});

export const CheckResultSchema = z.object({
  id: z.string(),
  kind: z.enum(['server', 'client', 'wire']),
  title: z.string(),
  level: z.enum(['MUST', 'SHOULD', 'MAY']),
  requirements: z.array(z.string()),
  sections: z.array(z.string()),
  /** After --strict and --expected-failures are applied; `raw` is what the findings came to. */
  status: OutcomeSchema,
  raw: OutcomeSchema,
  /** One line: why it has this status. */
  reason: z.string(),
  /** `expected`: a listed failure, not counted; `stale`: listed but did not fail, which fails the run. */
  baseline: z.enum(['expected', 'stale']).optional(),
  findings: z.array(FindingSchema),
  /** The check's tape (open with `arcp tape show`, replay with `arcp replay`). */
  tape: z.string().optional(),
  /** With --records: the execution records of that tape (`arcp tape records`), written beside it. */
  records: z.string().optional(),
  durationMs: z.number(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** With --records: one tape's execution records, written beside it (or why they could not be derived). */
export const RecordsAttachmentSchema = z.union([
  z.object({
    tape: z.string(),
    file: z.string(),
    sha256: z.string(),
    fingerprint: z.string(),
    records: z.number().int(),
    byKind: z.record(z.string(), z.number().int()),
    /** Records whose status is error (a refused tool call, a failed job…): what the checks provoked. */
    errors: z.number().int(),
  }),
  z.object({ tape: z.string(), error: z.string() }),
]);
export type RecordsAttachment = z.infer<typeof RecordsAttachmentSchema>;

export const ReportSchema = z.object({
  format: z.literal(REPORT_FORMAT),
  tool: z.object({ name: z.literal('arcp'), version: z.string() }),
  spec: z.object({ version: z.string(), sha256: z.string() }),
  mode: z.enum(['server', 'client', 'tape']),
  target: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  strict: z.boolean(),
  tapes: z.string().optional(),
  /** With --records: the records of every tape the report cites, one entry a tape. */
  records: z.array(RecordsAttachmentSchema).optional(),
  /** Things about the run as a whole (a tape pinned to another spec text); warnings count in the summary. */
  notes: z.array(z.object({ level: z.enum(['warning', 'info']), message: z.string() })),
  summary: z.object({
    pass: z.number().int(),
    fail: z.number().int(),
    warning: z.number().int(),
    info: z.number().int(),
    skipped: z.number().int(),
    expected: z.number().int(),
    stale: z.number().int(),
  }),
  /** Exit 0 when true. */
  ok: z.boolean(),
  checks: z.array(CheckResultSchema),
});
export type ConformReport = z.infer<typeof ReportSchema>;
