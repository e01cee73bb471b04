import { newId } from '../../../engine/ids.js';
import type { SuiteSession } from '../session.js';
import { accepted, ev, orNothing, what, type Check } from './util.js';

const intervalOf = (s: SuiteSession): number => {
  const v = s.welcome.payload.heartbeat_interval_sec;
  return typeof v === 'number' && v > 0 ? v : 30;
};

/** How late a message may be against `heartbeat_interval_sec`: a quarter of it, plus half a second of scheduling. */
const grace = (sec: number) => sec * 250 + 500;

export const pong: Check = {
  kind: 'server',
  id: 'session/heartbeat/pong',
  title: 'A ping gets a pong carrying its nonce within heartbeat_interval_sec',
  requirements: ['6.4/pong-promptly', '3/ping-when-idle'],
  needs: { features: ['heartbeat'] },
  description: 'Sends session.ping with a fresh nonce; the runtime must answer session.pong with that ping_nonce within the interval it advertised.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const sec = intervalOf(s);
    const nonce = newId('ping');
    const t0 = performance.now();
    const from = s.peer.mark;
    const sent = s.send('session.ping', { nonce, sent_at: new Date().toISOString() });
    const r = await orNothing(s.peer.waitFor((m) => m.type === 'session.pong' && m.payload.ping_nonce === nonce, 'session.pong', sec * 1000 + grace(sec), from));
    const ms = Math.round(performance.now() - t0);
    if (!r) {
      const other = s.peer.find((m) => m.type === 'session.pong', from);
      j.violation('6.4/pong-promptly', other ? `the pong that came carries ping_nonce ${other.msg.payload.ping_nonce}, not ${nonce}` : `no session.pong within heartbeat_interval_sec (${sec} s)`, ev(sent.frame, other));
      return;
    }
    j.expect(ms <= sec * 1000 + grace(sec), '6.4/pong-promptly', `pong with ping_nonce ${nonce} after ${ms} ms (interval ${sec} s)`, `pong after ${ms} ms, later than heartbeat_interval_sec ${sec} s`, ev(sent.frame, r));
    j.info('3/ping-when-idle', 'the suite pinged while idle and the runtime answered');
  },
};

export const idleTraffic: Check = {
  kind: 'server',
  id: 'session/heartbeat/runtime-idle-traffic',
  title: 'An idle runtime still sends something within each heartbeat interval',
  requirements: ['6.4/traffic-each-interval', '2.2/heartbeat-interval'],
  needs: { features: ['heartbeat'] },
  estimateMs: (p) => (p.heartbeatSec ?? 30) * 1250 + 1000,
  description: 'Opens a session and sends nothing (it still answers pings); within heartbeat_interval_sec the runtime should send at least one message, a session.ping if it has nothing else.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session({ autoPing: false });
    const sec = intervalOf(s);
    const from = s.peer.mark;
    const t0 = performance.now();
    const r = await s.peer.maybe(() => true, sec * 1000 + grace(sec), from);
    const ms = Math.round(performance.now() - t0);
    for (const req of ['6.4/traffic-each-interval', '2.2/heartbeat-interval']) {
      j.expect(Boolean(r), req, `the runtime sent ${what(r)} after ${ms} ms of client silence (interval ${sec} s)`, `the runtime sent nothing for ${ms} ms to an idle client (heartbeat_interval_sec ${sec})`, ev(r));
    }
  },
};

export const jobsSurviveLoss: Check = {
  kind: 'server',
  id: 'session/heartbeat/jobs-survive-loss',
  title: 'A job keeps running when the runtime treats a silent client as lost; the session stays resumable',
  requirements: ['6.4/no-terminate-on-heartbeat-loss', '6.4/dead-after-two-intervals', '3/heartbeat-lost'],
  needs: { features: ['heartbeat'], agents: ['ticker'], reconnect: true },
  estimateMs: (p) => (p.heartbeatSec ?? 30) * 3500 + 3000,
  description: 'Starts `ticker`, then goes silent (no pongs, no pings) for two intervals and a quarter. If the runtime closes the transport for heartbeat loss, the suite resumes: the session must still exist and the job must end with its result, not an error.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session({ autoPing: false, autoPong: false });
    const sec = intervalOf(s);
    const tickMs = 100;
    const ticks = Math.ceil((sec * 3500 + 1500) / tickMs);
    const a = await accepted(ctx, s, { agent: ctx.agent('ticker'), input: { ticks, tickMs } });
    const closed = await s.peer.waitClosed(sec * 2000 + grace(sec) * 2 + 1000);
    if (!closed) {
      j.notExercised('6.4/no-terminate-on-heartbeat-loss', `the runtime kept the silent connection open past two intervals (${sec} s each), so heartbeat loss never happened`);
      j.info('6.4/dead-after-two-intervals', 'the runtime did not treat two silent intervals as a dead connection (it MAY)');
      return;
    }
    const lost = s.peer.find((m) => m.payload?.code === 'HEARTBEAT_LOST');
    j.info('6.4/dead-after-two-intervals', `the runtime closed the silent connection${lost ? ', surfacing HEARTBEAT_LOST' : ''}`, ...ev(lost));
    j.info('3/heartbeat-lost', `treated as ${lost ? 'HEARTBEAT_LOST' : 'dead (no HEARTBEAT_LOST frame)'}`);
    const before = s.jobMessages(a.jobId).find((r) => r.msg.type === 'job.result' || r.msg.type === 'job.error');
    if (before) {
      j.expect(before.msg.type === 'job.result', '6.4/no-terminate-on-heartbeat-loss', 'the job had already finished with its result', `the job ended with ${what(before)} while the client was silent`, ev(before));
      return;
    }
    s.keepAlive();
    const resumed = await ctx.resume(s);
    if (!resumed.ok) {
      j.violation('6.4/no-terminate-on-heartbeat-loss', `after heartbeat loss the session could not be resumed (${resumed.why}): it must exist for the resume window`, ev(resumed.error));
      return;
    }
    const end = await orNothing(s.terminal(a.jobId, ticks * tickMs + ctx.waitMs));
    j.expect(end?.msg.type === 'job.result', '6.4/no-terminate-on-heartbeat-loss', 'the job ran on through the heartbeat loss and ended with its result', `after the heartbeat loss the job ended with ${what(end)}`, ev(end));
  },
};
