import type { ArcpRecord } from './schema.js';
import { arcpError, at, json, RecordBuilder } from './build.js';
import { agentOf, jobAttrs, noOutcome, notes, obj, recordId, remainingAttrs, sessionAttrs, str, type Context } from './context.js';
import type { Cancel, Delegation, Job, Submit, ToolCall } from './ledger.js';
import type { Msg } from './walk.js';

/** A terminal frame as an outcome: job.result → ok with its result; job.error → error. */
function terminalOutcome(c: Context, job: Job, b: RecordBuilder): void {
  const t = job.terminal;
  if (!t) {
    b.outcome({ ok: false, error: noOutcome(c, `job ${job.id}`, job.last), refs: [at(job.last)] });
    b.attr('arcp.outcome', 'none', at(job.last));
    return;
  }
  if (t.type === 'job.result') {
    const p = t.payload;
    const streamed = !('result' in p);
    const output = streamed ? Object.fromEntries(['result_id', 'result_size', 'summary'].filter((k) => k in p).map((k) => [k, p[k]])) : p.result;
    b.outcome({ ok: true, output: output ?? null, refs: [at(t, streamed ? '/payload' : '/payload/result'), ...(streamed ? job.resultChunks.map((m) => at(m, '/payload/body')) : [])] });
    b.attr('arcp.outcome', 'result', at(t, '/type'));
    if (job.resultChunks.length) b.attr('arcp.result_chunks', job.resultChunks.length, ...job.resultChunks.map((m) => at(m)));
  } else {
    b.outcome({ ok: false, error: arcpError(t.payload), refs: [at(t, '/payload')] });
    b.attr('arcp.outcome', 'error', at(t, '/type'));
    b.attr('arcp.retryable', typeof t.payload.retryable === 'boolean' ? t.payload.retryable : undefined, at(t, '/payload/retryable'));
  }
  b.attr('arcp.final_status', str(t.payload.final_status), at(t, '/payload/final_status'));
}

function jobRecord(c: Context, job: Job): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'job');
  const k = job.known;
  const agent = agentOf(job);
  const s = job.submit?.msg;
  const d = job.delegation?.event;
  b.set('id', recordId(c, 'job', job.id), at(k, '/payload/job_id'));
  if (s) {
    b.set('intent', `run agent "${agent}" on the submitted input`, at(s, '/payload/agent'), at(k, '/payload/agent'));
    b.set('inputs', s.payload, at(s, '/payload'));
  } else if (d && job.parent) {
    b.set('intent', `run agent "${agent}" on the input job ${job.parent.id} delegated to it`, at(d, '/payload/body/agent'), at(k, '/payload/parent_job_id'));
    b.set('inputs', obj(d.payload.body), at(d, '/payload/body'));
  } else {
    b.set('intent', `run agent "${agent}" (its submit is not on the tape)`, at(k, '/payload/agent'));
    b.set('inputs', {}, at(k));
  }
  b.set('action', `job:${agent}`, at(k, '/payload/agent'));
  b.set('correlationId', job.id, at(k, '/payload/job_id'));
  b.span(s ?? k, job.terminal ?? job.last);
  terminalOutcome(c, job, b);
  jobAttrs(b, c, job);
  if (job.delegation) b.attr('arcp.delegate_id', job.delegation.delegateId, at(k, '/payload/delegate_id'));
  const creds = Array.isArray(k.payload.credentials) ? k.payload.credentials.map((x) => `${str(obj(x).id) ?? '?'} (${str(obj(x).scheme) ?? '?'})`) : [];
  if (creds.length) b.attr('arcp.credentials', creds.join(', '), at(k, '/payload/credentials'));
  remainingAttrs(b, job.remaining);
  if (s) {
    b.attr('arcp.submit_id', str(s.env.id), at(s, '/id'));
    b.attr('arcp.answer_matched_by', job.submit?.answer?.matchedBy, at(k));
  }
  if (job.resubmits.length) b.attr('arcp.resubmits', job.resubmits.length, ...job.resubmits.flatMap((r) => [at(r.msg), at(r.answer?.msg)]));
  b.attr('arcp.notes', notes(s, k, job.terminal), at(s), at(k), at(job.terminal));
  return b.build(job.id);
}

/** A submit that never became a job: rejected before acceptance, or never answered at all. */
function submitRecord(c: Context, s: Submit): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'job');
  const m = s.msg;
  const agent = s.agent ?? '?';
  const a = s.answer?.kind === 'rejected' ? s.answer.msg : undefined;
  const jobId = a ? (str(a.env.job_id) ?? str(a.payload.job_id)) : undefined;
  b.set('id', recordId(c, 'submit', String(m.seq)), at(m));
  b.set('intent', `run agent "${agent}" on the submitted input`, at(m, '/payload/agent'));
  b.set('inputs', m.payload, at(m, '/payload'));
  b.set('action', `job:${agent}`, at(m, '/payload/agent'));
  if (jobId) b.set('correlationId', jobId, at(a, a!.env.job_id !== undefined ? '/job_id' : '/payload/job_id'));
  b.span(m, a ?? m);
  if (a) {
    b.outcome({ ok: false, error: arcpError(a.payload), refs: [at(a, '/payload')] });
    b.attr('arcp.outcome', 'rejected', at(a, '/type'));
    b.attr('arcp.answer_matched_by', s.answer!.matchedBy, at(a));
    b.attr('arcp.retryable', typeof a.payload.retryable === 'boolean' ? a.payload.retryable : undefined, at(a, '/payload/retryable'));
  } else {
    const differs = notes(m);
    const why = s.repeats
      ? `; it repeats the envelope id of the job.submit at seq ${s.repeats.seq}, which a runtime may treat as the same request`
      : m.invalid
        ? `; it is not a valid job.submit (${m.invalid})`
        : differs
          ? `; it departs from the v1.1 draft (${differs}), and a runtime may drop such a frame`
          : '';
    b.outcome({ ok: false, error: { name: 'NoAnswer', message: `the runtime never answered this job.submit${why}` }, refs: [at(m), at(s.repeats)] });
    b.attr('arcp.outcome', 'unanswered', at(m));
  }
  b.attr('arcp.submit_id', str(m.env.id), at(m, '/id'));
  sessionAttrs(b, c, c.ledger.sessionOf(m), m);
  b.attr('arcp.notes', notes(m, a), at(m), at(a));
  return b.build(jobId);
}

function toolRecord(c: Context, job: Job, call: ToolCall, n: number): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'tool');
  const r = call.result;
  const rb = obj(r?.payload.body);
  const first = (call.call ?? r)!;
  const body = obj(call.call?.payload.body);
  // A refusal without a tool_call names the tool in its details (the reference SDK's way).
  const denied = obj(obj(rb.error).details);
  const tool = str(body.tool) ?? str(denied.target) ?? '?';
  const toolRef = call.call ? at(call.call, '/payload/body/tool') : at(r, denied.target !== undefined ? '/payload/body/error/details/target' : '/payload/body/call_id');
  b.set('id', recordId(c, 'tool', job.id, call.callId + (n > 1 ? `#${n}` : '')), at(first, '/payload/body/call_id'));
  b.set('intent', `call tool "${tool}" for job ${job.id} (agent ${agentOf(job)})`, toolRef, at(job.known, '/payload/agent'));
  b.set('action', `tool:${tool}`, toolRef);
  if (call.call) b.set('inputs', body, at(call.call, '/payload/body'));
  else b.set('inputs', { call_id: call.callId }, at(r, '/payload/body/call_id'));
  b.set('correlationId', job.id, at(first, '/job_id'));
  b.span(first, r ?? job.terminal ?? job.last);
  if (!r) b.outcome({ ok: false, error: noOutcome(c, `tool call ${call.callId}`, job.terminal ?? job.last), refs: [at(job.terminal ?? job.last)] });
  else if (rb.error !== undefined) {
    b.outcome({ ok: false, error: arcpError(obj(rb.error)), refs: [at(r, '/payload/body/error')] });
    b.attr('arcp.retryable', typeof obj(rb.error).retryable === 'boolean' ? (obj(rb.error).retryable as boolean) : undefined, at(r, '/payload/body/error/retryable'));
  } else b.outcome({ ok: true, output: rb.result ?? null, refs: [at(r, '/payload/body/result')] });
  jobAttrs(b, c, job);
  b.attr('arcp.call_id', call.callId, at(first, '/payload/body/call_id'));
  const costs = new Map<string, { sum: number; refs: Msg[] }>();
  for (const m of call.costs) {
    const mb = obj(m.payload.body);
    if (typeof mb.value !== 'number' || !str(mb.unit)) continue;
    const e = costs.get(mb.unit as string) ?? { sum: 0, refs: [] };
    e.sum = Math.round((e.sum + mb.value) * 1e6) / 1e6; // millionths, as the runtime's budget arithmetic
    e.refs.push(m);
    costs.set(mb.unit as string, e);
  }
  for (const [cur, e] of costs) b.attr(`arcp.cost.${cur}`, e.sum, ...e.refs.map((m) => at(m, '/payload/body/value')));
  remainingAttrs(b, r ? call.remaining : job.remaining);
  const unannounced = call.call ? undefined : 'no tool_call announced this call: the runtime answered it with a tool_result alone';
  b.attr('arcp.notes', [unannounced, notes(call.call, r)].filter(Boolean).join('; ') || undefined, at(call.call), at(r));
  return b.build(job.id);
}

function delegationRecord(c: Context, job: Job, d: Delegation): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'delegation');
  const body = obj(d.event.payload.body);
  const agent = str(body.agent) ?? '?';
  const child = d.child;
  b.set('id', recordId(c, 'delegation', job.id, d.delegateId), at(d.event, '/payload/body/delegate_id'));
  b.set('intent', `delegate to agent "${agent}" for job ${job.id} (agent ${agentOf(job)})`, at(d.event, '/payload/body/agent'), at(job.known, '/payload/agent'));
  b.set('action', `delegate:${agent}`, at(d.event, '/payload/body/agent'));
  b.set('inputs', body, at(d.event, '/payload/body'));
  b.set('correlationId', job.id, at(d.event, '/job_id'));
  const end = d.denial ?? child?.terminal ?? child?.known ?? job.terminal ?? job.last;
  b.span(d.event, end);
  const t = child?.terminal;
  if (d.denial) b.outcome({ ok: false, error: arcpError(obj(obj(d.denial.payload.body).error)), refs: [at(d.denial, '/payload/body/error')] });
  else if (!child) b.outcome({ ok: false, error: { name: 'NoOutcome', message: `no child job was accepted for delegation ${d.delegateId}, and no refusal is on the tape` }, refs: [at(end)] });
  else if (t?.type === 'job.result') {
    b.outcome({ ok: true, output: { child_job_id: child.id, lease: child.known.payload.lease ?? null, result: 'result' in t.payload ? t.payload.result : null }, refs: [at(child.known, '/payload/job_id'), at(child.known, '/payload/lease'), at(t, '/payload/result')] });
  } else if (t) b.outcome({ ok: false, error: arcpError(t.payload), refs: [at(t, '/payload')], output: { child_job_id: child.id, lease: child.known.payload.lease ?? null } });
  else b.outcome({ ok: false, error: noOutcome(c, `child job ${child.id}`, child.last), refs: [at(child.last)], output: { child_job_id: child.id, lease: child.known.payload.lease ?? null } });
  jobAttrs(b, c, job);
  b.attr('arcp.delegate_id', d.delegateId, at(d.event, '/payload/body/delegate_id'));
  if (body.lease_request !== undefined) b.attr('arcp.lease_request', json(body.lease_request), at(d.event, '/payload/body/lease_request'));
  if (child) {
    b.attr('arcp.child_job_id', child.id, at(child.known, '/payload/job_id'));
    b.attr('arcp.child_lease', json(child.known.payload.lease), at(child.known, '/payload/lease'));
  }
  b.attr('arcp.notes', notes(d.event, d.denial, child?.known), at(d.event), at(d.denial), at(child?.known));
  return b.build(job.id);
}

function cancelRecord(c: Context, x: Cancel): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'cancel');
  const m = x.msg;
  const job = x.jobId ? c.ledger.jobs.get(x.jobId) : undefined;
  const reason = str(m.payload.reason);
  const jobRef = at(m, m.env.job_id !== undefined ? '/job_id' : '/payload/job_id');
  b.set('id', recordId(c, 'cancel', String(m.seq)), at(m));
  b.set('intent', `cancel job ${x.jobId ?? '?'}${reason ? `: ${reason}` : ''}`, jobRef, at(m, '/payload/reason'));
  b.set('action', 'job.cancel', at(m, '/type'));
  b.set('inputs', { job_id: x.jobId ?? null, ...m.payload }, jobRef, at(m, '/payload'));
  if (x.jobId) b.set('correlationId', x.jobId, jobRef);
  // A runtime that skips job.cancelled still ends the job CANCELLED: that is the answer then.
  const ended = !x.answer && job?.terminal && job.terminal.seq > m.seq && job.terminal.payload.code === 'CANCELLED' ? job.terminal : undefined;
  const a = x.answer?.msg ?? ended;
  b.span(m, a ?? m);
  if (x.answer?.kind === 'cancelled') b.outcome({ ok: true, output: { cancelled: true, ...a!.payload }, refs: [at(a, '/payload')] });
  else if (ended) b.outcome({ ok: true, output: { cancelled: true, reason: ended.payload.message ?? null }, refs: [at(ended, '/payload')] });
  else if (a) b.outcome({ ok: false, error: arcpError(a.payload), refs: [at(a, '/payload')] });
  else b.outcome({ ok: false, error: { name: 'NoAnswer', message: `the runtime never answered this job.cancel${job?.terminal && job.terminal.seq < m.seq ? ` (job ${job.id} had already ended at seq ${job.terminal.seq})` : ''}` }, refs: [at(m), at(job?.terminal)] });
  if (x.answer) b.attr('arcp.answer_matched_by', x.answer.matchedBy, at(a));
  else if (ended) b.attr('arcp.answer_matched_by', 'job outcome', at(ended));
  b.attr('arcp.job_id', x.jobId, jobRef);
  sessionAttrs(b, c, c.ledger.sessionOf(m), m);
  if (job && job.session !== c.ledger.sessionOf(m)) b.attr('arcp.job_session_id', job.session.startsWith('channel ') ? undefined : job.session, at(job.known, '/session_id'));
  b.attr('arcp.notes', notes(m, a), at(m), at(a));
  return b.build(x.jobId);
}

/** Every record the ARCP frames give: jobs (and submits that never became one), tool calls, delegations, cancels. */
export function arcpRecords(c: Context): ArcpRecord[] {
  const out: ArcpRecord[] = [];
  for (const job of c.ledger.jobs.values()) {
    out.push(jobRecord(c, job));
    const seen = new Map<string, number>();
    for (const call of job.calls) {
      const n = (seen.get(call.callId) ?? 0) + 1;
      seen.set(call.callId, n);
      out.push(toolRecord(c, job, call, n));
    }
    for (const d of job.delegations) out.push(delegationRecord(c, job, d));
  }
  for (const s of c.ledger.submits) if (s.answer?.kind !== 'accepted') out.push(submitRecord(c, s));
  for (const x of c.ledger.cancels) out.push(cancelRecord(c, x));
  return out;
}
