import type { Received } from '../../peer.js';
import type { ServerContext } from '../context.js';
import type { SuiteSession } from '../session.js';
import { pause } from '../../runner.js';
import { accepted, deepEqual, ev, orNothing, what, type Check } from './util.js';

/** Waits until the session has seen job events up to `n` of them. */
async function eventsSeen(ctx: ServerContext, s: SuiteSession, jobId: string, n: number): Promise<void> {
  await s.peer.until(() => (s.events(jobId).length >= n ? true : undefined), `${n} events of ${jobId}`, ctx.waitMs * 2).catch(() => ctx.skip(`precondition: fewer than ${n} events of the job arrived`));
}

/** Sequenced frames (event_seq) on one connection, from an index on. */
const sequenced = (rs: Received[]) => rs.filter((r) => typeof r.msg.event_seq === 'number');

export const gapFreeReplay: Check = {
  kind: 'server',
  id: 'session/resume/gap-free-replay',
  title: 'Resume replays the buffered frames after last_event_seq, in order, without a gap',
  requirements: ['6.3/replays-buffered', '8.3/seq', '6.3/resume-presents'],
  needs: { agents: ['ticker'], reconnect: true },
  description: 'Runs `ticker`, drops the transport after four events, and resumes with last_event_seq two below the last one seen. The welcome must name the same session; the replay must start at last_event_seq + 1, repeat the frames already seen unchanged, and continue without a gap.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('ticker'), input: { ticks: 8, tickMs: 80 } });
    await eventsSeen(ctx, s, a.jobId, 4);
    const seen = new Map(sequenced(s.peer.received).map((r) => [r.msg.event_seq as number, r]));
    const last = s.lastSeq;
    const from = last - 2;
    const sessionId = s.id;
    s.drop();
    const r = await ctx.resume(s, { lastSeq: from });
    if (!r.ok) {
      j.violation('6.3/replays-buffered', `resume with last_event_seq ${from} was refused (${r.why}) though the buffer holds it`, ev(r.error));
      return;
    }
    if (r.form === 'v1.0') j.deviation('6.3/resume-presents', 'v1.0 form', 'the runtime resumes only from session.hello with payload.resume, not from session.resume', ...ev(r.welcome));
    j.expect(r.welcome.msg.session_id === sessionId, '6.3/replays-buffered', `the welcome resumes ${sessionId}`, `the welcome names session ${r.welcome.msg.session_id}, not ${sessionId}`, ev(r.welcome));
    // The replay must at least reach what was seen before the drop.
    await orNothing(r.peer.until(() => (sequenced(r.peer.received).some((x) => x.msg.event_seq >= last) ? true : undefined), `replay up to seq ${last}`, ctx.waitMs));
    const replay = sequenced(r.peer.received.slice(r.from));
    if (!replay.length) {
      j.violation('6.3/replays-buffered', `nothing was replayed after last_event_seq ${from} (seqs ${from + 1}..${last} were sent before the drop)`, ev(r.welcome));
      return;
    }
    // What the client saw after `from` must come back, starting with the first of it.
    const want = [...seen.keys()].filter((q) => q > from).sort((a, b) => a - b);
    j.expect(replay[0].msg.event_seq === want[0], '8.3/seq', `the replay starts at seq ${want[0]}, the first after last_event_seq ${from}`, `the replay starts at seq ${replay[0].msg.event_seq}; the first frame after last_event_seq ${from} was seq ${want[0]}`, ev(replay[0], seen.get(want[0])));
    const got = new Set(replay.map((x) => x.msg.event_seq));
    const lost = want.filter((q) => !got.has(q));
    j.expect(lost.length === 0, '6.3/replays-buffered', `every frame after seq ${from} came back (${want.length})`, `seqs ${lost.join(', ')} were sent before the drop and not replayed`, ev(seen.get(lost[0])));
    const changed = replay.filter((x) => seen.has(x.msg.event_seq) && !deepEqual(seen.get(x.msg.event_seq)!.msg.payload, x.msg.payload));
    j.expect(changed.length === 0, '6.3/replays-buffered', 'the replayed frames equal the ones first sent', `replayed seq ${changed[0]?.msg.event_seq} differs from the frame first sent with that seq`, ev(changed[0], changed[0] && seen.get(changed[0].msg.event_seq)));
  },
};

export const jobContinues: Check = {
  kind: 'server',
  id: 'session/resume/job-continues',
  title: 'A job that ran on while the client was away still ends with its result after resume',
  requirements: ['6.3/replays-buffered', '6.7/jobs-continue'],
  needs: { agents: ['ticker'], reconnect: true },
  description: 'Starts `ticker` (6 ticks of 80 ms), drops the transport after its first events, stays away until the job must have finished, then resumes from the last event seen: the replay must bring the remaining events and the job.result.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('ticker'), input: { ticks: 6, tickMs: 80 } });
    await eventsSeen(ctx, s, a.jobId, 2);
    if (s.jobMessages(a.jobId).some((r) => r.msg.type === 'job.result' || r.msg.type === 'job.error')) return ctx.skip('precondition: the job ended before the drop');
    s.drop();
    await pause(1100, ctx.signal); // away well past the job's end (480 ms of ticks): the scenario, not a wait for a reply
    const r = await ctx.resume(s);
    if (!r.ok) {
      j.violation('6.3/replays-buffered', `the resume was refused (${r.why})`, ev(r.error));
      return;
    }
    const end = await orNothing(s.terminal(a.jobId));
    j.expect(end?.msg.type === 'job.result', '6.3/replays-buffered', 'the job.result of the job that ran on arrived after resume', end ? `the job ended with ${what(end)}` : 'the job.result never arrived after resume: the job was lost', ev(end));
  },
};

export const tokenRotation: Check = {
  kind: 'server',
  id: 'session/resume/token-rotation',
  title: 'Every welcome rotates the resume token; the old one no longer resumes, the new one does',
  requirements: ['6.3/token-rotates', '6.3/resume-presents'],
  needs: { agents: ['echo'], reconnect: true },
  description: 'Resumes a session (token T1 → welcome with T2, which must differ), then tries T1 again (must be refused) and T2 (must succeed with a third, different token).',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('echo'), input: { rotate: 1 } });
    await s.terminal(a.jobId);
    const t1 = s.resumeToken;
    s.drop();
    const first = await ctx.resume(s, { lastSeq: 0 });
    if (!first.ok) return ctx.skip(`precondition: the first resume was refused (${first.why})`);
    const t2 = s.resumeToken;
    j.expect(typeof t2 === 'string' && t2 !== t1, '6.3/token-rotates', 'the resume welcome carries a new resume_token', 'the resume welcome repeats the old resume_token', ev(first.welcome));
    s.drop();
    const stale = await ctx.resume(s, { lastSeq: 0, token: t1 });
    j.expect(!stale.ok, '6.3/token-rotates', `the superseded token is refused (${stale.ok ? '' : stale.why})`, 'the superseded token still resumes the session', ev(stale.ok ? stale.welcome : stale.error));
    if (stale.ok) s.drop();
    const fresh = await ctx.resume(s, { lastSeq: 0, token: t2 });
    j.expect(fresh.ok, '6.3/resume-presents', 'the most recent token resumes the session', `the most recent token was refused (${fresh.ok ? '' : fresh.why})`, ev(fresh.ok ? fresh.welcome : fresh.error));
    if (fresh.ok) j.expect(s.resumeToken !== t2 && s.resumeToken !== t1, '6.3/token-rotates', 'and rotates it again', 'the second resume repeats a token already used', ev(fresh.welcome));
  },
};

export const upToDate: Check = {
  kind: 'server',
  id: 'session/resume/up-to-date',
  title: 'Resuming with last_event_seq equal to the latest seq succeeds and replays nothing',
  requirements: ['6.3/replays-buffered', '6.3/window-expired'],
  needs: { agents: ['echo'], reconnect: true },
  description: 'Runs `echo` to its end, drops, and resumes with last_event_seq = the last seq received: nothing is missing from the buffer, so the runtime must welcome (not RESUME_WINDOW_EXPIRED) and replay nothing before answering a ping.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('echo'), input: { upToDate: true } });
    await s.terminal(a.jobId);
    const last = s.lastSeq;
    s.drop();
    const r = await ctx.resume(s, { lastSeq: last });
    if (!r.ok) {
      j.violation('6.3/window-expired', `resume with the latest seq ${last} was refused (${r.why}); the buffer covers it, nothing is missing`, ev(r.error));
      return;
    }
    const pong = await orNothing(s.ping());
    const replayed = sequenced(r.peer.received.slice(r.from)).filter((x) => !pong || x.i < pong.reply.i);
    j.expect(replayed.length === 0, '6.3/replays-buffered', `welcome, nothing replayed after seq ${last}`, `${replayed.length} frames replayed though the client had everything up to ${last}`, ev(r.welcome, replayed[0]));
  },
};

export const windowExpired: Check = {
  kind: 'server',
  id: 'session/resume/window-expired',
  title: 'RESUME_WINDOW_EXPIRED when the buffer no longer covers last_event_seq',
  requirements: ['6.3/window-expired', '6.5/may-free-acked', '3/free-on-ack'],
  needs: { features: ['ack'], agents: ['echo'], reconnect: true },
  description: 'Runs `echo`, acknowledges everything, drops, and resumes from seq 0. A runtime that freed the acknowledged events must answer RESUME_WINDOW_EXPIRED; one that kept them may replay them, and then the check waits out resume_window_sec if that is short enough, else it is skipped.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('echo'), input: { window: 1 } });
    await s.terminal(a.jobId);
    s.ack(s.lastSeq);
    await orNothing(s.ping()); // the ack is in before the drop
    s.drop();
    const r = await ctx.resume(s, { lastSeq: 0 });
    if (!r.ok) {
      const code = r.error?.msg.payload.code;
      j.info('6.5/may-free-acked', 'the runtime freed acknowledged events before the resume window ended');
      j.info('3/free-on-ack', 'acks let the runtime free its buffer early');
      j.expect(code === 'RESUME_WINDOW_EXPIRED', '6.3/window-expired', 'the acknowledged (freed) events are no longer covered: RESUME_WINDOW_EXPIRED', `refused with ${what(r.error)} (${r.why}), expected RESUME_WINDOW_EXPIRED`, ev(r.error));
      return;
    }
    j.info('6.5/may-free-acked', 'the runtime kept acknowledged events (it MAY free them)');
    const window = s.welcome.payload.resume_window_sec;
    if (typeof window !== 'number' || window * 1000 + ctx.waitMs + 2000 > ctx.remainingMs()) {
      j.notExercised('6.3/window-expired', `the runtime kept acknowledged events and its resume_window_sec (${window ?? 'not given'}) is longer than --timeout leaves to wait`);
      return;
    }
    s.drop();
    await pause(window * 1000 + 1000, ctx.signal);
    const late = await ctx.resume(s, { lastSeq: 0 });
    j.expect(!late.ok && late.error?.msg.payload.code === 'RESUME_WINDOW_EXPIRED', '6.3/window-expired', 'after resume_window_sec: RESUME_WINDOW_EXPIRED', late.ok ? 'the session still resumed after resume_window_sec' : `refused with ${what(late.error)}, expected RESUME_WINDOW_EXPIRED`, ev(late.ok ? late.welcome : late.error));
  },
};

export const unackedKept: Check = {
  kind: 'server',
  id: 'session/ack/unacked-kept',
  title: 'Events the client has not acknowledged are kept for resume',
  requirements: ['6.5/keep-unacked', '6.5/ack-advisory'],
  needs: { features: ['ack'], agents: ['ticker'], reconnect: true },
  description: 'Runs `ticker`; after five events acknowledges the second, drops, and resumes from the third: the fourth onward was never acknowledged, so the runtime must replay it (not refuse, not skip to what it delivered).',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('ticker'), input: { ticks: 6, tickMs: 60 } });
    await eventsSeen(ctx, s, a.jobId, 5);
    const seqs = sequenced(s.peer.received).map((r) => r.msg.event_seq as number);
    const [acked, from, next] = [seqs[1], seqs[2], seqs[3]];
    s.ack(acked);
    await orNothing(s.ping());
    s.drop();
    const r = await ctx.resume(s, { lastSeq: from });
    if (!r.ok) {
      j.violation('6.5/keep-unacked', `resume from seq ${from} (acknowledged up to ${acked}) was refused (${r.why}): unacknowledged events were freed`, ev(r.error));
      return;
    }
    const got = await orNothing(r.peer.waitFor((m) => typeof m.event_seq === 'number', 'a replayed frame', ctx.waitMs, r.from));
    j.expect(got?.msg.event_seq === next, '6.5/keep-unacked', `seq ${next} (never acknowledged) was replayed`, got ? `the replay starts at seq ${got.msg.event_seq}, expected ${next}` : 'nothing was replayed', ev(got));
    j.expect(got?.msg.event_seq === next, '6.5/ack-advisory', 'the replay follows last_event_seq, not the last ack or the last delivery', `the replay ignored last_event_seq ${from}`, ev(got));
  },
};

export const backPressure: Check = {
  kind: 'server',
  id: 'session/ack/back-pressure',
  title: 'A consumer that never acknowledges may be told about back-pressure',
  requirements: ['6.5/back-pressure', '3/client-may-ack'],
  needs: { features: ['ack'], agents: ['flood'] },
  description: 'Runs `flood` (300 metrics) without acknowledging any of them, then acknowledges the last; notes whether the runtime signalled back-pressure (a `status` event with phase `back_pressure`), which it MAY.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('flood'), input: { count: 300 } });
    await s.terminal(a.jobId, ctx.waitMs * 2);
    const bp = s.events(a.jobId).find((r) => r.msg.payload.kind === 'status' && r.msg.payload.body?.phase === 'back_pressure');
    j.info('6.5/back-pressure', bp ? `back-pressure signalled: ${bp.msg.payload.body.message ?? ''}` : 'no back-pressure signal for 300 unacknowledged events', ...ev(bp));
    s.ack(s.lastSeq);
    const pong = await orNothing(s.ping());
    j.info('3/client-may-ack', pong ? 'the session went on after the ack' : 'no pong after the ack');
  },
};

export const closeAcknowledged: Check = {
  kind: 'server',
  id: 'session/close/acknowledged',
  title: 'session.close is acknowledged with session.closed',
  requirements: ['6.7/closed', '6.7/client-close'],
  description: 'Sends session.close; the runtime must answer session.closed. A runtime that knows only the v1.0 session.bye gets a named warning.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const from = s.peer.mark;
    const sent = s.send('session.close', { reason: 'conformance check' });
    const r = await s.peer.maybe((m) => m.type === 'session.closed' || m.type === 'session.error', ctx.waitMs, from);
    if (r?.msg.type === 'session.closed') {
      j.pass('6.7/closed', 'session.closed', ...ev(sent.frame, r));
      return;
    }
    const bye = s.peer.isClosed ? undefined : s.send('session.bye', { reason: 'conformance check' });
    const gone = await s.peer.waitClosed(ctx.waitMs);
    if (r?.msg.type === 'session.error' && bye && gone) j.deviation('6.7/closed', 'v1.0 form', `session.close was refused (${what(r)}); the runtime ends sessions on session.bye, without a reply`, ...ev(sent.frame, r, bye.frame));
    else j.violation('6.7/closed', `session.close got ${what(r)}${s.peer.isClosed ? ' and the connection closed' : ''}, no session.closed`, ev(sent.frame, r));
  },
};

export const closeJobsContinue: Check = {
  kind: 'server',
  id: 'session/close/jobs-continue',
  title: 'After session.close, in-flight jobs keep running and remain resumable',
  requirements: ['6.7/jobs-continue'],
  needs: { agents: ['ticker'], reconnect: true },
  description: 'Starts `ticker`, closes the session (session.close, or session.bye where only that is known), resumes it and expects the job to end with its result.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('ticker'), input: { ticks: 6, tickMs: 80 } });
    await eventsSeen(ctx, s, a.jobId, 2);
    const from = s.peer.mark;
    s.send('session.close', { reason: 'conformance check' });
    const r = await s.peer.maybe((m) => m.type === 'session.closed' || m.type === 'session.error', ctx.waitMs, from);
    if (r?.msg.type !== 'session.closed' && !s.peer.isClosed) s.send('session.bye', { reason: 'conformance check' });
    s.stopPinging();
    await s.peer.waitClosed(ctx.waitMs);
    if (!s.peer.isClosed) s.peer.close();
    const resumed = await ctx.resume(s);
    if (!resumed.ok) {
      j.violation('6.7/jobs-continue', `after the close the session could not be resumed (${resumed.why})`, ev(resumed.error));
      return;
    }
    const end = await orNothing(s.terminal(a.jobId));
    j.expect(end?.msg.type === 'job.result', '6.7/jobs-continue', 'the in-flight job ended with its result after the close', end ? `the job ended with ${what(end)}` : 'the job never ended after the close', ev(end));
  },
};
