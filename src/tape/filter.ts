import { ToolError } from '../errors.js';
import { header, readableBody, readExchanges } from './http-exchanges.js';
import { TapeReader, type TapeFrame } from './reader.js';

/**
 * Which frames `tape show` lists, in the spirit of mitmproxy's filters (`~u` url, `~m`
 * method, `~c` status code, `~b` body): HTTP filters pick whole exchanges, by their request
 * and response; `kind` and `text` pick frames (for HTTP, `text` also looks into the decoded
 * bodies and picks the exchange).
 */
export interface ShowFilter {
  /** HTTP route prefix (`/openai`), or a path prefix. */
  route?: string;
  method?: string;
  /** A status code (`429`) or class (`4xx`). */
  status?: string;
  /** A frame kind, `*` as a wildcard (`http.*`, `ws.text`). */
  kind?: string;
  /** Text the frame (or an HTTP exchange's decoded bodies) contains; case-insensitive. */
  text?: string;
}

export const hasFilter = (f: ShowFilter): boolean => Boolean(f.route || f.method || f.status || f.kind || f.text);

/** A predicate over frames for these filters (reads the tape's HTTP exchanges once when an HTTP filter is given). */
export function frameFilter(path: string, f: ShowFilter): (frame: TapeFrame) => boolean {
  if (f.status && !/^[1-5](\d\d|xx)$/i.test(f.status)) throw new ToolError('E_USAGE', `--status "${f.status}" is not a status code or class`, 'e.g. --status 429 or --status 5xx');
  const kind = f.kind ? new RegExp(`^${f.kind.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`) : undefined;
  const needle = f.text?.toLowerCase();
  const httpPick = f.route || f.method || f.status || needle ? httpChannels(path, f, needle) : undefined;
  return (frame) => {
    if (kind && !kind.test(frame.kind)) return false;
    const http = frame.kind.startsWith('http.') || httpPick?.all.has(frame.channel);
    if (http && httpPick) return httpPick.picked.has(frame.channel);
    if (f.route || f.method || f.status) return false; // HTTP filters pick only HTTP exchanges
    return !needle || frame.data.toString('utf8').toLowerCase().includes(needle);
  };
}

function httpChannels(path: string, f: ShowFilter, needle: string | undefined): { all: Set<number>; picked: Set<number> } {
  const tape = TapeReader.open(path);
  try {
    const routes = new Map(tape.channels().filter((c) => c.kind === 'http').map((c) => [c.id, typeof c.info.route === 'string' ? c.info.route : '/']));
    const picked = new Set<number>();
    for (const e of readExchanges(tape, new Set(routes.keys()))) {
      const req = e.request;
      if (f.route && !(routes.get(e.channel) === f.route || req?.path.startsWith(f.route))) continue;
      if (f.method && req?.method.toUpperCase() !== f.method.toUpperCase()) continue;
      if (f.status && !statusMatches(e.response?.status, f.status)) continue;
      if (needle) {
        const texts = [
          `${req?.method} ${req?.path}`,
          ...(req?.headers ?? []).map(([k, v]) => `${k}: ${v}`),
          readableBody(req?.headers ?? [], e.requestBody).data.toString('utf8'),
          readableBody(e.response?.headers ?? [], Buffer.concat(e.chunks.map((c) => c.data))).data.toString('utf8'),
          header(e.response?.headers ?? [], 'content-type') ?? '',
        ];
        if (!texts.some((t) => t.toLowerCase().includes(needle))) continue;
      }
      picked.add(e.channel);
    }
    return { all: new Set(routes.keys()), picked };
  } finally {
    tape.close();
  }
}

const statusMatches = (status: number | undefined, want: string): boolean => status !== undefined && (/xx$/i.test(want) ? String(status)[0] === want[0] : String(status) === want);
