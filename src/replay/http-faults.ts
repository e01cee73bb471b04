import type { ServerResponse } from 'node:http';
import { ToolError } from '../errors.js';
import { sleep } from './frames.js';
import type { Exchange } from './http-player.js';

/**
 * Faults on the HTTP side of a replay, each aimed at one recorded exchange (`llm:3`: the third
 * exchange recorded under the route `/llm`; `http:3`: the third of any route), so an agent's
 * retry and timeout logic can be tested offline:
 * - `status@REF=CODE`: answer CODE instead (429 and 503 with `retry-after: 1`); the recorded
 *   exchange stays unplayed, so the client's retry gets it.
 * - `reset@REF[=N]`: cut the connection after N body chunks (default 1); the exchange stays
 *   unplayed for the retry.
 * - `slow@REF=MS`: send the head, then wait MS before the first body chunk (a slow first token).
 * - `stall@REF=MS`: wait MS between the first and the second body chunk (a stall between SSE events).
 */
export type HttpFault = { kind: 'status' | 'reset' | 'slow' | 'stall'; ref: string; route: string; index: number; value?: number; spec: string };

const USAGE = 'e.g. --fault status@llm:2=429, --fault reset@llm:1=3, --fault slow@llm:1=2000, --fault stall@http:4=500 (llm:2 = the 2nd exchange under /llm, as `arcp tape show` lists them)';

/** Whether a `--fault` spec is an HTTP one (its target is `ROUTE:N`). */
export const isHttpFault = (spec: string): boolean => /^(status|reset|slow|stall)@[^:=\s]*:\d+/.test(spec.trim());

export function parseHttpFault(spec: string): HttpFault {
  const m = /^(status|reset|slow|stall)@([^:=\s]*):(\d+)(?:=(\d+))?$/.exec(spec.trim());
  if (!m) throw new ToolError('E_USAGE', `--fault "${spec}" is not status@ROUTE:N=CODE, reset@ROUTE:N[=CHUNKS], slow@ROUTE:N=MS or stall@ROUTE:N=MS`, USAGE);
  const kind = m[1] as HttpFault['kind'];
  const index = Number(m[3]);
  const value = m[4] === undefined ? undefined : Number(m[4]);
  if (index < 1) throw new ToolError('E_USAGE', `--fault "${spec}": exchanges count from 1`, USAGE);
  if (kind === 'status' && (value === undefined || value < 200 || value > 599)) throw new ToolError('E_USAGE', `--fault "${spec}": status needs =CODE between 200 and 599`, USAGE);
  if ((kind === 'slow' || kind === 'stall') && (value === undefined || value > 600_000)) throw new ToolError('E_USAGE', `--fault "${spec}": ${kind} needs =MS, at most 600000`, USAGE);
  return { kind, ref: `${m[2]}:${index}`, route: m[2], index, value, spec };
}

const routeName = (prefix: string | undefined): string => (prefix && prefix !== '/' ? prefix.replace(/^\/+/, '') : 'http');

/** The faults of one replay, resolved to exchanges up front (an unknown target is a usage error), each fired once. */
export class HttpFaults {
  private readonly byChannel = new Map<number, HttpFault[]>();
  private readonly fired = new Set<HttpFault>();

  constructor(
    private readonly faults: HttpFault[],
    exchanges: Exchange[],
    private readonly note?: (line: string) => void,
  ) {
    for (const f of faults) {
      const on = exchanges.filter((e) => f.route === 'http' || routeName(e.route) === f.route);
      const e = on[f.index - 1];
      if (!e) {
        const routes = [...new Set(exchanges.map((x) => routeName(x.route)))].map((r) => `${r}: ${exchanges.filter((x) => routeName(x.route) === r).length}`);
        throw new ToolError('E_USAGE', `--fault "${f.spec}": the tape has no exchange ${f.ref} (exchanges by route: ${routes.join(', ') || 'none'}; http:N counts them all)`, USAGE);
      }
      this.byChannel.set(e.channel, [...(this.byChannel.get(e.channel) ?? []), f]);
    }
  }

  /** This exchange's faults not fired yet, marked fired. */
  take(e: Exchange): HttpFault[] {
    const out = (this.byChannel.get(e.channel) ?? []).filter((f) => !this.fired.has(f));
    for (const f of out) {
      this.fired.add(f);
      this.note?.(`fault ${f.spec} injected (HTTP channel ${e.channel})`);
    }
    return out;
  }

  /** Notes for faults whose exchange was never requested. */
  unfired(): void {
    for (const f of this.faults) if (!this.fired.has(f)) this.note?.(`fault ${f.spec} never fired: its exchange was not requested`);
  }
}

/** Answers with the injected status instead of the recording. */
export function answerStatus(res: ServerResponse, status: number): void {
  const body = JSON.stringify({ error: { type: 'arcp_replay_fault', message: `injected by arcp replay --fault: HTTP ${status}` } });
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (status === 429 || status === 503) headers['retry-after'] = '1';
  res.writeHead(status, headers).end(body);
}

/** What the faults do before body chunk `i` (0-based) goes out: wait. */
export async function beforeChunk(faults: HttpFault[], res: ServerResponse, i: number): Promise<void> {
  for (const f of faults) {
    if (f.kind === 'slow' && i === 0) {
      res.flushHeaders();
      await sleep(f.value!);
    } else if (f.kind === 'stall' && i === 1) await sleep(f.value!);
  }
}

/** How many body chunks go out before an injected reset cuts the connection, if one does. */
export const resetAfter = (faults: HttpFault[]): number | undefined => {
  const f = faults.find((x) => x.kind === 'reset');
  return f ? (f.value ?? 1) : undefined;
};
