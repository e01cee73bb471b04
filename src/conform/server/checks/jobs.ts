import { accepted, codeOf, deepEqual, ev, isoIn, judgeRejection, orNothing, what, type Check } from './util.js';

export const submitEcho: Check = {
  kind: 'server',
  id: 'jobs/submit/accepted-and-result',
  title: 'job.accepted echoes the effective lease and constraints; the job ends with job.result',
  requirements: ['7.1/accepted-echoes', '3/job-terminates', '9.5/may-expire'],
  needs: { features: ['lease_expires_at'], agents: ['echo'] },
  description: 'Submits `echo` with a lease and an expires_at an hour ahead: job.accepted must carry job_id, the lease and the constraints; the job must end with job.result whose result echoes the input.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const lease = { 'fs.read': ['/workspace/conform/**'] };
    const constraints = { expires_at: isoIn(3600_000).replace(/\.\d+Z$/, 'Z') };
    const input = { hello: 'conformance', n: 1 };
    const out = await s.submit({ agent: ctx.agent('echo'), input, lease_request: lease, lease_constraints: constraints });
    if (!out.accepted) {
      j.violation('7.1/accepted-echoes', `a valid job.submit was refused: ${what(out.rejected)} ${out.rejected?.msg.payload.message ?? ''}`, ev(out.sent, out.rejected));
      return;
    }
    const p = out.accepted.msg.payload;
    j.info('9.5/may-expire', 'a lease with expires_at was accepted');
    j.expect(typeof p.job_id === 'string' && p.job_id.length > 0, '7.1/accepted-echoes', `job_id ${p.job_id}`, 'job.accepted has no job_id', ev(out.accepted));
    j.expect(p.lease && typeof p.lease === 'object', '7.1/accepted-echoes', 'the effective lease is echoed', 'job.accepted has no lease', ev(out.accepted));
    if (p.lease && !deepEqual(p.lease, lease)) j.info('7.1/accepted-echoes', `the effective lease differs from the request: ${JSON.stringify(p.lease)}`, ...ev(out.accepted));
    j.expect(p.lease_constraints?.expires_at !== undefined && Date.parse(p.lease_constraints.expires_at) === Date.parse(constraints.expires_at), '7.1/accepted-echoes', 'lease_constraints.expires_at echoed', `lease_constraints echoed as ${JSON.stringify(p.lease_constraints)}`, ev(out.accepted));
    const end = await orNothing(s.terminal(out.jobId!));
    j.expect(end?.msg.type === 'job.result' && deepEqual(end.msg.payload.result?.echoed, input), '3/job-terminates', 'job.result with the echoed input', `the job ended with ${what(end)} ${end ? JSON.stringify(end.msg.payload).slice(0, 120) : ''}`, ev(end));
  },
};

export const budgetCounters: Check = {
  kind: 'server',
  id: 'jobs/submit/budget-counters',
  title: 'job.accepted carries one budget counter per currency, at the budgeted value',
  requirements: ['7.1/accepted-echoes', '9.6/counters-initialized'],
  needs: { features: ['cost.budget'], agents: ['echo'] },
  description: 'Submits `echo` with cost.budget ["USD:2.50", "credits:100"]: job.accepted must carry budget {USD: 2.5, credits: 100}.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('echo'), lease_request: { 'cost.budget': ['USD:2.50', 'credits:100'] } });
    const b = a.accepted.msg.payload.budget;
    j.expect(b !== undefined, '7.1/accepted-echoes', 'budget counters echoed', 'cost.budget is in the lease but job.accepted has no budget', ev(a.accepted));
    j.expect(b?.USD === 2.5 && b?.credits === 100, '9.6/counters-initialized', 'USD 2.5 and credits 100, counted apart', `budget ${JSON.stringify(b)}, expected {"USD":2.5,"credits":100}`, ev(a.accepted));
  },
};

export const idempotency: Check = {
  kind: 'server',
  id: 'jobs/idempotency/same-accepted',
  title: 'A repeated idempotency_key with the same parameters returns the same job.accepted; different ones get DUPLICATE_KEY',
  requirements: ['7.2/same-accepted', '7.2/duplicate-key'],
  needs: { agents: ['echo'] },
  description: 'Submits `echo` with a fresh idempotency_key, again in the same session and again from a second session of the same principal: each answer must be the same job.accepted payload. Then the key with another input must get DUPLICATE_KEY.',
  async run(ctx) {
    const j = ctx.judge;
    const key = `conform-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const s = await ctx.session();
    const payload = { agent: ctx.agent('echo'), input: { idem: key }, idempotency_key: key };
    const first = await accepted(ctx, s, payload);
    await s.terminal(first.jobId);
    const again = await s.submit(payload);
    j.expect(Boolean(again.accepted) && deepEqual(again.accepted!.msg.payload, first.accepted.msg.payload), '7.2/same-accepted', 'the same session gets the same job.accepted payload', again.accepted ? `the payload differs: ${JSON.stringify(again.accepted.msg.payload).slice(0, 160)}` : `the repeat got ${what(again.rejected)}`, ev(first.accepted, again.accepted ?? again.rejected));
    const s2 = await ctx.session();
    const other = await s2.submit(payload);
    j.expect(Boolean(other.accepted) && deepEqual(other.accepted!.msg.payload, first.accepted.msg.payload), '7.2/same-accepted', 'another session of the principal gets the same job.accepted payload', other.accepted ? `the payload differs: ${JSON.stringify(other.accepted.msg.payload).slice(0, 160)}` : `the repeat got ${what(other.rejected)}`, ev(other.accepted ?? other.rejected));
    const conflict = await s2.submit({ ...payload, input: { idem: key, changed: true } });
    judgeRejection(j, conflict, '7.2/duplicate-key', 'DUPLICATE_KEY', 'the key with other parameters');
  },
};

export const cancel: Check = {
  kind: 'server',
  id: 'jobs/cancel/acknowledged',
  title: 'job.cancel is acknowledged with job.cancelled, then job.error CANCELLED with final_status cancelled',
  requirements: ['7.4/cancel-acknowledged', '7.4/may-cancel'],
  needs: { agents: ['slow'] },
  description: 'Starts `slow`, waits for its first event, cancels it: the runtime must send job.cancelled and then job.error with code CANCELLED and final_status "cancelled", and nothing of the job after that.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('slow'), input: { steps: 100, tickMs: 50 } });
    await s.event(a.jobId, () => true, 'a first event').catch(() => ctx.skip('precondition: the job emitted nothing'));
    const from = s.peer.mark;
    const sent = s.cancel(a.jobId, 'conformance check');
    const ack = await orNothing(s.peer.waitFor((m) => m.type === 'job.cancelled' && m.job_id === a.jobId, 'job.cancelled', ctx.waitMs, from));
    const end = await orNothing(s.terminal(a.jobId));
    j.info('7.4/may-cancel', 'the submitting session cancelled a running job');
    j.expect(Boolean(ack), '7.4/cancel-acknowledged', 'job.cancelled', 'no job.cancelled acknowledged the cancel', ev(sent.frame, ack));
    j.expect(end?.msg.type === 'job.error' && end.msg.payload.code === 'CANCELLED' && end.msg.payload.final_status === 'cancelled', '7.4/cancel-acknowledged', 'job.error CANCELLED, final_status cancelled', `the job ended with ${what(end)} final_status ${end?.msg.payload.final_status}`, ev(end));
    if (ack && end) j.expect(ack.i < end.i, '7.4/cancel-acknowledged', 'job.cancelled came before the job.error', 'job.cancelled came after the job.error', ev(ack, end));
  },
};

export const timeout: Check = {
  kind: 'server',
  id: 'jobs/timeout/max-runtime',
  title: 'A job past max_runtime_sec ends with TIMEOUT and final_status timed_out, and not before',
  requirements: ['12/timeout', '7.3/terminal-states'],
  needs: { agents: ['slow'] },
  estimateMs: () => 3000,
  description: 'Submits `slow` with max_runtime_sec 1: it must end with job.error TIMEOUT and final_status "timed_out", no sooner than one second after job.accepted.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('slow'), input: { steps: 600, tickMs: 100 }, max_runtime_sec: 1 });
    const end = await orNothing(s.terminal(a.jobId, 1000 + ctx.waitMs));
    if (!end) {
      j.violation('12/timeout', 'the job ran on past max_runtime_sec 1 without ending', ev(a.accepted));
      return;
    }
    // Timed from our submit's send, not from job.accepted's arrival: the runtime's clock cannot
    // start before it has the submit, while a late job.accepted (a loaded link) would shorten the
    // gap and fail a runtime that did nothing wrong.
    const ms = Math.round(end.frame.at - a.sent.at);
    j.expect(codeOf(end) === 'TIMEOUT', '12/timeout', `job.error TIMEOUT ${ms} ms after the submit`, `the job ended with ${what(end)} ${ms} ms after the submit`, ev(a.accepted, end));
    j.expect(ms >= 995, '12/timeout', 'not before max_runtime_sec', `TIMEOUT ${ms} ms after the submit was sent, before max_runtime_sec 1 could have passed`, ev(a.accepted, end));
    j.expect(end.msg.payload.final_status === 'timed_out', '7.3/terminal-states', 'final_status timed_out', `final_status ${end.msg.payload.final_status}`, ev(end));
  },
};

export const versionsDefault: Check = {
  kind: 'server',
  id: 'agents/versions/bare-name-default',
  title: 'A bare agent name resolves to the advertised default version, shown as name@version',
  requirements: ['7.5/bare-default', '7.5/resolved-shown', '7.5/no-migration'],
  needs: { features: ['agent_versions'], agents: ['refactor'] },
  description: "Submits `refactor` without a version: job.accepted must name the welcome's default (refactor@2.0.0 in the profile) and the v2 handler must run.",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const name = ctx.agent('refactor');
    const entry = ctx.probe.agents?.find((x) => x.name === name);
    const dflt = entry?.default ?? '2.0.0';
    const a = await accepted(ctx, s, { agent: name, input: { path: 'x.ts' } });
    j.expect(a.accepted.msg.payload.agent === `${name}@${dflt}`, '7.5/bare-default', `resolved to ${name}@${dflt}`, `job.accepted names agent ${a.accepted.msg.payload.agent}, expected ${name}@${dflt}`, ev(a.accepted));
    j.expect(/@/.test(a.accepted.msg.payload.agent ?? ''), '7.5/resolved-shown', 'job.accepted shows name@version', `job.accepted shows ${a.accepted.msg.payload.agent}`, ev(a.accepted));
    const end = await orNothing(s.terminal(a.jobId));
    const v = end?.msg.payload.result?.version;
    j.expect(end?.msg.type === 'job.result' && (v === undefined || v === dflt), '7.5/no-migration', `the ${dflt} handler ran`, `the job ran ${v ? `version ${v}` : `to ${what(end)}`}`, ev(end));
  },
};

export const versionsPinned: Check = {
  kind: 'server',
  id: 'agents/versions/pinned',
  title: 'name@version runs exactly that version, in job.accepted and in listings',
  requirements: ['7.5/exact-version', '7.5/resolved-shown', '7.5/no-migration', '7.5/version-suffix'],
  needs: { features: ['agent_versions', 'list_jobs'], agents: ['refactor'] },
  description: 'Submits `refactor@1.0.0`: job.accepted and the job listing must name refactor@1.0.0, and the result must come from the v1 handler.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const ref = `${ctx.agent('refactor')}@1.0.0`;
    const a = await accepted(ctx, s, { agent: ref, input: { path: 'pinned.ts' } });
    j.info('7.5/version-suffix', 'a version suffix was accepted');
    j.expect(a.accepted.msg.payload.agent === ref, '7.5/exact-version', `job.accepted names ${ref}`, `job.accepted names ${a.accepted.msg.payload.agent}`, ev(a.accepted));
    const list = await s.listJobs({});
    const entry = (list.reply.msg.payload.jobs ?? []).find((x: { job_id: string }) => x.job_id === a.jobId);
    if (entry) j.expect(entry.agent === ref, '7.5/resolved-shown', `the listing names ${ref}`, `the listing names ${entry.agent}`, ev(list.reply));
    else j.notExercised('7.5/resolved-shown', 'the job had already left the listing');
    const end = await orNothing(s.terminal(a.jobId));
    const r = end?.msg.payload.result;
    j.expect(end?.msg.type === 'job.result' && (r?.version === undefined || r.version === '1.0.0') && (r?.handler === undefined || r.handler === 'v1'), '7.5/no-migration', 'the 1.0.0 handler ran', `the job ran ${JSON.stringify(r ?? what(end))}`, ev(end));
  },
};

export const versionUnavailable: Check = {
  kind: 'server',
  id: 'agents/versions/unavailable',
  title: 'A version the runtime does not have gets AGENT_VERSION_NOT_AVAILABLE',
  requirements: ['7.5/version-unavailable'],
  needs: { features: ['agent_versions'], agents: ['refactor'] },
  description: 'Submits `refactor@99.0.0-conform`: the runtime must refuse with AGENT_VERSION_NOT_AVAILABLE, not run another version.',
  async run(ctx) {
    const out = await ctx.session().then((s) => s.submit({ agent: `${ctx.agent('refactor')}@99.0.0-conform` }));
    judgeRejection(ctx.judge, out, '7.5/version-unavailable', 'AGENT_VERSION_NOT_AVAILABLE', 'an unavailable version');
  },
};

export const unknownAgent: Check = {
  kind: 'server',
  id: 'agents/unknown',
  title: 'An agent the runtime does not host gets AGENT_NOT_AVAILABLE',
  requirements: ['12/agent-not-available'],
  description: 'Submits an agent name no runtime hosts: the answer must be AGENT_NOT_AVAILABLE.',
  async run(ctx) {
    const out = await ctx.session().then((s) => s.submit({ agent: `conform-no-such-agent-${Date.now()}` }));
    judgeRejection(ctx.judge, out, '12/agent-not-available', 'AGENT_NOT_AVAILABLE', 'an unknown agent');
  },
};

export const agentFailures: Check = {
  kind: 'server',
  id: 'errors/agent-failures',
  title: 'An agent crash ends the job with INTERNAL_ERROR; an agent refusal keeps its code',
  requirements: ['12/internal-error', '7.3/terminal-states', '3/job-terminates'],
  needs: { agents: ['fail'] },
  description: 'Runs `fail` with mode throw (must end with job.error INTERNAL_ERROR) and mode permission (must end with job.error PERMISSION_DENIED), both with final_status "error"; their retryable flags are judged by wire/errors/retryable.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    for (const [mode, code] of [['throw', 'INTERNAL_ERROR'], ['permission', 'PERMISSION_DENIED']] as const) {
      const a = await accepted(ctx, s, { agent: ctx.agent('fail'), input: { mode } });
      const end = await orNothing(s.terminal(a.jobId));
      const p = end?.msg.payload ?? {};
      j.expect(end?.msg.type === 'job.error' && p.code === code, code === 'INTERNAL_ERROR' ? '12/internal-error' : '3/job-terminates', `mode ${mode}: job.error ${code}`, `mode ${mode}: ${what(end)}, expected job.error ${code}`, ev(end));
      j.expect(p.final_status === 'error', '7.3/terminal-states', 'final_status error', `final_status ${p.final_status}`, ev(end));
    }
  },
};

export const jobNotFound: Check = {
  kind: 'server',
  id: 'errors/job-not-found',
  title: 'Cancelling a job that does not exist gets JOB_NOT_FOUND',
  requirements: ['12/job-not-found'],
  description: 'Sends job.cancel for a job_id no runtime issued: the answer must be JOB_NOT_FOUND.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const jobId = `job_CONFORMNOSUCHJOB${Date.now()}`;
    const from = s.peer.mark;
    const sent = s.cancel(jobId, 'no such job');
    const r = await s.peer.maybe((m) => (m.type === 'job.error' || m.type === 'session.error') && (m.job_id === jobId || m.type === 'session.error' || m.payload.details?.request_id === sent.id), ctx.waitMs, from);
    j.expect(codeOf(r) === 'JOB_NOT_FOUND', '12/job-not-found', `${what(r)}`, `${r ? what(r) : 'no answer'}, expected JOB_NOT_FOUND`, ev(sent.frame, r));
  },
};
