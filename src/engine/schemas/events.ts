import { z } from 'zod';
import { ErrorBody, JsonObject, Lease, LeaseConstraints } from './common.js';

/** §8.2 body shapes. Loose: agents may attach attributes (the peer's `log` does). */
export const EVENT_BODIES = {
  log: z.looseObject({ level: z.string(), message: z.string() }),
  thought: z.looseObject({ text: z.string() }),
  tool_call: z.looseObject({ tool: z.string(), args: z.unknown(), call_id: z.string() }),
  tool_result: z
    .looseObject({ call_id: z.string(), result: z.unknown().optional(), error: ErrorBody.optional() })
    .refine((b) => 'result' in b || 'error' in b, { message: 'tool_result needs result or error' }),
  status: z.looseObject({ phase: z.string(), message: z.string().optional() }),
  metric: z.looseObject({
    name: z.string(),
    value: z.number(),
    unit: z.string().optional(),
    dimensions: JsonObject.optional(),
  }),
  artifact_ref: z.looseObject({
    uri: z.string(),
    content_type: z.string(),
    byte_size: z.number().int().nonnegative().optional(),
    sha256: z.string().optional(),
  }),
  delegate: z.looseObject({
    delegate_id: z.string(),
    agent: z.string(),
    input: z.unknown().optional(),
    lease_request: Lease.optional(),
    lease_constraints: LeaseConstraints.optional(),
  }),
  progress: z.looseObject({
    current: z.number().nonnegative(),
    total: z.number().nonnegative().optional(),
    units: z.string().optional(),
    message: z.string().optional(),
  }),
  result_chunk: z.looseObject({
    result_id: z.string(),
    chunk_seq: z.number().int().nonnegative(),
    data: z.string(),
    encoding: z.enum(['utf8', 'base64']),
    more: z.boolean(),
  }),
} as const;

export type EventKind = keyof typeof EVENT_BODIES;
export type EventBody<K extends EventKind> = z.infer<(typeof EVENT_BODIES)[K]>;

export type BodyCheck =
  | { ok: true; kind: EventKind | 'vendor' | 'unknown' }
  | { ok: false; kind: EventKind; issues: string[] };

/**
 * Validates an event body by kind. Vendor kinds (`x-vendor.*`) and unknown kinds pass:
 * v1.0 §8.2 says receivers MUST ignore kinds they do not know.
 */
export function checkEventBody(kind: string, body: unknown): BodyCheck {
  if (kind.startsWith('x-vendor.')) return { ok: true, kind: 'vendor' };
  if (!(kind in EVENT_BODIES)) return { ok: true, kind: 'unknown' };
  const k = kind as EventKind;
  const r = EVENT_BODIES[k].safeParse(body);
  if (r.success) return { ok: true, kind: k };
  return { ok: false, kind: k, issues: r.error.issues.map((i) => `${['body', ...i.path].join('.')}: ${i.message}`) };
}
