import { checkEventBody } from '../../engine/schemas/events.js';
import type { WireCheck } from '../check.js';
import type { LoggedFrame, Msg } from '../exchange.js';
import { afterWelcome, capped, model, msgs, sessionStream, sideDir } from './model.js';

type F = LoggedFrame & { msg: Msg };

/** Error bodies a frame carries: job.error / session.error payloads and tool_result errors. */
function errorsOf(f: LoggedFrame): Record<string, unknown>[] {
  let m: Msg | undefined = f.msg;
  if (!m) {
    try {
      m = JSON.parse(f.raw.toString('utf8')) as Msg;
    } catch {
      return [];
    }
  }
  if (!m || typeof m !== 'object' || !m.payload) return [];
  if (m.type === 'job.error' || m.type === 'session.error') return [m.payload];
  if (m.type === 'job.event' && m.payload.kind === 'tool_result' && m.payload.body?.error) return [m.payload.body.error];
  return [];
}

export const envelopeValid: WireCheck = {
  kind: 'wire',
  id: 'wire/envelope/valid',
  title: 'Every frame is a valid ARCP envelope with a payload its type defines',
  requirements: ['5/envelope'],
  subjects: ['runtime', 'client'],
  description: 'Decodes every frame the side under test sent: JSON text, an envelope with arcp, id, type and payload, and a payload that fits its message type (vendor `x-vendor.*` messages pass).',
  judge(xs, j, scope) {
    for (const side of scope.subjects) {
      const frames = xs.flatMap((x) => x.conns.flatMap((c) => c.frames.filter((f) => f.dir === sideDir(side))));
      const bad = frames.filter((f) => !f.decoded.ok && !(f.decoded.stage === 'payload' && /retryable/.test(f.decoded.error.message)));
      if (!frames.length) continue;
      j.expect(bad.length === 0, '5/envelope', `${frames.length} frames from the ${side} decode`, `${bad.length} of ${frames.length} frames from the ${side} are not valid ARCP`, []);
      capped(bad, (f) => j.violation('5/envelope', `${f.conn} ${f.dir}: ${f.decoded.ok ? '' : f.decoded.error.message}`, [f]), (n) => j.violation('5/envelope', `… and ${n} more invalid frames`));
    }
  },
};

export const seqMonotonic: WireCheck = {
  kind: 'wire',
  id: 'wire/seq/strictly-monotonic',
  title: 'event_seq strictly increases on every connection',
  requirements: ['8.3/seq'],
  subjects: ['runtime'],
  description: 'On each connection, every sequenced frame (job.event, job.result, job.error) must carry a higher event_seq than the one before: no repeats, no going back.',
  judge(xs, j) {
    let n = 0;
    const bad: [F, F][] = [];
    for (const c of model(xs).conns) {
      const seqd = msgs(c, 's2c').filter((f) => typeof f.msg.event_seq === 'number');
      n += seqd.length;
      for (let i = 1; i < seqd.length; i++) if (seqd[i].msg.event_seq <= seqd[i - 1].msg.event_seq) bad.push([seqd[i - 1], seqd[i]]);
    }
    if (!n) return j.notExercised('8.3/seq', 'no sequenced frames in the traffic');
    j.expect(bad.length === 0, '8.3/seq', `${n} sequenced frames, each above the last`, `event_seq repeats or goes back ${bad.length} times`, []);
    capped(bad, ([a, b]) => j.violation('8.3/seq', `${b.conn}: seq ${b.msg.event_seq} after seq ${a.msg.event_seq}`, [a, b]), (k) => j.violation('8.3/seq', `… and ${k} more`));
  },
};

export const seqGapFree: WireCheck = {
  kind: 'wire',
  id: 'wire/seq/gap-free',
  title: 'event_seq has no gaps on any connection',
  requirements: ['8.3/seq'],
  subjects: ['runtime'],
  description: 'On each connection, each sequenced frame must carry the seq one above the previous one: a seq the runtime skips is an event the client can never get.',
  judge(xs, j) {
    let n = 0;
    const bad: [F, F][] = [];
    for (const c of model(xs).conns) {
      const seqd = msgs(c, 's2c').filter((f) => typeof f.msg.event_seq === 'number');
      n += seqd.length;
      for (let i = 1; i < seqd.length; i++) if (seqd[i].msg.event_seq > seqd[i - 1].msg.event_seq + 1) bad.push([seqd[i - 1], seqd[i]]);
    }
    if (!n) return j.notExercised('8.3/seq', 'no sequenced frames in the traffic');
    j.expect(bad.length === 0, '8.3/seq', `${n} sequenced frames without a gap`, `${bad.length} gaps in event_seq`, []);
    capped(bad, ([a, b]) => j.violation('8.3/seq', `${b.conn}: seq ${a.msg.event_seq} then ${b.msg.event_seq}`, [a, b]), (k) => j.violation('8.3/seq', `… and ${k} more`));
  },
};

export const controlUnsequenced: WireCheck = {
  kind: 'wire',
  id: 'wire/seq/control-unsequenced',
  title: 'Heartbeats and acks carry no event_seq',
  requirements: ['6.4/heartbeats-unsequenced', '6.5/acks-unsequenced'],
  subjects: ['runtime', 'client'],
  description: 'session.ping, session.pong and session.ack are session control messages: none may carry an event_seq.',
  judge(xs, j, scope) {
    const dirs = [...scope.subjects].map(sideDir);
    const ctl = xs.flatMap((x) => x.conns.flatMap((c) => c.frames)).filter((f): f is F => Boolean(f.msg) && dirs.includes(f.dir) && ['session.ping', 'session.pong', 'session.ack'].includes(f.msg!.type));
    const hb = ctl.filter((f) => f.msg.type !== 'session.ack');
    const acks = ctl.filter((f) => f.msg.type === 'session.ack');
    for (const [req, list, what] of [['6.4/heartbeats-unsequenced', hb, 'pings and pongs'], ['6.5/acks-unsequenced', acks, 'acks']] as const) {
      if (!list.length) {
        j.notExercised(req, `no ${what} in the traffic`);
        continue;
      }
      const bad = list.filter((f) => f.msg.event_seq !== undefined);
      j.expect(bad.length === 0, req, `${list.length} ${what} without event_seq`, `${bad.length} ${what} carry an event_seq`, [bad[0]]);
    }
  },
};

/** job.error codes that answer a request about a job (a cancel, a reused key) rather than end it. */
const ANSWER_CODES = new Set(['DUPLICATE_KEY', 'JOB_NOT_FOUND', 'PERMISSION_DENIED']);

export const oneTerminal: WireCheck = {
  kind: 'wire',
  id: 'wire/jobs/one-terminal',
  title: 'Each job ends once, with a terminal state the draft names, and nothing follows',
  requirements: ['3/job-terminates', '7.3/terminal-states', '7.3/exhausted-expired-error', '7.4/cancel-acknowledged'],
  subjects: ['runtime'],
  description: 'Per session and job: at most one job.result or job.error (a replay repeating the same seq is one), no job.event after it, final_status one of success / error / cancelled / timed_out, error for BUDGET_EXHAUSTED and LEASE_EXPIRED, cancelled for CANCELLED. A job.error answering a cancel or a reused key is not the job ending.',
  judge(xs, j) {
    let jobs = 0;
    for (const s of model(xs).sessions) {
      const stream = sessionStream(s);
      const cancels = new Set(s.conns.flatMap((c) => msgs(c, 'c2s')).filter((f) => f.msg.type === 'job.cancel').map((f) => f.msg.job_id ?? f.msg.payload.job_id));
      const byJob = new Map<string, F[]>();
      for (const f of stream) if (f.msg.job_id) byJob.set(f.msg.job_id, [...(byJob.get(f.msg.job_id) ?? []), f]);
      for (const [job, frames] of byJob) {
        jobs++;
        const terminals = frames.filter((f) => f.msg.type === 'job.result' || (f.msg.type === 'job.error' && !(ANSWER_CODES.has(f.msg.payload.code) && (cancels.has(job) || f.msg.payload.code === 'DUPLICATE_KEY'))));
        if (terminals.length > 1) j.violation('3/job-terminates', `job ${job} ends ${terminals.length} times (${terminals.map((t) => `${t.msg.type} #${t.msg.event_seq}`).join(', ')})`, terminals);
        const end = terminals[0];
        if (end) {
          const after = frames.filter((f) => f.msg.type === 'job.event' && f.msg.event_seq > end.msg.event_seq);
          if (after.length) j.violation('3/job-terminates', `job ${job} has ${after.length} events after its ${end.msg.type}`, [end, after[0]]);
          const p = end.msg.payload;
          if (end.msg.type === 'job.error') {
            const fs = p.final_status;
            if (!['error', 'cancelled', 'timed_out'].includes(fs)) j.violation('7.3/terminal-states', `job ${job}: final_status ${JSON.stringify(fs)}`, [end]);
            if ((p.code === 'BUDGET_EXHAUSTED' || p.code === 'LEASE_EXPIRED') && fs !== 'error') j.violation('7.3/exhausted-expired-error', `job ${job}: ${p.code} with final_status ${fs}`, [end]);
            if (p.code === 'CANCELLED' && fs !== 'cancelled') j.violation('7.4/cancel-acknowledged', `job ${job}: CANCELLED with final_status ${fs}`, [end]);
          }
        }
      }
    }
    if (!jobs) return j.notExercised('3/job-terminates', 'no jobs in the traffic');
    if (!j.findings.some((f) => f.outcome !== 'pass')) j.pass('3/job-terminates', `${jobs} jobs, each ending at most once`);
  },
};

export const retryable: WireCheck = {
  kind: 'wire',
  id: 'wire/errors/retryable',
  title: 'Errors carry a boolean retryable: false for LEASE_EXPIRED and BUDGET_EXHAUSTED, true for INTERNAL_ERROR',
  requirements: ['12/retryable-false', '12/retryable-field', '12/internal-error'],
  subjects: ['runtime'],
  description: 'Every error the runtime sends (job.error, session.error, tool_result errors) must carry a boolean retryable; LEASE_EXPIRED and BUDGET_EXHAUSTED must say false, INTERNAL_ERROR true.',
  judge(xs, j) {
    const errs = xs.flatMap((x) => x.conns.flatMap((c) => c.frames.filter((f) => f.dir === 's2c').flatMap((f) => errorsOf(f).map((e) => ({ e, f })))));
    if (!errs.length) return j.notExercised('12/retryable-field', 'no errors in the traffic');
    const noBool = errs.filter(({ e }) => typeof e.retryable !== 'boolean');
    j.expect(noBool.length === 0, '12/retryable-field', `${errs.length} errors, each with a boolean retryable`, `${noBool.length} errors without a boolean retryable (first: ${JSON.stringify(noBool[0]?.e.code)})`, [noBool[0]?.f]);
    const fixed = errs.filter(({ e }) => e.code === 'LEASE_EXPIRED' || e.code === 'BUDGET_EXHAUSTED');
    if (fixed.length) {
      const wrong = fixed.filter(({ e }) => e.retryable !== false);
      j.expect(wrong.length === 0, '12/retryable-false', `${fixed.length} LEASE_EXPIRED / BUDGET_EXHAUSTED errors with retryable false`, `${wrong[0]?.e.code} with retryable ${JSON.stringify(wrong[0]?.e.retryable)}`, [wrong[0]?.f]);
    } else j.notExercised('12/retryable-false', 'no LEASE_EXPIRED or BUDGET_EXHAUSTED error in the traffic');
    const internal = errs.filter(({ e }) => e.code === 'INTERNAL_ERROR');
    if (internal.length) {
      const wrong = internal.filter(({ e }) => e.retryable !== true);
      j.expect(wrong.length === 0, '12/internal-error', `${internal.length} INTERNAL_ERROR errors, retryable`, `INTERNAL_ERROR with retryable ${JSON.stringify(wrong[0]?.e.retryable)} ("Always retryable")`, [wrong[0]?.f]);
    } else j.notExercised('12/internal-error', 'no INTERNAL_ERROR in the traffic');
  },
};

export const eventShape: WireCheck = {
  kind: 'wire',
  id: 'wire/events/shape',
  title: 'job.event frames carry session_id, job_id, event_seq and a kind with its body shape',
  requirements: ['8.1/event-envelope', '8.1/kind-and-body', '8.2/kinds'],
  subjects: ['runtime'],
  description: "Every job.event must carry session_id, job_id and event_seq, a payload kind and a body object; the body of each kind the draft defines must have that kind's fields (vendor and unknown kinds pass).",
  judge(xs, j) {
    const evs = xs.flatMap((x) => x.conns.flatMap((c) => c.frames)).filter((f): f is F => f.dir === 's2c' && f.msg?.type === 'job.event');
    if (!evs.length) return j.notExercised('8.1/event-envelope', 'no job.event in the traffic');
    const env = evs.filter((f) => typeof f.msg.session_id !== 'string' || typeof f.msg.job_id !== 'string' || typeof f.msg.event_seq !== 'number');
    j.expect(env.length === 0, '8.1/event-envelope', `${evs.length} events with session_id, job_id, event_seq`, `${env.length} events lack ${['session_id', 'job_id', 'event_seq'].filter((k) => env[0]?.msg[k] === undefined).join(', ')}`, [env[0]]);
    const kb = evs.filter((f) => typeof f.msg.payload.kind !== 'string' || !f.msg.payload.body || typeof f.msg.payload.body !== 'object');
    j.expect(kb.length === 0, '8.1/kind-and-body', 'each has a kind and a body object', `${kb.length} events without a kind or a body object`, [kb[0]]);
    const shapes = evs.map((f) => ({ f, r: checkEventBody(f.msg.payload.kind, f.msg.payload.body) })).filter((x) => !x.r.ok);
    j.expect(shapes.length === 0, '8.2/kinds', 'each body fits its kind', `${shapes.length} bodies do not fit their kind (first: ${shapes[0] && !shapes[0].r.ok ? `${shapes[0].r.kind}: ${shapes[0].r.issues.join('; ')}` : ''})`, [shapes[0]?.f]);
  },
};

export const progressRules: WireCheck = {
  kind: 'wire',
  id: 'wire/events/progress',
  title: 'progress current is non-negative and within total',
  requirements: ['8.2.1/current-non-negative', '8.2.1/current-within-total'],
  subjects: ['runtime'],
  tapeOnly: true,
  description: 'Every progress event: current ≥ 0; current ≤ total when total is given.',
  judge(xs, j) {
    const p = xs.flatMap((x) => x.conns.flatMap((c) => c.frames)).filter((f): f is F => f.dir === 's2c' && f.msg?.type === 'job.event' && f.msg.payload.kind === 'progress');
    if (!p.length) return j.notExercised('8.2.1/current-non-negative', 'no progress events in the traffic');
    const neg = p.filter((f) => !(typeof f.msg.payload.body.current === 'number' && f.msg.payload.body.current >= 0));
    const over = p.filter((f) => typeof f.msg.payload.body.total === 'number' && f.msg.payload.body.current > f.msg.payload.body.total);
    j.expect(neg.length === 0, '8.2.1/current-non-negative', `${p.length} progress events, current ≥ 0`, `current ${JSON.stringify(neg[0]?.msg.payload.body.current)}`, [neg[0]]);
    j.expect(over.length === 0, '8.2.1/current-within-total', 'current ≤ total', `current ${over[0]?.msg.payload.body.current} > total ${over[0]?.msg.payload.body.total}`, [over[0]]);
  },
};

export const resultChunkRules: WireCheck = {
  kind: 'wire',
  id: 'wire/result-chunk/rules',
  title: 'Result chunks come in order from 0, the last says more false, and job.result carries result_id and no inline result',
  requirements: ['8.4/chunks-in-order', '8.4/chunk-seq', '8.4/more', '8.4/terminal-carries-result-id', '8.4/no-mixing', '8.4/assembled'],
  subjects: ['runtime'],
  description: 'Per job: the result_chunk events of each result_id carry chunk_seq 0, 1, 2, … in the order sent; more is true on all but the last; the terminating job.result carries that result_id and no inline result (and, in tapes, a result_size equal to the assembled bytes).',
  judge(xs, j, scope) {
    let results = 0;
    for (const s of model(xs).sessions) {
      const stream = sessionStream(s);
      const jobs = new Set(stream.filter((f) => f.msg.type === 'job.event' && f.msg.payload.kind === 'result_chunk').map((f) => f.msg.job_id as string));
      for (const job of jobs) {
        const chunks = stream.filter((f) => f.msg.job_id === job && f.msg.type === 'job.event' && f.msg.payload.kind === 'result_chunk');
        const byId = new Map<string, F[]>();
        for (const c of chunks) byId.set(c.msg.payload.body.result_id, [...(byId.get(c.msg.payload.body.result_id) ?? []), c]);
        for (const [rid, cs] of byId) {
          results++;
          const seqs = cs.map((c) => c.msg.payload.body.chunk_seq);
          const inOrder = seqs.every((v, i) => v === i);
          j.expect(inOrder, '8.4/chunks-in-order', `${rid}: chunks 0..${seqs.length - 1} in order`, `${rid}: chunk_seq sent as ${seqs.slice(0, 12).join(', ')}${seqs.length > 12 ? ', …' : ''}`, [cs.find((c, i) => c.msg.payload.body.chunk_seq !== i)]);
          j.expect(seqs[0] === 0, '8.4/chunk-seq', 'chunk_seq is 0-based', `chunk_seq starts at ${Math.min(...seqs)}`, [cs[0]]);
          const mores = cs.map((c) => c.msg.payload.body.more);
          j.expect(mores.slice(0, -1).every((m) => m === true) && mores[mores.length - 1] === false, '8.4/more', 'more true until the last chunk, false on it', `more flags ${mores.slice(0, 12).join(', ')}`, [cs[cs.length - 1]]);
          const end = stream.find((f) => f.msg.job_id === job && f.msg.type === 'job.result');
          if (!end) continue;
          j.expect(end.msg.payload.result_id === rid, '8.4/terminal-carries-result-id', `job.result carries result_id ${rid}`, `job.result after chunks of ${rid} carries result_id ${JSON.stringify(end.msg.payload.result_id)}`, [end]);
          j.expect(end.msg.payload.result === undefined, '8.4/no-mixing', 'no inline result beside the chunks', 'job.result carries an inline result as well as the chunks', [end]);
          if (scope.mode === 'tape' && typeof end.msg.payload.result_size === 'number') {
            const size = [...cs].sort((a, b) => a.msg.payload.body.chunk_seq - b.msg.payload.body.chunk_seq).reduce((n, c) => n + Buffer.from(String(c.msg.payload.body.data), c.msg.payload.body.encoding === 'base64' ? 'base64' : 'utf8').length, 0);
            j.expect(size === end.msg.payload.result_size, '8.4/assembled', `${rid}: ${size} bytes = result_size`, `${rid}: chunks assemble to ${size} bytes, result_size ${end.msg.payload.result_size}`, [end]);
          }
        }
      }
    }
    if (!results) j.notExercised('8.4/chunks-in-order', 'no streamed results in the traffic');
  },
};

/** Messages a client may send only with a feature, and the feature. */
function clientFeature(m: Msg): string | undefined {
  switch (m.type) {
    case 'session.ack':
      return 'ack';
    case 'session.list_jobs':
      return 'list_jobs';
    case 'job.subscribe':
    case 'job.unsubscribe':
      return 'subscribe';
    case 'job.submit': {
      const p = m.payload;
      if (typeof p.agent === 'string' && p.agent.includes('@')) return 'agent_versions';
      if (p.lease_constraints?.expires_at !== undefined) return 'lease_expires_at';
      if (p.lease_request?.['cost.budget']) return 'cost.budget';
      if (p.lease_request?.['model.use']) return 'model.use';
      return undefined;
    }
    default:
      return undefined;
  }
}

export const withinIntersection: WireCheck = {
  kind: 'wire',
  id: 'wire/features/within-intersection',
  title: 'Neither side uses a feature outside the negotiated intersection',
  requirements: ['6.2/no-feature-outside-intersection'],
  subjects: ['runtime', 'client'],
  live: ['client'],
  description: 'From each connection’s hello and welcome, the effective feature set; the client must not send ack, list_jobs, subscribe, a pinned agent version, expires_at, cost.budget or model.use without the feature; the runtime must not send progress or result_chunk events without it (judged by the session/features checks in a server run).',
  judge(xs, j, scope) {
    let judged = 0;
    for (const c of model(xs).conns.filter((c) => c.welcome)) {
      if (scope.subjects.has('client')) {
        for (const f of afterWelcome(c, 'c2s')) {
          const feat = clientFeature(f.msg);
          if (!feat) continue;
          judged++;
          if (!c.features.has(feat)) j.violation('6.2/no-feature-outside-intersection', `${c.log.label}: the client sent ${f.msg.type}${f.msg.type === 'job.submit' ? ` (${feat})` : ''} without \`${feat}\` negotiated`, [f]);
        }
      }
      if (scope.subjects.has('runtime') && scope.mode === 'tape') {
        for (const f of msgs(c, 's2c')) {
          const kind = f.msg.type === 'job.event' ? f.msg.payload.kind : undefined;
          if (kind !== 'progress' && kind !== 'result_chunk') continue;
          judged++;
          if (!c.features.has(kind)) j.violation('6.2/no-feature-outside-intersection', `${c.log.label}: the runtime sent a ${kind} event without \`${kind}\` negotiated`, [f]);
        }
      }
    }
    if (!judged) return j.notExercised('6.2/no-feature-outside-intersection', 'no feature-bound messages in the traffic');
    if (!j.findings.length) j.pass('6.2/no-feature-outside-intersection', `${judged} feature-bound messages, all negotiated`);
  },
};

export const welcomeAcknowledges: WireCheck = {
  kind: 'wire',
  id: 'wire/features/welcome-acknowledges',
  title: 'The welcome acknowledges only features the hello offered',
  requirements: ['6.2/welcome-acknowledges'],
  subjects: ['runtime'],
  description: 'A welcome that lists features the client never offered is not an acknowledgement; a client that trusts the list would use them (the reference SDK answers with the intersection).',
  judge(xs, j) {
    const cs = model(xs).conns.filter((c) => c.welcome && c.offered !== undefined);
    if (!cs.length) return j.notExercised('6.2/welcome-acknowledges', 'no welcome in the traffic');
    const bad = cs.flatMap((c) => {
      const listed: unknown = c.welcome!.msg!.payload.capabilities?.features;
      const extra = Array.isArray(listed) ? (listed as string[]).filter((f) => !(c.offered ?? []).includes(f)) : [];
      return extra.length ? [{ c, extra }] : [];
    });
    j.expect(bad.length === 0, '6.2/welcome-acknowledges', `${cs.length} welcomes list only offered features`, `${bad.length} welcomes list features the hello did not offer`, []);
    capped(bad, ({ c, extra }) => j.violation('6.2/welcome-acknowledges', `${c.log.label}: welcome lists ${extra.join(', ')} (offered: ${c.offered === null ? 'no list' : c.offered!.join(', ') || 'none'})`, [c.welcome]), (n) => j.violation('6.2/welcome-acknowledges', `… and ${n} more`));
  },
};

export const idsEchoed: WireCheck = {
  kind: 'wire',
  id: 'wire/ids/echoed',
  title: 'Answers carry the ids they answer: request_id, session_id, job_id (and ping_nonce in tapes)',
  requirements: ['6.6/responds', '3/welcome-fields', '7.1/accepted-echoes', '6.4/pong-promptly'],
  subjects: ['runtime'],
  description: "session.jobs carries the request_id of a list_jobs sent on that connection; every frame after the welcome names the welcome's session_id; job.accepted's envelope job_id equals its payload job_id; in tapes, every pong's ping_nonce names a ping.",
  judge(xs, j, scope) {
    let n = 0;
    for (const c of model(xs).conns.filter((c) => c.welcome)) {
      const asked = new Set(msgs(c, 'c2s').filter((f) => f.msg.type === 'session.list_jobs').map((f) => f.msg.id));
      const pings = new Set(msgs(c, 'c2s').filter((f) => f.msg.type === 'session.ping').map((f) => f.msg.payload.nonce));
      for (const f of afterWelcome(c, 's2c')) {
        n++;
        if (f.msg.type === 'session.jobs' && !asked.has(f.msg.payload.request_id)) j.violation('6.6/responds', `${c.log.label}: session.jobs request_id ${f.msg.payload.request_id} names no list_jobs`, [f]);
        if (f.msg.session_id !== undefined && f.msg.session_id !== c.sessionId) j.violation('3/welcome-fields', `${c.log.label}: ${f.msg.type} names session ${f.msg.session_id}, the welcome ${c.sessionId}`, [f]);
        if (f.msg.type === 'job.accepted' && f.msg.job_id !== undefined && f.msg.payload.job_id !== f.msg.job_id) j.violation('7.1/accepted-echoes', `${c.log.label}: job.accepted job_id ${f.msg.job_id} but payload.job_id ${f.msg.payload.job_id}`, [f]);
        if (scope.mode === 'tape' && f.msg.type === 'session.pong' && !pings.has(f.msg.payload.ping_nonce)) j.violation('6.4/pong-promptly', `${c.log.label}: pong for ping_nonce ${f.msg.payload.ping_nonce}, which no ping carried`, [f]);
      }
    }
    if (!n) return j.notExercised('3/welcome-fields', 'no frames after a welcome');
    if (!j.findings.length) j.pass('3/welcome-fields', `${n} runtime frames name their session and requests`);
  },
};

export const credentialRotation: WireCheck = {
  kind: 'wire',
  id: 'wire/credentials/rotation',
  title: 'A rotated credential is announced by a credential_rotated status carrying its id and new value',
  requirements: ['9.8.2/may-rotate', '9.8.2/rotation-event'],
  subjects: ['runtime'],
  description: 'Every `status` event with phase `credential_rotated` must name, in its body, the id of a credential issued to the job and a value other than the one issued.',
  judge(xs, j) {
    const fs = xs.flatMap((x) => x.conns.flatMap((c) => c.frames)).filter((f): f is F => f.dir === 's2c' && Boolean(f.msg));
    const issued = new Map<string, string>();
    for (const f of fs) if (f.msg.type === 'job.accepted') for (const c of f.msg.payload.credentials ?? []) issued.set(c.id, c.value);
    const rot = fs.filter((f) => f.msg.type === 'job.event' && f.msg.payload.kind === 'status' && f.msg.payload.body?.phase === 'credential_rotated');
    if (!rot.length) {
      j.notExercised('9.8.2/rotation-event', 'no credential was rotated in the traffic');
      return j.info('9.8.2/may-rotate', 'no rotation (the runtime MAY rotate)');
    }
    j.info('9.8.2/may-rotate', `${rot.length} rotations`);
    for (const f of rot) {
      const b = f.msg.payload.body;
      const ok = typeof b.id === 'string' && issued.has(b.id) && typeof b.value === 'string' && b.value !== issued.get(b.id);
      j.expect(ok, '9.8.2/rotation-event', `rotation of ${b.id}`, `credential_rotated without the id of an issued credential and a new value (${JSON.stringify(Object.keys(b))})`, [f]);
      if (ok) issued.set(b.id, b.value);
    }
  },
};
