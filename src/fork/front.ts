import type { CannedResponse, Responder } from '../record/http-respond.js';
import { HttpMatcher, type MatchRequest } from '../replay/http-match.js';
import { closestTo, loadExchanges } from '../replay/http-player.js';
import type { Divergence } from '../replay/report.js';
import type { Volatility } from '../replay/volatile.js';
import type { ChannelRow } from '../tape/format.js';
import { readableBody } from '../tape/http-exchanges.js';
import { TapeReader } from '../tape/reader.js';
import type { EditedStep } from './edit.js';
import type { Step } from './steps.js';

type Recorded = ReturnType<typeof loadExchanges>[number];

export interface FrontOptions {
  parent: string;
  step: Step;
  /** The edited exchange, when the fork step is one. */
  edited?: Extract<EditedStep, { kind: 'exchange' }>;
  vol: Volatility;
  pace: 'recorded' | 'fast';
  /** Answers for calls after the fork point from another tape (`--then tape:OTHER`)… */
  then?: string;
  /** …or from the live upstream (the proxy forwards what this does not answer). */
  upstream?: string;
  /** Whether the run is past the fork point (a client-frame fork: once the edited frame is sent). */
  pastFork: () => boolean;
  /** A request before the fork point that the parent does not have: the run is not the recorded one. */
  onDivergence: (d: Divergence) => void;
  /** Trouble after the fork point that leaves the continuation without an answer. */
  onProblem: (line: string) => void;
}

/** Where each answer came from. */
export interface FrontCounts {
  parent: number;
  edited: number;
  tape: number;
  live: number;
  refused: number;
}

function httpChannels(path: string): ChannelRow[] {
  const r = TapeReader.open(path);
  try {
    return r.channels().filter((c) => c.kind === 'http');
  } finally {
    r.close();
  }
}



function canned(status: number, headers: [string, string][], chunks: { data: Buffer; mono: number }[], pace: FrontOptions['pace']): CannedResponse {
  return { status, headers, chunks: chunks.map((c, i) => ({ data: c.data, delayMs: pace === 'recorded' && i ? Math.max(0, c.mono - chunks[i - 1].mono) / 1000 : 0 })) };
}

function refusal(message: string): CannedResponse {
  const body = Buffer.from(JSON.stringify({ error: { type: 'arcp_fork', message } }));
  return { status: 502, headers: [['content-type', 'application/json'], ['content-length', String(body.length)]], chunks: [{ data: body, delayMs: 0 }] };
}

/**
 * The HTTP side of a continued fork, as the recording proxy's responder: before the fork point
 * the runtime's calls are answered from the parent tape (and must match it), the forked call gets
 * the edited answer, and later calls go to the live upstream (forwarded and recorded by the
 * proxy) or to another tape. Every answer is recorded into the child like a forwarded one.
 */
export function forkFront(o: FrontOptions): { respond: Responder; counts: FrontCounts; forkServed: () => boolean } {
  // The rules `arcp replay --http-port` matches with: method, path, canonical body.
  const matcher = new HttpMatcher([], o.vol);
  const all = httpChannels(o.parent);
  const forkChannel = o.step.exchange?.channel;
  const parentExchanges = loadExchanges(o.parent, all.filter((c) => c.id !== forkChannel), matcher).filter((e) => e.seqs[0] < o.step.seq);
  const forked: Recorded | undefined = forkChannel !== undefined ? loadExchanges(o.parent, all.filter((c) => c.id === forkChannel), matcher)[0] : undefined;
  const then = o.then ? loadExchanges(o.then, httpChannels(o.then), matcher) : [];
  const counts: FrontCounts = { parent: 0, edited: 0, tape: 0, live: 0, refused: 0 };
  let forkServed = false;
  const past = () => (forked ? forkServed : o.pastFork());

  const respond: Responder = (req) => {
    const live: MatchRequest = { method: req.method, path: req.path, headers: req.headers, body: readableBody(req.headers, req.body).data };
    const answers = (e: Recorded) => !e.served && matcher.matches(e.key, live);
    const prior = parentExchanges.find(answers);
    if (prior) {
      prior.served = true;
      counts.parent++;
      return canned(prior.status, prior.headers, prior.chunks, o.pace);
    }
    if (forked && !forkServed && answers(forked) && o.edited) {
      forkServed = true;
      counts.edited++;
      const e = o.edited;
      return canned(e.response.status, e.response.headers, e.chunks.map((c) => ({ data: c.data, mono: c.mono_us })), o.pace);
    }
    if (!past()) {
      const candidates = [...parentExchanges.filter((e) => !e.served), ...(forked ? [forked] : [])];
      const closest = closestTo(candidates.length ? candidates : parentExchanges, req.method, req.path, req.body, o.vol);
      const message = `before the fork point the runtime made a call the parent does not have: ${req.method} ${req.path}${closest ? `; closest is ${closest.request}` : ''}`;
      o.onDivergence({ reason: 'unmatched-request', channel: closest?.channel ?? 0, seq: 0, dir: 'c2s', message, actual: `${req.method} ${req.path} ${req.body.toString('utf8').slice(0, 600)}`, fields: closest?.fields ?? [], context: [], closest });
      counts.refused++;
      return refusal(`arcp fork: ${message}`);
    }
    if (o.then) {
      const hit = then.find(answers);
      if (hit) {
        hit.served = true;
        counts.tape++;
        return canned(hit.status, hit.headers, hit.chunks, o.pace);
      }
      const closest = closestTo(then, req.method, req.path, req.body, o.vol);
      o.onProblem(`${o.then} has no answer for the call after the fork point ${req.method} ${req.path}${closest ? ` (closest: ${closest.request}, differing at ${closest.fields.slice(0, 3).map((f) => f.pointer).join(', ')})` : ''}`);
      counts.refused++;
      return refusal(`arcp fork: ${o.then} has no recorded answer for this call`);
    }
    if (o.upstream) {
      counts.live++;
      return undefined;
    }
    o.onProblem(`the runtime called ${req.method} ${req.path} after the fork point and there is nowhere to send it: pass --llm-upstream URL or --then tape:OTHER`);
    counts.refused++;
    return refusal('arcp fork: no --llm-upstream or --then tape for calls after the fork point');
  };
  return { respond, counts, forkServed: () => forkServed };
}
