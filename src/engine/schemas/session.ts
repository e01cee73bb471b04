import { z } from 'zod';
import { ErrorBody, JsonObject, Lease, LeaseConstraints, Budget, Credential, JobStatus } from './common.js';

export const ResumeRequest = z.looseObject({
  session_id: z.string().min(1),
  resume_token: z.string().min(1),
  last_event_seq: z.number().int().nonnegative(),
});
export type ResumeRequest = z.infer<typeof ResumeRequest>;

export const Capabilities = z.looseObject({
  encodings: z.array(z.string()).optional(),
  features: z.array(z.string()).optional(),
});

export const HelloPayload = z.looseObject({
  client: z.looseObject({ name: z.string(), version: z.string().optional() }).optional(),
  auth: z.looseObject({ scheme: z.string(), token: z.string() }).optional(),
  capabilities: Capabilities.optional(),
  /** v1.0 / wire-notes form of resume. */
  resume: ResumeRequest.optional(),
});

/** 1.1 advertises agents as objects; 1.0 as bare names. Both are accepted. */
export const AgentInventoryEntry = z.union([
  z.string(),
  z.looseObject({ name: z.string(), versions: z.array(z.string()), default: z.string().optional() }),
]);

export const WelcomePayload = z.looseObject({
  runtime: z.looseObject({ name: z.string(), version: z.string().optional() }).optional(),
  resume_token: z.string(),
  resume_window_sec: z.number().optional(),
  heartbeat_interval_sec: z.number().optional(),
  capabilities: Capabilities.extend({ agents: z.array(AgentInventoryEntry).optional() }).optional(),
});

/** Draft §6.3 form of resume: a message of its own. */
export const ResumePayload = ResumeRequest.extend({
  auth: z.looseObject({ scheme: z.string(), token: z.string() }).optional(),
});

export const PingPayload = z.looseObject({ nonce: z.string(), sent_at: z.string().optional() });
export const PongPayload = z.looseObject({ ping_nonce: z.string(), received_at: z.string().optional() });
export const AckPayload = z.looseObject({ last_processed_seq: z.number().int().nonnegative() });

export const ListJobsPayload = z.looseObject({
  filter: z
    .looseObject({
      status: z.array(z.string()).optional(),
      agent: z.string().optional(),
      created_after: z.string().optional(),
    })
    .optional(),
  limit: z.number().int().positive().optional(),
  cursor: z.string().nullable().optional(),
});

export const JobSummary = z.looseObject({
  job_id: z.string(),
  agent: z.string(),
  status: JobStatus.or(z.string()),
  lease: Lease,
  lease_constraints: LeaseConstraints.optional(),
  budget: Budget.optional(),
  credentials: z.array(Credential).optional(),
  parent_job_id: z.string().nullable().optional(),
  created_at: z.string(),
  trace_id: z.string().optional(),
  last_event_seq: z.number().int().optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;

export const JobsPayload = z.looseObject({
  request_id: z.string(),
  jobs: z.array(JobSummary),
  next_cursor: z.string().nullable().optional(),
});

export const ClosePayload = z.looseObject({ reason: z.string().optional() });
export const ClosedPayload = z.looseObject({ reason: z.string().optional() });
export const ByePayload = z.looseObject({ reason: z.string().optional() });
export const SessionErrorPayload = ErrorBody;
export const AnyPayload = JsonObject;
