import { ArcpError, toArcpError } from '../engine/errors.js';
import type { Lease } from '../engine/schemas/common.js';
import type { SubmitPayload } from '../engine/schemas/job.js';
import { spawnStdio } from '../engine/transport/stdio.js';
import { ToolError } from '../errors.js';
import { ArcpClient, type WireForm } from './client.js';
import type { JobMessage } from './job-handle.js';

export interface SubmitOptions {
  url?: string;
  /** Spawn a runtime and speak NDJSON on its stdio instead of WebSocket. */
  command?: string[];
  token: string;
  agent: string;
  input?: unknown;
  lease?: Lease;
  expiresAt?: string;
  idempotencyKey?: string;
  maxRuntimeSec?: number;
  form?: WireForm;
  timeoutMs?: number;
}

export interface SubmitOutcome {
  ok: boolean;
  jobId?: string;
  result?: unknown;
  error?: { code: string; message: string; retryable: boolean };
  messages: number;
}

/** Connects, submits one job, streams its messages to `onMessage`, closes. */
export async function submitJob(o: SubmitOptions, onMessage: (m: JobMessage) => void): Promise<SubmitOutcome> {
  if (!o.url && !o.command?.length) throw new ToolError('E_USAGE', 'no runtime given', 'pass --url ws://HOST:PORT or -- <runtime command>');
  const target = o.command?.length ? async () => spawnStdio(o.command![0], o.command!.slice(1)) : o.url!;
  let client: ArcpClient;
  try {
    client = await ArcpClient.connect(target, { token: o.token, form: o.form, autoAckMs: 100, requestTimeoutMs: o.timeoutMs });
  } catch (e) {
    if (e instanceof ArcpError) throw new ToolError('E_CONNECT', `runtime refused the session: ${e.code}: ${e.message}`, 'check --token');
    throw new ToolError('E_CONNECT', `cannot reach ${o.url ?? o.command!.join(' ')}: ${(e as Error).message}`, 'is the runtime running? start one with `arcp serve`');
  }
  const payload: SubmitPayload = { agent: o.agent };
  if (o.input !== undefined) payload.input = o.input;
  if (o.lease) payload.lease_request = o.lease;
  if (o.expiresAt) payload.lease_constraints = { expires_at: o.expiresAt };
  if (o.idempotencyKey) payload.idempotency_key = o.idempotencyKey;
  if (o.maxRuntimeSec) payload.max_runtime_sec = o.maxRuntimeSec;
  const handle = client.submit(payload);
  handle.onMessage(onMessage);
  client.on('child', (child) => child.onMessage(onMessage));
  try {
    const result = await handle.done;
    return { ok: true, jobId: handle.jobId, result: result.result ?? { result_id: result.result_id, result_size: result.result_size }, messages: handle.messages.length };
  } catch (e) {
    const err = toArcpError(e);
    return { ok: false, jobId: handle.jobId, error: { code: err.code, message: err.message, retryable: err.retryable }, messages: handle.messages.length };
  } finally {
    await client.close();
  }
}
