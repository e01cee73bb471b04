import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardable, listen } from '../record/channel.js';
import { chunksOf, RequestHead, ResponseHead, type ChannelRow } from '../tape/format.js';
import { TapeReader } from '../tape/reader.js';
import { compareValues, type FieldDiff } from './compare.js';
import { sleep } from './frames.js';
import { IdMap } from './ids.js';
import type { Divergence } from './report.js';
import type { Volatility } from './volatile.js';

interface Exchange {
  channel: number;
  seqs: number[];
  request: RequestHead;
  body: Buffer;
  key: string;
  status: number;
  headers: [string, string][];
  chunks: { data: Buffer; mono: number }[];
  served: boolean;
}

export interface HttpPlayerOptions {
  vol: Volatility;
  pace: 'fast' | 'recorded';
  speed: number;
  onDivergence(d: Divergence): void;
  /** Called when every recorded exchange has been served. */
  onAllServed(): void;
}

/** A request body for matching: JSON re-serialised with sorted keys and volatile fields removed; other bodies as text. */
export function canonicalBody(body: Buffer, vol: Volatility): string {
  if (!body.length) return '';
  const text = body.toString('utf8');
  try {
    return JSON.stringify(strip(JSON.parse(text), vol, []));
  } catch {
    return text;
  }
}

function strip(v: unknown, vol: Volatility, path: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => strip(x, vol, [...path, String(i)]));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (vol.treat([...path, k], x)) continue;
      out[k] = strip(x, vol, [...path, k]);
    }
    return out;
  }
  return v;
}

/** Reads the tape's HTTP exchanges into memory (bodies included). */
export function loadExchanges(path: string, channels: ChannelRow[], vol: Volatility): Exchange[] {
  const tape = TapeReader.open(path);
  const ids = new Set(channels.map((c) => c.id));
  const by = new Map<number, Exchange>();
  try {
    for (const f of tape.frames()) {
      if (!ids.has(f.channel)) continue;
      let e = by.get(f.channel);
      if (!e) by.set(f.channel, (e = { channel: f.channel, seqs: [], request: { method: 'GET', path: '/', headers: [] }, body: Buffer.alloc(0), key: '', status: 0, headers: [], chunks: [], served: false }));
      e.seqs.push(f.seq);
      if (f.kind === 'http.request') e.request = RequestHead.parse(JSON.parse(f.data.toString()));
      else if (f.kind === 'http.request.body') e.body = Buffer.concat([e.body, f.data]);
      else if (f.kind === 'http.response') {
        const h = ResponseHead.parse(JSON.parse(f.data.toString()));
        e.status = h.status;
        e.headers = h.headers;
      } else if (f.kind === 'http.response.body') for (const c of chunksOf(f)) e.chunks.push({ data: c.data, mono: c.mono_us });
    }
  } finally {
    tape.close();
  }
  const out = [...by.values()];
  for (const e of out) e.key = `${e.request.method} ${e.request.path} ${canonicalBody(e.body, vol)}`;
  return out;
}

/**
 * Serves recorded HTTP exchanges offline, as the recording proxy did: matched by method, path
 * and canonical body, repeats taken in recorded order; response bytes and chunk boundaries as
 * recorded. An unmatched request is a divergence answered with 502; nothing is ever forwarded.
 */
export async function startHttpPlayer(exchanges: Exchange[], host: string, port: number, o: HttpPlayerOptions) {
  const served: number[] = [];
  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const key = `${method} ${path} ${canonicalBody(body, o.vol)}`;
    const e = exchanges.find((x) => !x.served && x.key === key);
    if (!e) {
      const closest = closestTo(exchanges, method, path, body, o.vol);
      const message = `no recorded exchange matches ${method} ${path}${closest ? `; closest is ${closest.request}` : ''}`;
      o.onDivergence({ reason: 'unmatched-request', channel: closest?.channel ?? 0, seq: 0, dir: 'c2s', message, actual: `${method} ${path} ${body.toString('utf8').slice(0, 600)}`, fields: closest?.fields ?? [], context: [], closest });
      const err = JSON.stringify({ error: { type: 'arcp_replay_divergence', message } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(err) }).end(err);
      return;
    }
    e.served = true;
    res.writeHead(e.status, forwardable(e.headers));
    let last = e.chunks[0]?.mono;
    let owed = 0;
    for (const c of e.chunks) {
      if (o.pace === 'recorded' && last !== undefined) owed += Math.max(0, c.mono - last) / 1000 / o.speed;
      last = c.mono;
      if (owed >= 1) {
        const whole = Math.floor(owed);
        await sleep(whole);
        owed -= whole;
      }
      if (!res.write(c.data)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
    served.push(...e.seqs);
    if (exchanges.every((x) => x.served)) o.onAllServed();
  }
  const authority = await listen(server, host, port);
  return {
    url: `http://${authority}`,
    served,
    close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())),
  };
}

export function closestTo(exchanges: Exchange[], method: string, path: string, body: Buffer, vol: Volatility): { channel: number; request: string; fields: FieldDiff[] } | undefined {
  const pathOnly = (p: string) => p.split('?')[0];
  let best: { score: number; e: Exchange; fields: FieldDiff[] } | undefined;
  for (const e of exchanges) {
    let live: unknown = body.toString('utf8');
    let rec: unknown = e.body.toString('utf8');
    try {
      live = JSON.parse(live as string);
      rec = JSON.parse(rec as string);
    } catch {
      // compared as text
    }
    const fields = compareValues(rec, live, vol, new IdMap()).filter((f) => !f.tolerated);
    if (e.request.path !== path) fields.unshift({ pointer: '(path)', expected: e.request.path, actual: path, rule: 'exact', tolerated: false });
    const score = (e.request.method === method ? 4 : 0) + (pathOnly(e.request.path) === pathOnly(path) ? 2 : 0) + (e.request.path === path ? 1 : 0) - fields.length / 1000 + (e.served ? -0.5 : 0);
    if (!best || score > best.score) best = { score, e, fields };
  }
  return best && { channel: best.e.channel, request: `${best.e.request.method} ${best.e.request.path} (channel ${best.e.channel})`, fields: best.fields };
}
