import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardable, headerPairs, listen } from '../record/channel.js';
import type { ChannelRow, HeaderPairs, RequestHead } from '../tape/format.js';
import { readableBody, readExchanges } from '../tape/http-exchanges.js';
import { TapeReader } from '../tape/reader.js';
import { PLACEHOLDER } from '../tape/redact.js';
import { compareValues, type FieldDiff } from './compare.js';
import { canonicalJson, pathOf } from './walk.js';
import { sleep } from './frames.js';
import { IdMap } from './ids.js';
import type { Divergence } from './report.js';
import type { Volatility } from './volatile.js';

interface Exchange {
  channel: number;
  seqs: number[];
  request: RequestHead;
  body: Buffer;
  /** The canonical request body (see canonicalBody). */
  canon: string;
  /** Whether a live request path is this one's: equal, or equal where the recorded one was redacted. */
  pathMatches(path: string): boolean;
  status: number;
  headers: [string, string][];
  chunks: { data: Buffer; mono: number }[];
  /** What the recorded client got beyond these bytes, when the tape marks it: a cut connection, or nothing (it gave up). */
  client?: 'reset' | 'gone';
  served: boolean;
}

export interface HttpPlayerOptions {
  vol: Volatility;
  pace: 'fast' | 'recorded';
  speed: number;
  onDivergence(d: Divergence): void;
  /** Things done that are not divergences (a recorded cut reproduced). */
  note?: (line: string) => void;
  /** Called when every recorded exchange has been served. */
  onAllServed(): void;
}

/** A request body for matching: JSON re-serialised with sorted keys and volatile fields removed; other bodies as text. */
export function canonicalBody(body: Buffer, vol: Volatility): string {
  if (!body.length) return '';
  const text = body.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return text;
  }
  // Containers below the deepest user pointer cannot be skipped: no path is built for them.
  return canonicalJson(v, (at, x) => (x === null || typeof x !== 'object' || at.depth <= vol.deepestPointer) && vol.treat(pathOf(at), x) !== undefined);
}

/** A request body as the matcher reads it: decompressed per its `content-encoding`. */
const requestBody = (headers: HeaderPairs, body: Buffer): Buffer => readableBody(headers, body).data;

/** Reads the tape's HTTP exchanges into memory (bodies included). */
export function loadExchanges(path: string, channels: ChannelRow[], vol: Volatility): Exchange[] {
  const tape = TapeReader.open(path);
  try {
    return readExchanges(tape, new Set(channels.map((c) => c.id))).map((r) => {
      const request = r.request ?? { method: 'GET', path: '/', headers: [] };
      const body = requestBody(request.headers, r.requestBody);
      return {
        channel: r.channel,
        seqs: r.seqs,
        request,
        body,
        canon: canonicalBody(body, vol),
        pathMatches: pathMatcher(request.path),
        status: r.response?.status ?? 0,
        headers: r.response ? withLength(r.response.headers, r.chunks) : [],
        chunks: r.chunks.map((c) => ({ data: c.data, mono: c.monoUs })),
        client: clientSaw(r.end?.event.client) ?? (r.response ? undefined : 'reset'),
        served: false,
      };
    });
  } finally {
    tape.close();
  }
}

const clientSaw = (v: unknown): Exchange['client'] => (v === 'reset' || v === 'gone' ? v : undefined);

/** Ends the response as the recorded client saw it end: complete, cut (a reset), or never (it gave up first). */
async function finish(e: Exchange, res: ServerResponse): Promise<void> {
  if (!e.client) return void res.end();
  if (e.status && !e.chunks.length) res.flushHeaders();
  if (e.client === 'reset') return void res.destroy();
  if (!res.destroyed) await new Promise((r) => res.once('close', r));
}

const PLACEHOLDERS = new RegExp(PLACEHOLDER.source, 'g');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A recorded path's redacted parts (`?api_key=[arcp-redacted:1]`) match whatever the live request has there. */
function pathMatcher(recorded: string): (live: string) => boolean {
  if (!PLACEHOLDER.test(recorded)) return (live) => live === recorded;
  const re = new RegExp(`^${recorded.split(PLACEHOLDERS).map(escapeRe).join('.*?')}$`, 's');
  return (live) => re.test(live);
}

/**
 * A recorded `content-length` made true of the stored body: redaction changes a body's length
 * (and a re-compressed one's bytes), and a client must get a length that fits what it is sent.
 */
function withLength(headers: HeaderPairs, chunks: { data: Buffer }[]): HeaderPairs {
  const i = headers.findIndex(([k]) => k.toLowerCase() === 'content-length');
  if (i < 0) return headers;
  const size = String(chunks.reduce((n, c) => n + c.data.length, 0));
  return headers[i][1] === size ? headers : headers.map((h, j): [string, string] => (j === i ? [h[0], size] : h));
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
    const body = requestBody(headerPairs(req.rawHeaders), Buffer.concat(chunks));
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const canon = canonicalBody(body, o.vol);
    const e = exchanges.find((x) => !x.served && x.request.method === method && x.canon === canon && x.pathMatches(path));
    if (!e) {
      const closest = closestTo(exchanges, method, path, body, o.vol);
      const message = `no recorded exchange matches ${method} ${path}${closest ? `; closest is ${closest.request}` : ''}`;
      o.onDivergence({ reason: 'unmatched-request', channel: closest?.channel ?? 0, seq: 0, dir: 'c2s', message, actual: `${method} ${path} ${body.toString('utf8').slice(0, 600)}`, fields: closest?.fields ?? [], context: [], closest });
      const err = JSON.stringify({ error: { type: 'arcp_replay_divergence', message } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(err) }).end(err);
      return;
    }
    e.served = true;
    if (e.status) res.writeHead(e.status, forwardable(e.headers));
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
      // Before a recorded cut, the bytes must have gone out: the last write is waited for.
      if (e.client === 'reset' && c === e.chunks.at(-1)) await new Promise<void>((r) => res.write(c.data, () => r()));
      else if (!res.write(c.data)) await new Promise((r) => res.once('drain', r));
    }
    if (e.client) o.note?.(e.client === 'reset' ? `HTTP channel ${e.channel}: the recorded client's connection was cut after ${e.chunks.length} chunk(s); cut the same way` : `HTTP channel ${e.channel}: the recorded client gave up waiting; nothing more was sent until this one did`);
    await finish(e, res);
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
