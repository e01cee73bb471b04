import type { Received } from '../../peer.js';
import type { ServerContext } from '../context.js';
import type { SuiteSession } from '../session.js';
import { accepted, codeOf, ev, eventKey, orNothing, what, type Check } from './util.js';

const NEEDS = { features: ['subscribe'], agents: ['ticker'], reconnect: true } as const;

/** A running ticker in its owner's session, with `n` events already seen there. */
async function runningJob(ctx: ServerContext, n = 3, ticks = 8): Promise<{ owner: SuiteSession; jobId: string }> {
  const owner = await ctx.session();
  const a = await accepted(ctx, owner, { agent: ctx.agent('ticker'), input: { ticks, tickMs: 100 } });
  await owner.peer.until(() => (owner.events(a.jobId).length >= n ? true : undefined), `${n} events`, ctx.waitMs).catch(() => ctx.skip(`precondition: the job did not emit ${n} events`));
  if (owner.jobMessages(a.jobId).some((r) => r.msg.type === 'job.result' || r.msg.type === 'job.error')) return ctx.skip('precondition: the job ended before the subscription');
  return { owner, jobId: a.jobId };
}

/** Subscribes; `from` marks where the subscriber's stream stood when it asked. */
async function subscribeTo(s: SuiteSession, payload: Record<string, unknown>) {
  const from = s.peer.mark;
  return { ...(await s.subscribe(payload)), from };
}

export const historyAndLive: Check = {
  kind: 'server',
  id: 'jobs/subscribe/history-and-live',
  title: 'A subscriber gets the authority descriptor, the buffered history, then the live stream in its own seq space',
  requirements: ['7.6/authority-descriptor', '7.6/history-from-seq', '7.6/interleaved', '7.6/no-history-live-only', '7.6/may-subscribe', '3/list-or-subscribe-any-time'],
  needs: NEEDS,
  description: "Starts `ticker` in session A; session B of the same principal first runs `echo` (so its seq space differs from A's), then subscribes with history from seq 0. B must get job.subscribed (job_id, current_status, lease), every event A saw before, the live events and the job.result, numbered in B's own event_seq. History before job.subscribed (the reference SDK's order) is accepted with a named warning.",
  async run(ctx) {
    const j = ctx.judge;
    const { owner, jobId } = await runningJob(ctx);
    const sub = await ctx.session();
    const warm = await accepted(ctx, sub, { agent: ctx.agent('echo'), input: { warm: true } });
    await sub.terminal(warm.jobId);
    const ownSeq = sub.lastSeq;
    const before = owner.events(jobId).map((r) => eventKey(r.msg));
    const r = await subscribeTo(sub, { job_id: jobId, history: true, from_event_seq: 0 });
    if (r.reply.msg.type !== 'job.subscribed') {
      j.violation('7.6/authority-descriptor', `the submitter's own principal could not subscribe: ${what(r.reply)}`, ev(r.sent, r.reply));
      return;
    }
    j.info('7.6/may-subscribe', 'subscribed from a second session');
    j.info('3/list-or-subscribe-any-time', 'subscribed while the job was running');
    const p = r.reply.msg.payload;
    j.expect(p.job_id === jobId && typeof p.current_status === 'string' && p.lease && typeof p.lease === 'object', '7.6/authority-descriptor', `job.subscribed: job_id, current_status ${p.current_status}, lease`, `job.subscribed lacks ${['job_id', 'current_status', 'lease'].filter((k) => p[k] === undefined).join(', ') || 'the right job_id'}`, ev(r.reply));
    const end = await orNothing(sub.terminal(jobId));
    const got = sub.received.slice(r.from).filter((x) => x.msg.job_id === jobId && x.msg.type === 'job.event');
    const keys = got.map((x) => eventKey(x.msg));
    const missing = before.filter((k) => !keys.includes(k));
    j.expect(missing.length === 0, '7.6/history-from-seq', `the history holds all ${before.length} events sent before the subscription`, `${missing.length} of the ${before.length} earlier events never reached the subscriber`, ev(got[0]));
    j.expect(end?.msg.type === 'job.result', '7.6/history-from-seq', 'then the live stream to the job.result', `the subscriber's stream ended with ${what(end)}`, ev(end));
    const early = got.filter((x) => x.i < r.reply.i);
    if (early.length) j.deviation('7.6/no-history-live-only', 'deviates from draft', `${early.length} history events arrived before job.subscribed (the acknowledgement)`, ...ev(early[0], r.reply));
    const firstSeq = got[0]?.msg.event_seq;
    j.expect(firstSeq === ownSeq + 1, '7.6/interleaved', `the subscriber's events continue its own event_seq (from ${ownSeq + 1})`, `the first event for the subscriber has seq ${firstSeq}; its own stream was at ${ownSeq}`, ev(got[0]));
  },
};

export const fromEventSeq: Check = {
  kind: 'server',
  id: 'jobs/subscribe/from-event-seq',
  title: 'history with from_event_seq replays only the events after that seq',
  requirements: ['7.6/history-from-seq'],
  needs: NEEDS,
  description: "Starts `ticker` in session A; after four events, session B subscribes with history from the seq of A's second event: B must get A's events from the third on, not the first two.",
  async run(ctx) {
    const j = ctx.judge;
    const { owner, jobId } = await runningJob(ctx, 4);
    const evs = owner.events(jobId);
    const cut = evs[1].msg.event_seq as number;
    const sub = await ctx.session();
    const r = await subscribeTo(sub, { job_id: jobId, history: true, from_event_seq: cut });
    if (r.reply.msg.type !== 'job.subscribed') return ctx.skip(`precondition: the subscription was refused (${what(r.reply)})`);
    await orNothing(sub.terminal(jobId));
    const keys = sub.received.slice(r.from).filter((x) => x.msg.job_id === jobId && x.msg.type === 'job.event').map((x) => eventKey(x.msg));
    const dropped = evs.slice(0, 2).filter((x) => keys.includes(eventKey(x.msg)));
    const kept = evs.slice(2).filter((x) => !keys.includes(eventKey(x.msg)));
    j.expect(dropped.length === 0, '7.6/history-from-seq', `nothing at or before seq ${cut} was replayed`, `${dropped.length} events at or before from_event_seq ${cut} were replayed`, ev(dropped[0]));
    j.expect(kept.length === 0, '7.6/history-from-seq', `the events after seq ${cut} were replayed`, `${kept.length} events after from_event_seq ${cut} never arrived`, ev(kept[0]));
  },
};

export const liveOnly: Check = {
  kind: 'server',
  id: 'jobs/subscribe/live-only',
  title: 'Without history, a subscriber sees only events emitted after the subscription',
  requirements: ['7.6/no-history-live-only'],
  needs: NEEDS,
  description: 'Starts `ticker` in session A; after three events session B subscribes with history false: B must get none of the events A had before the subscribe was sent, and must get later ones and the job.result.',
  async run(ctx) {
    const j = ctx.judge;
    const { owner, jobId } = await runningJob(ctx);
    const sub = await ctx.session();
    const before = new Set(owner.events(jobId).map((r) => eventKey(r.msg)));
    const r = await subscribeTo(sub, { job_id: jobId, history: false });
    if (r.reply.msg.type !== 'job.subscribed') return ctx.skip(`precondition: the subscription was refused (${what(r.reply)})`);
    const end = await orNothing(sub.terminal(jobId));
    const got = sub.received.slice(r.from).filter((x) => x.msg.job_id === jobId && x.msg.type === 'job.event');
    const old = got.filter((x) => before.has(eventKey(x.msg)));
    j.expect(old.length === 0, '7.6/no-history-live-only', 'no event from before the subscription', `${old.length} events from before the subscription were sent though history was false`, ev(old[0]));
    j.expect(got.length > old.length && end?.msg.type === 'job.result', '7.6/no-history-live-only', `${got.length - old.length} live events and the job.result`, `the live stream brought ${got.length - old.length} events and ${what(end)}`, ev(end));
  },
};

export const authorization: Check = {
  kind: 'server',
  id: 'jobs/subscribe/authorization',
  title: "Another principal's subscription is refused with PERMISSION_DENIED; the submitter's principal is let in",
  requirements: ['7.6/verify-subscriber', '7.6/unauthorized-denied', '7.6/submitter-permitted', '14/same-principal-default'],
  needs: { ...NEEDS, secondPrincipal: true },
  description: "Starts `ticker` as --token's principal; a session of --token2's principal subscribes (must get PERMISSION_DENIED, and no event of the job), then a second session of the submitter's principal subscribes (must get job.subscribed).",
  async run(ctx) {
    const j = ctx.judge;
    const { jobId } = await runningJob(ctx);
    const other = await ctx.session({ token: ctx.opts.token2! });
    const r = await subscribeTo(other, { job_id: jobId, history: true });
    const code = codeOf(r.reply);
    if (r.reply.msg.type === 'job.subscribed') j.violation('7.6/verify-subscriber', "another principal's subscription was accepted", ev(r.sent, r.reply));
    else if (code === 'PERMISSION_DENIED') j.pass('7.6/unauthorized-denied', `refused: ${what(r.reply)}`, ...ev(r.sent, r.reply));
    else j.violation('7.6/unauthorized-denied', `refused with ${what(r.reply)}, the draft names PERMISSION_DENIED`, ev(r.reply), code === 'JOB_NOT_FOUND' ? 'SHOULD' : undefined);
    await orNothing(other.ping());
    const leaked = other.received.filter((x) => x.msg.job_id === jobId && x.msg.type === 'job.event');
    j.expect(leaked.length === 0 && r.reply.msg.type !== 'job.subscribed', '14/same-principal-default', 'no event reached the other principal', `${leaked.length} events reached another principal`, ev(leaked[0]));
    j.expect(r.reply.msg.type !== 'job.subscribed', '7.6/verify-subscriber', 'the runtime verified the subscriber', 'the runtime did not verify the subscriber', ev(r.reply));
    const same = await ctx.session();
    const ok = await subscribeTo(same, { job_id: jobId, history: false });
    j.expect(ok.reply.msg.type === 'job.subscribed', '7.6/submitter-permitted', "the submitter's principal subscribes from another session", `the submitter's principal was refused: ${what(ok.reply)}`, ev(ok.reply));
  },
};

export const noCancelAuthority: Check = {
  kind: 'server',
  id: 'jobs/subscribe/no-cancel-authority',
  title: "A subscriber's job.cancel is refused and the job runs on",
  requirements: ['14/no-cancel-authority', '7.6/no-cancel'],
  needs: NEEDS,
  description: 'Starts `ticker` in session A; session B (same principal) subscribes and sends job.cancel: it must be refused, no job.cancelled may follow, and the job must end with its result in A.',
  async run(ctx) {
    const j = ctx.judge;
    const { owner, jobId } = await runningJob(ctx);
    const sub = await ctx.session();
    const r = await subscribeTo(sub, { job_id: jobId, history: false });
    if (r.reply.msg.type !== 'job.subscribed') return ctx.skip(`precondition: the subscription was refused (${what(r.reply)})`);
    const from = sub.peer.mark;
    const sent = sub.cancel(jobId, 'a subscriber tries');
    const refusal = await orNothing(sub.peer.waitFor((m) => (m.type === 'job.error' || m.type === 'session.error' || m.type === 'job.cancelled') && (m.job_id === jobId || m.type === 'session.error'), 'an answer to the cancel', ctx.waitMs, from));
    const end = await orNothing(owner.terminal(jobId, ctx.waitMs * 2));
    const cancelled = [...owner.received, ...sub.received].find((x) => x.msg.type === 'job.cancelled' && x.msg.job_id === jobId);
    j.expect(!cancelled && end?.msg.type === 'job.result', '14/no-cancel-authority', `the job ran on to its result; the subscriber got ${what(refusal)}`, cancelled ? "the subscriber's cancel was carried out (job.cancelled)" : `the job ended with ${what(end)}`, ev(sent.frame, cancelled ?? end));
    j.expect(Boolean(refusal) && refusal!.msg.type !== 'job.cancelled', '7.6/no-cancel', `the cancel was refused (${what(refusal)})`, refusal ? `the cancel got ${what(refusal)}` : 'the cancel got no answer', ev(refusal));
  },
};

export const unsubscribe: Check = {
  kind: 'server',
  id: 'jobs/subscribe/unsubscribe',
  title: 'After job.unsubscribe no more events of the job reach the subscriber',
  requirements: ['7.6/may-unsubscribe'],
  needs: NEEDS,
  description: "Session B subscribes to A's running `ticker`, takes one live event, unsubscribes and pings; from the pong to the job's end in A, B must get nothing more of the job.",
  async run(ctx) {
    const j = ctx.judge;
    const { owner, jobId } = await runningJob(ctx, 2);
    const sub = await ctx.session();
    const r = await subscribeTo(sub, { job_id: jobId, history: false });
    if (r.reply.msg.type !== 'job.subscribed') return ctx.skip(`precondition: the subscription was refused (${what(r.reply)})`);
    await sub.peer.waitFor((m) => m.type === 'job.event' && m.job_id === jobId, 'a live event', ctx.waitMs, r.from).catch(() => ctx.skip('precondition: no live event reached the subscriber'));
    sub.send('job.unsubscribe', { job_id: jobId });
    const pong = await orNothing(sub.ping());
    await orNothing(owner.terminal(jobId, ctx.waitMs * 2));
    await orNothing(sub.ping());
    if (!pong) return j.notExercised('7.6/may-unsubscribe', 'no pong to mark when the unsubscribe had been processed');
    const after = sub.received.filter((x: Received) => x.i > pong.reply.i && x.msg.job_id === jobId);
    j.expect(after.length === 0, '7.6/may-unsubscribe', 'nothing of the job after the unsubscribe', `${after.length} frames of the job after job.unsubscribe was answered`, ev(after[0]), 'SHOULD');
  },
};
