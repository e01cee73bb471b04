import { z } from 'zod';
import { JsonObject } from './common.js';

/**
 * §5 envelope. Loose: unknown top-level fields are ignored and preserved.
 * `arcp` is any string here; version policy is decided by the receiver.
 */
export const Envelope = z.looseObject({
  arcp: z.string(),
  id: z.string().min(1),
  type: z.string().min(1),
  session_id: z.string().optional(),
  trace_id: z.string().optional(),
  job_id: z.string().optional(),
  event_seq: z.number().int().nonnegative().optional(),
  extensions: JsonObject.optional(),
  payload: JsonObject,
});
export type Envelope = z.infer<typeof Envelope>;

export const isVendorType = (type: string): boolean => type.startsWith('x-vendor.');

/** 32 lowercase hex: the trace-id part of W3C traceparent, as the peer sends it. */
export const TRACE_ID = /^[0-9a-f]{32}$/;
/** Full `traceparent`, as draft §11 describes it. */
export const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Returns the 32-hex trace id from either accepted form, or undefined. */
export function traceIdOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (TRACE_ID.test(value)) return value;
  const m = TRACEPARENT.exec(value);
  return m ? m[1] : undefined;
}
