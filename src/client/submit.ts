import { ArcpError, toArcpError } from '../engine/errors.js';
import type { Lease } from '../engine/schemas/common.js';
import type { SubmitPayload } from '../engine/schemas/job.js';
import { spawnStdio } from '../engine/transport/stdio.js';
import { ToolError } from '../errors.js';
import { ArcpClient, type WireForm } from './client.js';
import type { JobHandle, JobMessage } from './job-handle.js';
import type { CloseInfo } from '../engine/transport/transport.js';

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

/**
 * Connects, submits one job, streams its messages to `onMessage`, closes. A connection lost
 * mid-job is resumed where the spec allows; when it cannot be, this rejects with one ToolError.
 */
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
  const loss = resumeOnLoss(client, handle, o);
  try {
    const result = await Promise.race([handle.done, loss.failed]);
    return { ok: true, jobId: handle.jobId, result: result.result ?? { result_id: result.result_id, result_size: result.result_size }, messages: handle.messages.length };
  } catch (e) {
    if (e instanceof ToolError) throw e;
    const err = toArcpError(e);
    return { ok: false, jobId: handle.jobId, error: { code: err.code, message: err.message, retryable: err.retryable }, messages: handle.messages.length };
  } finally {
    loss.stop();
    await client.close();
  }
}

/** Pauses before each attempt to resume a lost session (§6.3), and the most attempts in one run. */
const RESUME_DELAYS_MS = [100, 500, 1500];
const MAX_RESUMES = 5;

/**
 * Watches the connection while the job runs. When it is lost, the session is resumed (§6.3:
 * same session, events after the last one seen) where the spec allows it: a WebSocket runtime,
 * and a job it has accepted. Otherwise, or when resuming fails, `failed` rejects with one line
 * naming what was lost.
 */
function resumeOnLoss(client: ArcpClient, handle: JobHandle, o: SubmitOptions): { failed: Promise<never>; stop(): void } {
  let stopped = false;
  let resumes = 0;
  let fail!: (e: ToolError) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const where = o.url ?? o.command!.join(' ');
  let resuming = false;
  const onClose = async (info: CloseInfo) => {
    // A failed attempt closes its own connection too: the loop below already handles it.
    if (stopped || resuming) return;
    const why = info.error ?? (info.code === 1006 || info.code === undefined ? 'the connection dropped' : `closed with ${info.code}${info.reason ? ` "${info.reason}"` : ''}`);
    const job = handle.jobId ? ` mid-job (${handle.jobId})` : '';
    if (o.command?.length) return fail(new ToolError('E_CONNECT', `the runtime ${where} went away${job}: ${why}`, 'a runtime on stdio cannot be resumed: run the job again'));
    if (!handle.jobId) return fail(new ToolError('E_CONNECT', `lost the connection to ${where} before the job was accepted (${why}); it may or may not run`, 'submit again with --idempotency-key KEY, so that a repeat cannot run it twice'));
    let last: unknown;
    resuming = true;
    try {
      for (const wait of RESUME_DELAYS_MS) {
        if (++resumes > MAX_RESUMES) break;
        await new Promise((r) => setTimeout(r, wait));
        if (stopped) return;
        try {
          await client.resume();
          return;
        } catch (e) {
          last = e;
        }
      }
    } finally {
      resuming = false;
    }
    const reason = last instanceof ArcpError ? `${last.code}: ${last.message}` : ((last as Error | undefined)?.message ?? 'too many drops');
    fail(new ToolError('E_CONNECT', `lost the connection to ${where}${job} (${why}); resuming the session failed: ${reason}`, 'is the runtime still running? its jobs stay resumable within its resume window (session.welcome resume_window_sec)'));
  };
  client.on('close', (info: CloseInfo) => void onClose(info));
  return {
    failed,
    stop: () => {
      stopped = true;
    },
  };
}
