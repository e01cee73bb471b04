import { newTraceId } from '../../../engine/ids.js';
import { TRACE_ID, TRACEPARENT } from '../../../engine/schemas/envelope.js';
import type { Msg } from '../../exchange.js';
import type { Received } from '../../peer.js';
import { accepted, codeOf, ev, judgeRejection, orNothing, what, type Check } from './util.js';

const toolResult = (evs: Received[], callId: string) => evs.find((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.call_id === callId);

export const enforcement: Check = {
  kind: 'server',
  id: 'lease/enforcement/permission-denied',
  title: 'An operation the lease covers runs; one it does not gets PERMISSION_DENIED',
  requirements: ['9.3/permission-denied', '9.3/evaluate-before-authorizing', '9.1/operations-covered'],
  needs: { agents: ['chatty'] },
  description: 'Runs `chatty` with tool.call ["stats.*"]: its call c1 (stats.summarize) must get a result and its call c2 (shell.exec, outside the lease) a tool_result error PERMISSION_DENIED, in the same job.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('chatty'), input: { dataset: 's3://example/sales.csv' }, lease_request: { 'tool.call': ['stats.*'], 'net.fetch': ['s3://example/**'] } });
    await orNothing(s.terminal(a.jobId));
    const evs = s.events(a.jobId);
    const c1 = toolResult(evs, 'c1');
    const c2 = toolResult(evs, 'c2');
    if (!c1 || !c2) {
      j.notExercised('9.3/permission-denied', `\`chatty\` did not report both tool calls (c1 ${c1 ? 'seen' : 'missing'}, c2 ${c2 ? 'seen' : 'missing'})`);
      return;
    }
    j.expect(c1.msg.payload.body.result !== undefined && !c1.msg.payload.body.error, '9.1/operations-covered', 'c1 (stats.summarize, covered) ran', `c1, covered by the lease, failed: ${JSON.stringify(c1.msg.payload.body.error)}`, ev(c1));
    j.expect(c2.msg.payload.body.error?.code === 'PERMISSION_DENIED', '9.3/permission-denied', 'c2 (shell.exec, not covered) got PERMISSION_DENIED', `c2 (shell.exec, outside the lease) got ${JSON.stringify(c2.msg.payload.body.error ?? c2.msg.payload.body.result)}`, ev(c2));
    j.expect(c2.msg.payload.body.result === undefined, '9.3/evaluate-before-authorizing', 'no result for the denied call', 'the denied call carries a result as well', ev(c2));
  },
};

export const expiresPast: Check = {
  kind: 'server',
  id: 'lease/expires-at/invalid-rejected',
  title: 'A past or non-UTC expires_at is rejected with INVALID_REQUEST',
  requirements: ['9.5/utc-future', '9.5/invalid-rejected'],
  needs: { features: ['lease_expires_at'], agents: ['lease-watch'] },
  description: 'Submits `lease-watch` with expires_at a minute in the past, then with a future time written with a +02:00 offset: both must be refused with INVALID_REQUEST.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const past = new Date(Date.now() - 60_000).toISOString();
    const d = new Date(Date.now() + 3600_000 + 2 * 3600_000);
    const offset = `${d.toISOString().slice(0, 19).replace(/T(\d\d)/, (_, h) => `T${String((Number(h) + 2) % 24).padStart(2, '0')}`)}+02:00`;
    for (const [label, value] of [['in the past', past], ['with a +02:00 offset', offset]] as const) {
      const out = await s.submit({ agent: ctx.agent('lease-watch'), input: { ticks: 1 }, lease_request: { 'tool.call': ['index.*'] }, lease_constraints: { expires_at: value } });
      judgeRejection(j, out, '9.5/invalid-rejected', 'INVALID_REQUEST', `expires_at ${label} (${value})`);
      j.expect(!out.accepted, '9.5/utc-future', `expires_at ${label} refused`, `expires_at ${label} was accepted`, ev(out.sent, out.accepted));
      if (out.accepted) s.cancel(out.jobId!);
    }
  },
};

export const expiresEnforced: Check = {
  kind: 'server',
  id: 'lease/expires-at/enforced',
  title: 'Operations succeed until expires_at and fail with LEASE_EXPIRED from then on; the job ends LEASE_EXPIRED',
  requirements: ['9.5/fail-lease-expired', '9.5/evaluate-every-operation', '9.5/emit-job-error', '12/lease-expired', '14/expiry-grace', '9.5/may-terminate-proactively', '7.3/exhausted-expired-error'],
  needs: { features: ['lease_expires_at'], agents: ['lease-watch'] },
  estimateMs: () => 5000,
  description: 'Runs `lease-watch` (a gated tool call every 200 ms) with expires_at two seconds ahead: the calls before expires_at must succeed, the job must end with job.error LEASE_EXPIRED and final_status "error", and not earlier than expires_at less a second of grace.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const expiresAt = Date.now() + 2000;
    const a = await accepted(ctx, s, { agent: ctx.agent('lease-watch'), input: { tickMs: 200, ticks: 100 }, lease_request: { 'tool.call': ['index.*'] }, lease_constraints: { expires_at: new Date(expiresAt).toISOString() } });
    const end = await orNothing(s.terminal(a.jobId, 2000 + ctx.waitMs));
    if (!end) {
      j.violation('9.5/emit-job-error', 'the job ran on past expires_at without ending', ev(a.accepted));
      return;
    }
    const endedMs = end.frame.at - a.accepted.frame.at;
    const leftMs = expiresAt - (Date.now() - (ctx.recorder.now() - end.frame.at));
    const okCalls = s.events(a.jobId).filter((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.result !== undefined);
    j.expect(okCalls.length > 0, '9.5/evaluate-every-operation', `${okCalls.length} operations succeeded before expires_at`, 'no operation succeeded even before expires_at', ev(okCalls[0]));
    j.expect(codeOf(end) === 'LEASE_EXPIRED' && end.msg.type === 'job.error', '9.5/emit-job-error', `job.error LEASE_EXPIRED ${endedMs.toFixed(0)} ms after acceptance`, `the job ended with ${what(end)}`, ev(end));
    j.expect(end.msg.payload.final_status === 'error', '7.3/exhausted-expired-error', 'final_status error', `final_status ${end.msg.payload.final_status}`, ev(end));
    j.expect(leftMs <= 1000, '12/lease-expired', `LEASE_EXPIRED ${Math.max(0, -leftMs).toFixed(0)} ms after expires_at`, `LEASE_EXPIRED ${leftMs.toFixed(0)} ms before expires_at was reached`, ev(end));
    j.info('14/expiry-grace', `expired within ${Math.abs(leftMs).toFixed(0)} ms of expires_at`);
    const denied = s.events(a.jobId).find((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.error?.code === 'LEASE_EXPIRED');
    const wrong = s.events(a.jobId).find((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.error && r.msg.payload.body.error.code !== 'LEASE_EXPIRED');
    j.expect(!wrong, '9.5/fail-lease-expired', denied ? 'the operation at expiry failed with LEASE_EXPIRED' : 'no operation failed with another code', `an operation failed with ${wrong?.msg.payload.body.error.code}`, ev(wrong ?? denied));
    j.info('9.5/may-terminate-proactively', denied ? 'the job ended on its next operation after expiry' : 'the job ended without an operation failing first');
  },
};

export const budget: Check = {
  kind: 'server',
  id: 'lease/budget/exhausted-at-zero',
  title: 'The budget counter decrements by each cost and blocks operations once it is ≤ 0, not before',
  requirements: ['9.6/decrement', '9.6/check-before-operation', '9.6/budget-exhausted', '12/budget-exhausted', '9.6/error-form', '9.6/prefer-tool-result', '9.6/remaining-metrics'],
  needs: { features: ['cost.budget'], agents: ['budget'] },
  description: 'Runs `budget` (8 calls of 0.30 USD) with cost.budget ["USD:1.00"]: calls 1–4 must succeed (the counter is still > 0 before each), call 5 must fail with BUDGET_EXHAUSTED, any cost.budget.remaining metric must equal 1.00 minus the costs so far, and the job must end BUDGET_EXHAUSTED.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('budget'), input: { iterations: 8, perCallUSD: 0.3 }, lease_request: { 'tool.call': ['search.*'], 'cost.budget': ['USD:1.00'] } });
    const end = await orNothing(s.terminal(a.jobId));
    const evs = s.events(a.jobId);
    let spent = 0;
    let badRemaining: Received | undefined;
    let early: Received | undefined;
    let late: Received | undefined;
    let exhausted: Received | undefined;
    const remaining: number[] = [];
    const authorizedWith = new Map<string, number>();
    for (const r of evs) {
      const b = r.msg.payload.body ?? {};
      // Authorization happens at the call; its cost is reported while it runs.
      if (r.msg.payload.kind === 'tool_call') authorizedWith.set(b.call_id, 1 - spent);
      if (r.msg.payload.kind === 'metric' && typeof b.name === 'string' && b.name.startsWith('cost.') && b.name !== 'cost.budget.remaining' && b.unit === 'USD') spent += b.value;
      if (r.msg.payload.kind === 'metric' && b.name === 'cost.budget.remaining' && b.unit === 'USD') {
        remaining.push(b.value);
        if (Math.abs(b.value - (1 - spent)) > 1e-6) badRemaining = badRemaining ?? r;
      }
      if (r.msg.payload.kind === 'tool_result') {
        const beforeOk = (authorizedWith.get(b.call_id) ?? 1 - spent) > 1e-9;
        if (b.error?.code === 'BUDGET_EXHAUSTED') {
          exhausted = exhausted ?? r;
          if (beforeOk) early = early ?? r;
        } else if (!beforeOk && b.result !== undefined) late = late ?? r;
      }
    }
    j.expect(!early, '12/budget-exhausted', 'no BUDGET_EXHAUSTED while the counter was above 0', `BUDGET_EXHAUSTED with ${(authorizedWith.get(early?.msg.payload.body.call_id) ?? 1 - spent).toFixed(2)} USD left`, ev(early));
    j.expect(!late, '9.6/check-before-operation', 'no operation ran once the counter was ≤ 0', `an operation ran with the counter at ${(authorizedWith.get(late?.msg.payload.body.call_id) ?? 1 - spent).toFixed(2)} USD`, ev(late));
    j.expect(!badRemaining, '9.6/decrement', remaining.length ? `cost.budget.remaining ${remaining.join(', ')} follows the costs` : 'no remaining metric to compare', `cost.budget.remaining ${badRemaining?.msg.payload.body.value} where 1.00 − costs is ${(1 - spent).toFixed(2)}`, ev(badRemaining));
    j.info('9.6/remaining-metrics', remaining.length ? `${remaining.length} cost.budget.remaining metrics` : 'no cost.budget.remaining metrics');
    const endCode = codeOf(end);
    j.expect(Boolean(exhausted) || endCode === 'BUDGET_EXHAUSTED', '9.6/budget-exhausted', `BUDGET_EXHAUSTED once ${spent.toFixed(2)} USD was spent`, `the job ran past its budget: ${what(end)} after ${spent.toFixed(2)} USD`, ev(exhausted, end));
    j.info('9.6/error-form', exhausted ? 'as a tool_result error' : 'as job.error only');
    j.expect(Boolean(exhausted), '9.6/prefer-tool-result', 'the agent saw BUDGET_EXHAUSTED as a tool_result', 'BUDGET_EXHAUSTED came only as job.error, not as a tool_result the agent could handle', ev(end));
  },
};

const acceptedChildren = (rs: Received[], parentId: string) => rs.filter((r) => r.msg.type === 'job.accepted' && r.msg.payload.parent_job_id === parentId);

export const delegation: Check = {
  kind: 'server',
  id: 'delegation/subset',
  title: 'A delegated lease is a subset of the parent’s; a broader one gets LEASE_SUBSET_VIOLATION',
  requirements: ['9.4/strict-subset', '9.4/subset-violation', '10/may-delegate', '9.4/inherit-expiry', '9.4/expiry-not-later', '9.4/child-earlier-expiry', '10/delegation-bounds', '9.4/budget-within-remaining', '9.4/budget-example', '9.4/model-use-subset', '9.8.2/child-credentials', '9.8.2/child-credentials-bounded'],
  needs: { features: ['lease_expires_at'], agents: ['parent', 'child'] },
  description: "Runs `parent` (violate true) with fs.read /workspace/app/** and an expires_at: the child job must be accepted with parent_job_id and a lease inside the parent's (its expiry, if echoed, no later than the parent's), the second delegation (fs.write /etc/**) must get a tool_result error LEASE_SUBSET_VIOLATION, and the parent must end with its result.",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const expires = new Date(Date.now() + 600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const parentLease = { 'agent.delegate': [ctx.agent('child')], 'fs.read': ['/workspace/app/**'] };
    const a = await accepted(ctx, s, { agent: ctx.agent('parent'), input: { violate: true, waitMs: 50 }, lease_request: parentLease, lease_constraints: { expires_at: expires } });
    const end = await orNothing(s.terminal(a.jobId));
    const kids = acceptedChildren(s.received, a.jobId);
    if (!kids.length) {
      j.notExercised('9.4/strict-subset', `no child job was accepted (the parent ended with ${what(end)})`);
      return;
    }
    j.info('10/may-delegate', `${kids.length} child job(s)`);
    const child = kids[0].msg.payload;
    const outside = Object.entries(child.lease ?? {}).filter(([ns, pats]) => !(ns in parentLease) || !(pats as string[]).every((p) => p.startsWith('/workspace/app/') || (parentLease as Record<string, string[]>)[ns]?.includes(p)));
    j.expect(outside.length === 0, '9.4/strict-subset', `the child's lease ${JSON.stringify(child.lease)} is inside the parent's`, `the child's lease grants ${JSON.stringify(Object.fromEntries(outside))} beyond the parent's`, ev(kids[0]));
    const ce = child.lease_constraints?.expires_at;
    if (ce === undefined) j.info('9.4/inherit-expiry', "the child's job.accepted omits lease_constraints (the parent's expiry applies implicitly)");
    else {
      j.expect(Date.parse(ce) <= Date.parse(expires), '9.4/expiry-not-later', `child expires_at ${ce} ≤ parent's`, `child expires_at ${ce} is later than the parent's ${expires}`, ev(kids[0]));
      j.expect(Date.parse(ce) <= Date.parse(expires), '10/delegation-bounds', 'delegated expires_at within the parent’s', 'delegated expires_at beyond the parent’s', ev(kids[0]));
      j.expect(Date.parse(ce) <= Date.parse(expires), '9.4/child-earlier-expiry', 'never later than the parent', 'later than the parent', ev(kids[0]));
      j.info('9.4/inherit-expiry', `the child carries expires_at ${ce}`);
    }
    for (const req of ['9.4/budget-within-remaining', '9.4/budget-example', '9.4/model-use-subset']) j.notExercised(req, "the profile's `parent` delegates no cost.budget or model.use");
    j.info('9.8.2/child-credentials', child.credentials ? 'the child received credentials' : 'the child received no credentials');
    if (!child.credentials) j.notExercised('9.8.2/child-credentials-bounded', 'the child has no credentials');
    const violation = s.events(a.jobId).find((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.error);
    j.expect(violation?.msg.payload.body.error.code === 'LEASE_SUBSET_VIOLATION', '9.4/subset-violation', 'the delegation asking fs.write /etc/** got LEASE_SUBSET_VIOLATION', violation ? `the over-broad delegation got ${violation.msg.payload.body.error.code}` : 'the over-broad delegation was not refused', ev(violation));
    const escaped = kids.find((k) => k.msg.payload.lease?.['fs.write']);
    j.expect(!escaped, '9.4/strict-subset', 'no child runs with fs.write', 'a child job was accepted with fs.write, which the parent lacks', ev(escaped));
  },
};

export const trace: Check = {
  kind: 'server',
  id: 'trace/propagated',
  title: "The submit's trace context is carried to job.accepted and to sub-agents",
  requirements: ['11/forward-trace', '11/trace-field'],
  needs: { agents: ['parent', 'child'] },
  description: "Submits `parent` with trace_id set to a full W3C traceparent: job.accepted, the parent's events and the child job must carry the same trace (32-hex trace ids, the reference SDK's form, are accepted with a named warning; a runtime that ignores a traceparent submit is retried with 32 hex).",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const hex = newTraceId();
    const traceparent = `00-${hex}-${newTraceId().slice(0, 16)}-01`;
    const payload = { agent: ctx.agent('parent'), input: { violate: false, waitMs: 20 }, lease_request: { 'agent.delegate': [ctx.agent('child')], 'fs.read': ['/workspace/app/**'] } };
    let out = await s.submit(payload, { trace_id: traceparent }).catch(() => undefined);
    let sent = traceparent;
    if (!out?.accepted) {
      out = await s.submit(payload, { trace_id: hex });
      sent = hex;
      if (out.accepted) j.deviation('11/trace-field', 'v1.0 form', 'a job.submit whose trace_id is a full traceparent was dropped; one with the 32-hex trace id was accepted', ...ev(out.accepted));
    }
    if (!out.accepted) return ctx.skip(`precondition: \`parent\` was refused (${what(out.rejected)})`);
    const carries = (m: Msg) => typeof m.trace_id === 'string' && (m.trace_id === sent || m.trace_id === hex || TRACEPARENT.exec(m.trace_id)?.[1] === hex);
    const acc = out.accepted.msg;
    const traceOf = acc.trace_id ?? acc.payload.trace_id;
    j.expect(carries({ ...acc, trace_id: traceOf }), '11/forward-trace', `job.accepted carries trace ${hex}`, `job.accepted carries trace_id ${traceOf}, not the submit's ${sent}`, ev(out.accepted));
    if (sent === traceparent && typeof traceOf === 'string' && TRACE_ID.test(traceOf)) j.deviation('11/trace-field', 'v1.0 form', 'the runtime answers a traceparent with its 32-hex trace id only', ...ev(out.accepted));
    await orNothing(s.terminal(out.jobId!));
    const kids = acceptedChildren(s.received, out.jobId!);
    if (!kids.length) {
      j.notExercised('11/forward-trace', 'no child job to carry the trace');
      return;
    }
    const k = kids[0].msg;
    j.expect(carries({ ...k, trace_id: k.trace_id ?? k.payload.trace_id }), '11/forward-trace', 'the sub-agent’s job carries the same trace', `the child job carries trace_id ${k.trace_id ?? k.payload.trace_id}`, ev(kids[0]));
  },
};

export const modelUse: Check = {
  kind: 'server',
  id: 'lease/model-use/enforced',
  title: 'Invoking a model outside model.use fails with PERMISSION_DENIED; one inside it runs',
  requirements: ['9.7/reject-unlisted-model', '9.7/permission-denied'],
  needs: { features: ['model.use'], agents: ['llm'] },
  description: "Runs `llm` with model.use [\"tier-fast/*\"] and input.model tier-fast/small (must succeed), then tier-slow/big (must end PERMISSION_DENIED). input.model goes beyond the profile's `llm`: when both succeed, the runtime's agent ignores it and the check is skipped, never passed.",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const lease = { 'model.use': ['tier-fast/*'] };
    const inside = await accepted(ctx, s, { agent: ctx.agent('llm'), input: { model: 'tier-fast/small' }, lease_request: lease });
    const ok = await orNothing(s.terminal(inside.jobId));
    if (ok?.msg.type !== 'job.result') return ctx.skip(`precondition: \`llm\` with a model inside model.use ended with ${what(ok)}`);
    const outside = await accepted(ctx, s, { agent: ctx.agent('llm'), input: { model: 'tier-slow/big' }, lease_request: lease });
    const end = await orNothing(s.terminal(outside.jobId));
    if (end?.msg.type === 'job.result') return ctx.skip('the runtime’s `llm` ran with a model outside model.use: it ignores input.model (beyond the profile), so enforcement cannot be shown');
    const denied = s.events(outside.jobId).find((r) => r.msg.payload.kind === 'tool_result' && r.msg.payload.body?.error);
    const code = codeOf(end) ?? denied?.msg.payload.body.error.code;
    j.expect(code === 'PERMISSION_DENIED', '9.7/permission-denied', 'the model outside model.use got PERMISSION_DENIED', `the model outside model.use got ${code ?? what(end)}`, ev(denied, end));
    j.pass('9.7/reject-unlisted-model', 'rejected tier-slow/big, ran tier-fast/small', ...ev(ok, end));
  },
};
