import { decode } from '../engine/codec.js';
import { ToolError } from '../errors.js';
import { Fingerprint } from '../tape/fingerprint.js';
import { chunksOf, FLAG, isMessageKind, RequestHead, ResponseHead, TransportEvent } from '../tape/format.js';
import { TapeReader, type TapeFrame } from '../tape/reader.js';
import type { FrameRef } from './schema.js';

/** One ARCP message of the tape, as records read it: where it is, what it says. */
export interface Msg {
  seq: number;
  sha256: string;
  channel: number;
  dir: 'c2s' | 's2c';
  /** Wall-clock ms the recorder saw it. */
  wall: number;
  type: string;
  env: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** Where it departs from the v1.1 draft in a form the tool accepts (v1.0 forms, a full traceparent). */
  notes: string[];
  /** Why its payload does not validate, when it does not (the message is still an envelope). */
  invalid?: string;
}

/** One HTTP exchange (a tape channel), gathered with the frames each part came from. */
export interface HttpExchange {
  channel: number;
  route?: string;
  firstWall: number;
  lastWall: number;
  lastRef: FrameRef;
  request?: RequestHead;
  requestRef?: FrameRef;
  requestBody: Buffer[];
  requestBodyRefs: FrameRef[];
  response?: ResponseHead;
  responseRef?: FrameRef;
  responseBody: Buffer[];
  responseBodyRefs: FrameRef[];
  sse: boolean;
  end?: { kind: 'close' | 'error'; event: TransportEvent; ref: FrameRef };
}

export interface WalkSink {
  message(m: Msg): void;
  exchange(e: HttpExchange): void;
}

export interface WalkedTape {
  fingerprint: string;
  frames: number;
  sealed: boolean;
}

export const refOf = (f: { seq: number; sha256: string }, pointer?: string): FrameRef => (pointer === undefined ? { seq: f.seq, sha256: f.sha256 } : { seq: f.seq, sha256: f.sha256, pointer });

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Reads a tape once, in seq order: every ARCP message to `sink.message`, every HTTP exchange
 * to `sink.exchange` when it ends (or at the end of the tape), and the fingerprint over every
 * frame as it goes. The reader checks each frame's bytes against its sha256, so what records
 * are derived from is what was recorded.
 */
export function walkTape(path: string, sink: WalkSink): WalkedTape {
  const tape = TapeReader.open(path);
  try {
    const http = new Map(tape.channels().filter((c) => c.kind === 'http').map((c) => [c.id, typeof c.info.route === 'string' ? c.info.route : undefined]));
    const open = new Map<number, HttpExchange>();
    const fp = new Fingerprint();
    for (const f of tape.frames()) {
      fp.add(f.channel, f.dir, f.kind, f.hash);
      if (http.has(f.channel)) {
        const e = httpFrame(open, http.get(f.channel), f);
        if (e?.end) {
          open.delete(e.channel);
          sink.exchange(e);
        }
      } else if (isMessageKind(f.kind) && f.dir !== 'meta') {
        const m = message(f);
        if (m) sink.message(m);
      }
    }
    for (const e of open.values()) sink.exchange(e);
    const fingerprint = fp.digest();
    const sealed = tape.meta.ended_at !== undefined && !tape.live;
    if (tape.meta.fingerprint && tape.meta.fingerprint !== fingerprint) {
      throw new ToolError('E_TAPE_CORRUPT', `${path}: its frames give fingerprint ${fingerprint}, but the tape was sealed with ${tape.meta.fingerprint}`, '`arcp tape verify` lists what is wrong; records are derived only from an intact tape');
    }
    return { fingerprint, frames: fp.count, sealed };
  } finally {
    tape.close();
  }
}

function message(f: TapeFrame): Msg | undefined {
  if (f.data[0] !== 0x7b) return undefined; // not a JSON object: nothing a record can cite
  const d = decode(f.data);
  const env = d.ok ? (d.message as Record<string, unknown>) : (d.envelope as Record<string, unknown> | undefined);
  if (!env || typeof env.type !== 'string') return undefined;
  return {
    seq: f.seq,
    sha256: f.hash,
    channel: f.channel,
    dir: f.dir as 'c2s' | 's2c',
    wall: f.wall_ms,
    type: env.type,
    env,
    payload: obj(env.payload),
    notes: d.ok ? d.notes : [],
    invalid: d.ok ? undefined : d.error.message,
  };
}

function httpFrame(open: Map<number, HttpExchange>, route: string | undefined, f: TapeFrame): HttpExchange | undefined {
  const ref = refOf({ seq: f.seq, sha256: f.hash });
  let e = open.get(f.channel);
  if (!e) open.set(f.channel, (e = { channel: f.channel, route, firstWall: f.wall_ms, lastWall: f.wall_ms, lastRef: ref, requestBody: [], requestBodyRefs: [], responseBody: [], responseBodyRefs: [], sse: false }));
  e.lastWall = f.wall_ms;
  e.lastRef = ref;
  const json = (): unknown => JSON.parse(f.data.toString('utf8'));
  try {
    switch (f.kind) {
      case 'http.request':
        e.request = RequestHead.parse(json());
        e.requestRef = ref;
        break;
      case 'http.request.body':
        e.requestBody.push(f.data);
        e.requestBodyRefs.push(ref);
        break;
      case 'http.response':
        e.response = ResponseHead.parse(json());
        e.responseRef = ref;
        break;
      case 'http.response.body':
        for (const c of chunksOf(f)) e.responseBody.push(c.data);
        e.responseBodyRefs.push(ref);
        if (f.flags & FLAG.sse) e.sse = true;
        break;
      case 'transport.close':
      case 'transport.error':
        e.end = { kind: f.kind === 'transport.close' ? 'close' : 'error', event: TransportEvent.parse(json()), ref };
        break;
    }
  } catch {
    // A head or event that does not parse leaves that part unknown: the exchange is still a record.
  }
  return e;
}
