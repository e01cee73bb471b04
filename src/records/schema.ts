import { z } from 'zod';

/**
 * Execution records derived from a tape. Each record's `event` has the shape of IntentProof's
 * `ExecutionEvent` v1 (camelCase on the wire, the constraints of its normative schema: no keys
 * beyond the documented ones, `output` on ok and `error` on error, flat primitive attributes),
 * so IntentProof's consumers read it as is; what ARCP adds sits in `attributes`. Beside the
 * event, `evidence` names the frames every field was derived from. See docs/records.md.
 */
export const RECORDS_SCHEMA = 'arcp.records/1';

/**
 * A JSON value. Records are derived from parsed frames and read from parsed files, so every value
 * is JSON by construction; checking it again node by node cost a third of deriving the records.
 */
const Json = z.unknown();

/**
 * IntentProof `ExecutionError`: `name` and `message`, an optional machine-readable `code`, and its
 * optional `stack` (string or null) and nested `cause`, so an IntentProof event reads as is.
 * Records derived from a tape set neither: no frame holds a stack trace.
 */
export interface ExecutionError {
  name: string;
  message: string;
  code?: string;
  stack?: string | null;
  cause?: ExecutionError;
}
export const ExecutionError: z.ZodType<ExecutionError> = z.strictObject({
  name: z.string().min(1),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().nullable().optional(),
  get cause() {
    return ExecutionError.optional();
  },
});

/** Attribute keys as IntentProof allows them; values are primitives only. */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.:-]{1,256}$/;
export const Attributes = z.record(z.string().regex(ATTRIBUTE_KEY), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type Attributes = z.infer<typeof Attributes>;

export const ExecutionEvent = z
  .strictObject({
    id: z.string().min(1),
    intent: z.string().min(1),
    action: z.string().min(1),
    status: z.enum(['ok', 'error']),
    inputs: z.record(z.string(), Json),
    output: Json.optional(),
    error: ExecutionError.optional(),
    startedAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
    durationMs: z.number().int().nonnegative(),
    correlationId: z.string().min(1).refine((s) => s.trim() === s, 'must be trimmed').optional(),
    attributes: Attributes.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.status === 'ok' && (e.error !== undefined || !('output' in e))) ctx.addIssue({ code: 'custom', message: 'an ok event has output and no error', path: ['status'] });
    if (e.status === 'error' && e.error === undefined) ctx.addIssue({ code: 'custom', message: 'an error event has error', path: ['error'] });
    const span = Date.parse(e.completedAt) - Date.parse(e.startedAt);
    if (span < 0) ctx.addIssue({ code: 'custom', message: 'completedAt is before startedAt', path: ['completedAt'] });
    else if (span !== e.durationMs) ctx.addIssue({ code: 'custom', message: `durationMs is not completedAt − startedAt (${span})`, path: ['durationMs'] });
  });
export type ExecutionEvent = z.infer<typeof ExecutionEvent>;

/** One frame a field was derived from: its seq, its blob's sha256, and where in it (a JSON pointer), when it is JSON. */
export const FrameRef = z.strictObject({
  seq: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  pointer: z.string().optional(),
});
export type FrameRef = z.infer<typeof FrameRef>;

const SHA256 = /^[0-9a-f]{64}$/;
const isRef = (r: unknown): boolean => {
  if (!r || typeof r !== 'object') return false;
  const { seq, sha256, pointer, ...rest } = r as Record<string, unknown>;
  return Number.isInteger(seq) && (seq as number) > 0 && typeof sha256 === 'string' && SHA256.test(sha256) && (pointer === undefined || typeof pointer === 'string') && Object.keys(rest).length === 0;
};

/**
 * What a record was derived from: the tape (its fingerprint) and, for every field of the event
 * (`inputs`, `output`, `attributes.arcp.lease`, …), the frames it came from. The links are
 * FrameRefs, checked in one loop: a tape of 100k frames has ~700k of them, and parsing each as
 * its own object was a fifth of deriving the records.
 */
export const Evidence = z.strictObject({
  tape: z.string().regex(/^fp1:[0-9a-f]{64}$/),
  fields: z.record(
    z.string(),
    z.custom<FrameRef[]>((v) => Array.isArray(v) && v.length > 0 && v.every(isRef), 'evidence links are a non-empty list of {seq, sha256, pointer?}'),
  ),
});
export type Evidence = z.infer<typeof Evidence>;

export const RECORD_KINDS = ['job', 'tool', 'delegation', 'llm', 'cancel'] as const;
export const RecordKind = z.enum(RECORD_KINDS);
export type RecordKind = z.infer<typeof RecordKind>;

export const ArcpRecord = z.strictObject({
  kind: RecordKind,
  /** The job the action belongs to (the event's correlationId), when known. */
  job: z.string().optional(),
  event: ExecutionEvent,
  evidence: Evidence,
});
export type ArcpRecord = z.infer<typeof ArcpRecord>;

export const RecordsDocument = z.strictObject({
  schema: z.literal(RECORDS_SCHEMA),
  tape: z.strictObject({
    fingerprint: z.string().regex(/^fp1:[0-9a-f]{64}$/),
    frames: z.number().int().nonnegative(),
    /** False for a tape whose recorder was killed (or is still writing it): records cover what it holds. */
    sealed: z.boolean(),
  }),
  /** Set when the records were limited to one job (`--job`). */
  job: z.string().optional(),
  records: z.array(ArcpRecord),
});
export type RecordsDocument = z.infer<typeof RecordsDocument>;
