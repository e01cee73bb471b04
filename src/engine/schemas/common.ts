import { z } from 'zod';

/** A JSON object whose unknown keys are kept: the protocol is forward-compatible (§5). */
export const JsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObject>;

/** §9.1: namespace → glob patterns. */
export const Lease = z.record(z.string(), z.array(z.string()));
export type Lease = z.infer<typeof Lease>;

export const LeaseConstraints = z.looseObject({
  expires_at: z.string().optional(),
});
export type LeaseConstraints = z.infer<typeof LeaseConstraints>;

/** Per-currency budget counters (§9.6). */
export const Budget = z.record(z.string(), z.number());
export type Budget = z.infer<typeof Budget>;

/** §12 error payload, shared by session.error, job.error and tool_result errors. */
export const ErrorBody = z.looseObject({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
  details: JsonObject.optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * §9.8.1 credential. `constraints` is free-form because the peer SDK uses
 * `{allowed_models, max_spend}` where the draft uses lease-shaped keys.
 */
export const Credential = z.looseObject({
  id: z.string(),
  scheme: z.string(),
  value: z.string(),
  endpoint: z.string(),
  profile: z.string().optional(),
  constraints: JsonObject.optional(),
});
export type Credential = z.infer<typeof Credential>;

export const JobStatus = z.enum(['pending', 'running', 'success', 'error', 'cancelled', 'timed_out']);
export type JobStatus = z.infer<typeof JobStatus>;
