import type { ConnLog, Dir, Exchange, LoggedFrame, Msg } from '../exchange.js';
import type { Side } from '../check.js';

/** One connection read as ARCP: how it opened (hello, resume) and what it negotiated. */
export interface ConnView {
  exchange: Exchange;
  log: ConnLog;
  opening?: LoggedFrame;
  /** The resume request, in either form (session.resume, or session.hello with payload.resume). */
  resume?: { frame: LoggedFrame; sessionId: string; token: string; lastSeq: number; form: 'draft' | 'v1.0' };
  welcome?: LoggedFrame;
  /** The error that refused the opening, if it was refused. */
  refused?: LoggedFrame;
  sessionId?: string;
  /** Features the hello offered: `null` for a hello without a list, undefined when unknown. */
  offered?: string[] | null;
  /** The effective set (§6.2). */
  features: Set<string>;
}

/** A session across the connections that opened and resumed it. */
export interface SessionView {
  id: string;
  conns: ConnView[];
}

export const sideDir = (s: Side): Dir => (s === 'runtime' ? 's2c' : 'c2s');
export const msgs = (c: ConnView, dir?: Dir): (LoggedFrame & { msg: Msg })[] => c.log.frames.filter((f): f is LoggedFrame & { msg: Msg } => f.msg !== undefined && (!dir || f.dir === dir));

export function model(exchanges: Exchange[]): { conns: ConnView[]; sessions: SessionView[] } {
  const conns: ConnView[] = [];
  const sessions = new Map<string, SessionView>();
  for (const x of exchanges) {
    for (const log of x.conns) {
      const c: ConnView = { exchange: x, log, features: new Set() };
      for (const f of log.frames) {
        const m = f.msg;
        if (!m) continue;
        if (f.dir === 'c2s' && !c.opening && (m.type === 'session.hello' || m.type === 'session.resume')) {
          c.opening = f;
          const r = m.type === 'session.resume' ? m.payload : m.payload.resume;
          if (r && typeof r.session_id === 'string') c.resume = { frame: f, sessionId: r.session_id, token: r.resume_token, lastSeq: r.last_event_seq, form: m.type === 'session.resume' ? 'draft' : 'v1.0' };
          if (m.type === 'session.hello') c.offered = Array.isArray(m.payload.capabilities?.features) ? m.payload.capabilities.features : null;
        } else if (f.dir === 's2c' && !c.welcome && !c.refused && c.opening) {
          if (m.type === 'session.welcome') c.welcome = f;
          else if (m.type === 'session.error') c.refused = f;
        }
      }
      c.sessionId = c.welcome?.msg?.session_id ?? c.resume?.sessionId;
      if (c.welcome && c.sessionId) {
        let s = sessions.get(`${x.name}\u0000${c.sessionId}`);
        if (!s) sessions.set(`${x.name}\u0000${c.sessionId}`, (s = { id: c.sessionId, conns: [] }));
        if (c.offered === undefined) c.offered = s.conns[0]?.offered;
        const acked: unknown = c.welcome.msg!.payload.capabilities?.features;
        const listed = Array.isArray(acked) ? (acked as string[]) : [];
        c.features = c.offered ? new Set(listed.filter((f) => c.offered!.includes(f))) : c.offered === null ? new Set() : new Set(listed);
        s.conns.push(c);
      }
      conns.push(c);
    }
  }
  return { conns, sessions: [...sessions.values()] };
}

/** Messages of one direction that came after the connection's welcome. */
export function afterWelcome(c: ConnView, dir: Dir): (LoggedFrame & { msg: Msg })[] {
  const at = c.welcome ? c.log.frames.indexOf(c.welcome) : c.log.frames.length;
  return c.log.frames.slice(at + 1).filter((f): f is LoggedFrame & { msg: Msg } => f.msg !== undefined && f.dir === dir);
}

/** The session's sequenced runtime frames, each once: a replay repeats a frame's seq and envelope id (not always its bytes). */
export function sessionStream(s: SessionView): (LoggedFrame & { msg: Msg })[] {
  const seen = new Set<string>();
  const out: (LoggedFrame & { msg: Msg })[] = [];
  for (const c of s.conns) {
    for (const f of msgs(c, 's2c')) {
      const seq = f.msg.event_seq;
      if (typeof seq !== 'number') continue;
      const key = `${seq}\u0000${f.msg.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

/** Appends a bounded list of violations: a handful shown, the rest counted. */
export function capped<T>(items: T[], show: (t: T) => void, more: (n: number) => void, limit = 5): void {
  items.slice(0, limit).forEach(show);
  if (items.length > limit) more(items.length - limit);
}
