import { TRACE_ID } from '../../engine/schemas/envelope.js';
import type { WireCheck } from '../check.js';
import type { LoggedFrame, Msg } from '../exchange.js';
import { capped, model, msgs, sessionStream, type SessionView } from './model.js';

type F = LoggedFrame & { msg: Msg };

/** A session's frames over all its connections in the order they happened. */
const timeline = (s: SessionView): F[] => s.conns.flatMap((c) => msgs(c)).sort((a, b) => a.at - b.at);

function acks(xs: Parameters<WireCheck['judge']>[0]) {
  return model(xs).sessions.map((s) => {
    let delivered = 0;
    const out: { f: F; delivered: number }[] = [];
    for (const f of timeline(s)) {
      if (f.dir === 's2c' && typeof f.msg.event_seq === 'number') delivered = Math.max(delivered, f.msg.event_seq);
      if (f.dir === 'c2s' && f.msg.type === 'session.ack') out.push({ f, delivered });
    }
    return { s, acks: out, events: sessionStream(s).length };
  });
}

export const ackWithinDelivered: WireCheck = {
  kind: 'wire',
  id: 'wire/ack/within-delivered',
  title: 'An ack never claims an event the client was not sent',
  requirements: ['6.5/client-may-report'],
  subjects: ['client'],
  description: 'Each session.ack declares the highest event the client processed, so its last_processed_seq can be no higher than the highest event_seq delivered to the session by then; a runtime trusting a higher one frees events the client never saw.',
  judge(xs, j) {
    const all = acks(xs).flatMap((x) => x.acks);
    if (!all.length) return j.notExercised('6.5/client-may-report', 'no acks in the traffic');
    const bad = all.filter((a) => a.f.msg.payload.last_processed_seq > a.delivered);
    j.expect(bad.length === 0, '6.5/client-may-report', `${all.length} acks, none beyond what was delivered`, `${bad.length} acks claim events not yet delivered`, [], 'MUST');
    capped(bad, (a) => j.violation('6.5/client-may-report', `ack ${a.f.msg.payload.last_processed_seq} when only ${a.delivered} had been delivered`, [a.f], 'MUST'), (n) => j.violation('6.5/client-may-report', `… and ${n} more`, [], 'MUST'));
  },
};

export const ackMonotonic: WireCheck = {
  kind: 'wire',
  id: 'wire/ack/monotonic',
  title: 'Acks never go back',
  requirements: ['6.5/client-may-report'],
  subjects: ['client'],
  description: 'The highest processed event cannot decrease: each session.ack must be at least the one before it in the session.',
  judge(xs, j) {
    let n = 0;
    for (const { acks: list } of acks(xs)) {
      n += list.length;
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1].f, list[i].f];
        if (b.msg.payload.last_processed_seq < a.msg.payload.last_processed_seq) j.violation('6.5/client-may-report', `ack ${b.msg.payload.last_processed_seq} after ack ${a.msg.payload.last_processed_seq}`, [a, b], 'MUST');
      }
    }
    if (!n) return j.notExercised('6.5/client-may-report', 'no acks in the traffic');
    if (!j.findings.length) j.pass('6.5/client-may-report', `${n} acks, never decreasing`);
  },
};

export const ackRate: WireCheck = {
  kind: 'wire',
  id: 'wire/ack/rate',
  title: 'Acks come at most once per event and at most every few hundred milliseconds',
  requirements: ['6.5/ack-rate'],
  subjects: ['client'],
  description: "Per session: no more acks than events, and (over three or more acks) an average spacing of at least 100 ms. The average, not each gap, is judged: arrival times bunch on a busy receiver.",
  judge(xs, j) {
    let n = 0;
    for (const { acks: list, events } of acks(xs)) {
      n += list.length;
      if (list.length > events && events > 0) j.violation('6.5/ack-rate', `${list.length} acks for ${events} events`, [list[0].f]);
      if (list.length >= 3) {
        const avg = (list[list.length - 1].f.at - list[0].f.at) / (list.length - 1);
        if (avg < 100) j.violation('6.5/ack-rate', `${list.length} acks ${Math.round(avg)} ms apart on average`, [list[0].f, list[1].f]);
      }
    }
    if (!n) return j.notExercised('6.5/ack-rate', 'no acks in the traffic');
    if (!j.findings.length) j.pass('6.5/ack-rate', `${n} acks, spaced`);
  },
};

/** Names the forms wire-notes.md lists, quoting the draft sentence each departs from. */
export const draftForms: WireCheck = {
  kind: 'wire',
  id: 'wire/forms/draft',
  title: 'Where the traffic uses the v1.0 forms or the reference SDK’s own, say so',
  requirements: ['6.3/resume-presents', '6.7/client-close', '3/job-terminates', '7.6/no-history-live-only', '9.8.1/constraints-echo', '11/trace-field', '3/welcome-fields'],
  subjects: ['runtime', 'client'],
  tapeOnly: true,
  bothSides: true,
  description: 'Resume inside session.hello, session.bye, rejections of job.submit as session.error (v1.0 forms), history before job.subscribed, {allowed_models, max_spend} credential constraints (the reference SDK’s), 32-hex trace_id (v1.0), agents as bare names (v1.0): each is accepted and named with the draft sentence it departs from.',
  judge(xs, j, scope) {
    const client = scope.subjects.has('client');
    const runtime = scope.subjects.has('runtime');
    let traceNamed = false;
    for (const c of model(xs).conns) {
      const fs = msgs(c);
      if (client && c.resume?.form === 'v1.0') j.deviation('6.3/resume-presents', 'v1.0 form', `${c.log.label}: resume inside session.hello`, c.resume.frame);
      const bye = fs.find((f) => f.dir === 'c2s' && f.msg.type === 'session.bye');
      if (client && bye) j.deviation('6.7/client-close', 'v1.0 form', `${c.log.label}: the client ends the session with session.bye`, bye);
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i];
        if (runtime && f.dir === 's2c' && f.msg.type === 'session.error') {
          const prev = fs.slice(0, i).reverse().find((x) => x.dir === 'c2s' && x.msg.type !== 'session.ping' && x.msg.type !== 'session.pong' && x.msg.type !== 'session.ack');
          if (prev?.msg.type === 'job.submit') j.deviation('3/job-terminates', 'v1.0 form', `${c.log.label}: job.submit refused with session.error ${f.msg.payload.code}, not job.error`, prev, f);
        }
        if (runtime && f.dir === 's2c' && f.msg.type === 'job.subscribed') {
          const req = fs.slice(0, i).reverse().find((x) => x.dir === 'c2s' && x.msg.type === 'job.subscribe' && x.msg.payload.job_id === f.msg.payload.job_id);
          const early = req ? fs.slice(fs.indexOf(req), i).filter((x) => x.dir === 's2c' && x.msg.job_id === f.msg.payload.job_id && x.msg.type === 'job.event') : [];
          if (early.length) j.deviation('7.6/no-history-live-only', 'deviates from draft', `${c.log.label}: ${early.length} history events before job.subscribed`, early[0], f);
        }
        if (runtime && f.dir === 's2c' && f.msg.type === 'job.accepted') {
          const k = (f.msg.payload.credentials ?? [])[0]?.constraints;
          if (k && ('allowed_models' in k || 'max_spend' in k)) j.deviation('9.8.1/constraints-echo', 'deviates from draft', `${c.log.label}: credential constraints ${JSON.stringify(Object.keys(k))}`, f);
        }
        if (runtime && f.dir === 's2c' && f.msg.type === 'session.welcome' && Array.isArray(f.msg.payload.capabilities?.agents) && f.msg.payload.capabilities.agents.some((a: unknown) => typeof a === 'string')) j.deviation('3/welcome-fields', 'v1.0 form', `${c.log.label}: agents listed as bare names`, f);
        if (!traceNamed && typeof f.msg.trace_id === 'string' && TRACE_ID.test(f.msg.trace_id) && scope.subjects.has(f.dir === 's2c' ? 'runtime' : 'client')) {
          traceNamed = true;
          j.deviation('11/trace-field', 'v1.0 form', `trace_id is the 32-hex trace id (${f.msg.trace_id}), not a traceparent`, f);
        }
      }
    }
    if (!j.findings.length) j.pass('3/welcome-fields', 'the draft’s forms throughout');
  },
};

export const resumeContinuity: WireCheck = {
  kind: 'wire',
  id: 'wire/resume/continuity',
  title: 'A resume continues the session: same id, a new token, the replay after last_event_seq, no job lost',
  requirements: ['6.3/replays-buffered', '6.3/token-rotates', '6.3/window-expired', '6.7/jobs-continue'],
  subjects: ['runtime'],
  tapeOnly: true,
  description: 'For each resumed connection in a tape: the welcome names the same session and a token other than the one presented; the first replayed seq is last_event_seq + 1; a refusal with RESUME_WINDOW_EXPIRED when nothing was missing (last_event_seq at the latest seq) is wrong; a job in flight at the drop or the close that later listings no longer show, and that never ended, was lost.',
  judge(xs, j) {
    const m = model(xs);
    let resumes = 0;
    for (const c of m.conns.filter((c) => c.resume)) {
      resumes++;
      const r = c.resume!;
      const earlier = m.conns.filter((o) => o !== c && o.sessionId === r.sessionId && o.log.frames[0] && c.log.frames[0] && o.log.frames[0].at < c.log.frames[0].at);
      const latest = Math.max(0, ...earlier.flatMap((o) => msgs(o, 's2c').map((f) => f.msg.event_seq).filter((v): v is number => typeof v === 'number')));
      if (c.welcome) {
        j.expect(c.welcome.msg!.session_id === r.sessionId, '6.3/replays-buffered', `${c.log.label}: resumed ${r.sessionId}`, `${c.log.label}: the welcome names ${c.welcome.msg!.session_id}, not ${r.sessionId}`, [c.welcome]);
        j.expect(c.welcome.msg!.payload.resume_token !== r.token, '6.3/token-rotates', `${c.log.label}: a new resume_token`, `${c.log.label}: the resume welcome repeats the token presented`, [c.welcome]);
        const first = msgs(c, 's2c').find((f) => typeof f.msg.event_seq === 'number');
        if (first) j.expect(first.msg.event_seq === r.lastSeq + 1, '6.3/replays-buffered', `${c.log.label}: the replay starts at ${r.lastSeq + 1}`, `${c.log.label}: after last_event_seq ${r.lastSeq} the replay starts at ${first.msg.event_seq}`, [first]);
      } else if (c.refused?.msg?.payload.code === 'RESUME_WINDOW_EXPIRED' && earlier.length && r.lastSeq >= latest) {
        const presentedLatest = earlier.map((o) => o.welcome?.msg?.payload.resume_token).filter(Boolean).pop() === r.token;
        if (presentedLatest) j.violation('6.3/window-expired', `${c.log.label}: RESUME_WINDOW_EXPIRED for last_event_seq ${r.lastSeq}, the latest seq of the session: nothing was missing from the buffer`, [r.frame, c.refused]);
      }
    }
    for (const s of m.sessions.filter((s) => s.conns.length > 1)) {
      const stream = sessionStream(s);
      const jobs = new Set(stream.map((f) => f.msg.job_id).filter(Boolean));
      const accepted = s.conns.flatMap((c) => msgs(c, 's2c')).filter((f) => f.msg.type === 'job.accepted').map((f) => f.msg.payload.job_id as string);
      for (const job of new Set([...accepted, ...jobs])) {
        if (stream.some((f) => f.msg.job_id === job && (f.msg.type === 'job.result' || f.msg.type === 'job.error'))) continue;
        const start = s.conns.findIndex((c) => msgs(c).some((f) => f.msg.job_id === job || f.msg.payload?.job_id === job));
        const later = s.conns.slice(start + 1);
        const listing = later.flatMap((c) => msgs(c, 's2c')).filter((f) => f.msg.type === 'session.jobs').pop();
        if (!listing || (listing.msg.payload.jobs ?? []).some((x: Msg) => x.job_id === job)) continue;
        const closedBy = s.conns[start]?.log.frames.some((f) => f.dir === 'c2s' && (f.msg?.type === 'session.bye' || f.msg?.type === 'session.close'));
        j.violation(closedBy ? '6.7/jobs-continue' : '6.3/replays-buffered', `job ${job} was in flight when connection ${s.conns[start]?.log.label} ${closedBy ? 'closed the session' : 'dropped'}; after the resume it never ended and the listing no longer shows it: the job was lost`, [listing]);
      }
    }
    if (!resumes) return j.notExercised('6.3/replays-buffered', 'no resume in the traffic');
  },
};

export const pongAnswered: WireCheck = {
  kind: 'wire',
  id: 'wire/heartbeat/pong',
  title: 'Every ping is answered by a pong with its nonce within the heartbeat interval',
  requirements: ['6.4/pong-promptly'],
  subjects: ['runtime', 'client'],
  tapeOnly: true,
  description: 'For each session.ping in a tape, the other side must send session.pong with that ping_nonce within heartbeat_interval_sec (plus a quarter for scheduling), unless the connection ended first.',
  judge(xs, j, scope) {
    let n = 0;
    for (const c of model(xs).conns.filter((c) => c.welcome)) {
      const sec = typeof c.welcome!.msg!.payload.heartbeat_interval_sec === 'number' ? c.welcome!.msg!.payload.heartbeat_interval_sec : 30;
      for (const p of msgs(c).filter((f) => f.msg.type === 'session.ping')) {
        const answerer = p.dir === 'c2s' ? 'runtime' : 'client';
        if (!scope.subjects.has(answerer)) continue;
        const limit = p.at + sec * 1250 + 500;
        const pong = msgs(c).find((f) => f.dir !== p.dir && f.msg.type === 'session.pong' && f.msg.payload.ping_nonce === p.msg.payload.nonce);
        const end = c.log.closed?.at ?? c.log.frames[c.log.frames.length - 1]?.at ?? p.at;
        if (!pong && end < limit) continue;
        n++;
        if (!pong || pong.at > limit) j.violation('6.4/pong-promptly', `${c.log.label}: the ${answerer} ${pong ? `ponged after ${Math.round(pong.at - p.at)} ms` : 'never ponged'} ping ${p.msg.payload.nonce} (interval ${sec} s)`, [p, pong]);
      }
    }
    if (!n) return j.notExercised('6.4/pong-promptly', 'no pings in the traffic');
    if (!j.findings.length) j.pass('6.4/pong-promptly', `${n} pings answered in time`);
  },
};
