import { z } from 'zod';
import { Budget, Credential, ErrorBody, JsonObject, Lease, LeaseConstraints, JobStatus } from './common.js';

export const SubmitPayload = z.looseObject({
  agent: z.string().min(1),
  input: z.unknown().optional(),
  lease_request: Lease.optional(),
  lease_constraints: LeaseConstraints.optional(),
  idempotency_key: z.string().min(1).optional(),
  max_runtime_sec: z.number().positive().optional(),
});
export type SubmitPayload = z.infer<typeof SubmitPayload>;

export const AcceptedPayload = z.looseObject({
  job_id: z.string(),
  agent: z.string().optional(),
  lease: Lease,
  lease_constraints: LeaseConstraints.optional(),
  budget: Budget.optional(),
  credentials: z.array(Credential).optional(),
  accepted_at: z.string().optional(),
  trace_id: z.string().optional(),
  parent_job_id: z.string().nullable().optional(),
  delegate_id: z.string().optional(),
});
export type AcceptedPayload = z.infer<typeof AcceptedPayload>;

/** §8.1 event payload; the body is checked per kind by `parseEventBody`. */
export const EventPayload = z.looseObject({
  kind: z.string().min(1),
  ts: z.string().optional(),
  body: JsonObject,
});
export type EventPayload = z.infer<typeof EventPayload>;

export const ResultPayload = z.looseObject({
  final_status: z.literal('success'),
  result: z.unknown().optional(),
  result_id: z.string().optional(),
  result_size: z.number().int().nonnegative().optional(),
  summary: z.string().optional(),
});
export type ResultPayload = z.infer<typeof ResultPayload>;

export const JobErrorPayload = ErrorBody.extend({
  final_status: z.enum(['error', 'cancelled', 'timed_out']),
});
export type JobErrorPayload = z.infer<typeof JobErrorPayload>;

export const CancelPayload = z.looseObject({ reason: z.string().optional() });
export const CancelledPayload = z.looseObject({ reason: z.string().optional() });

export const SubscribePayload = z.looseObject({
  job_id: z.string().min(1),
  from_event_seq: z.number().int().nonnegative().optional(),
  history: z.boolean().optional(),
});

export const SubscribedPayload = z.looseObject({
  job_id: z.string(),
  current_status: JobStatus.or(z.string()),
  agent: z.string().optional(),
  lease: Lease,
  lease_constraints: LeaseConstraints.optional(),
  budget: Budget.optional(),
  credentials: z.array(Credential).optional(),
  parent_job_id: z.string().nullable().optional(),
  trace_id: z.string().optional(),
  subscribed_from: z.number().int().optional(),
  replayed: z.boolean().optional(),
});

export const UnsubscribePayload = z.looseObject({ job_id: z.string().min(1) });
export const JobAnyPayload = JsonObject;
