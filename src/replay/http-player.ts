import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardable as forwardableHeaders, headerPairs, listen } from '../net/http.js';
import type { HttpRoute } from '../record/http-exchange.js';
import type { ChannelRow, HeaderPairs, RequestHead } from '../tape/format.js';
import { readableBody, readExchanges } from '../tape/http-exchanges.js';
import { TapeReader } from '../tape/reader.js';
import { compareValues, type FieldDiff } from './compare.js';
import { sleep } from './frames.js';
import { answerStatus, beforeChunk, HttpFaults, resetAfter, type HttpFault } from './http-faults.js';
import { HttpMatcher, type MatchKey, type MatchRequest, type RouteMatch } from './http-match.js';
import { LiveForwarder } from './http-live.js';
import { IdMap } from './ids.js';
import type { Divergence } from './report.js';
import type { Volatility } from './volatile.js';

export interface Exchange {
  channel: number;
  seqs: number[];
  /** The route prefix it was recorded under. */
  route?: string;
  request: RequestHead;
  /** The request body decoded from its content codings. */
  body: Buffer;
  key: MatchKey;
  status: number;
  headers: [string, string][];
  chunks: { data: Buffer; mono: number }[];
  /** What the recorded client got beyond these bytes, when the tape marks it: a cut connection, or nothing (it gave up). */
  client?: 'reset' | 'gone';
  served: boolean;
}

/**
 * How a request the tape does not answer is handled (the modes of VCR, Polly and mitmproxy):
 * `replay` answers 502 and reports a divergence; `record-if-missing` forwards it to the
 * upstream and appends the exchange to the tape (VCR new_episodes, Polly recordIfMissing);
 * `update` forwards every request and replaces the recorded exchanges it matched;
 * `passthrough` forwards unmatched requests without recording them (mitmproxy
 * server_replay_extra forward, WireMock proxy fallback).
 */
export const HTTP_MODES = ['replay', 'record-if-missing', 'update', 'passthrough'] as const;
export type HttpMode = (typeof HTTP_MODES)[number];

/** What a user chooses for the HTTP side of a replay. */
export interface HttpServeOptions {
  host?: string;
  port?: number;
  mode?: HttpMode;
  /** Recorded exchanges may answer again once used (mitmproxy server_replay_reuse, VCR allow_playback_repeats). */
  reuse?: boolean;
  /** Every recorded exchange must have been requested by the end (VCR all_played): unplayed ones are divergences. */
  allPlayed?: boolean;
  /** Matching rules per route (what is compared; what is stored is untouched). */
  match?: RouteMatch[];
  /** Where forwarded requests go, by route prefix; by default each recorded route's own upstream. */
  upstreams?: HttpRoute[];
  /** Fault injection per exchange (see http-faults). */
  faults?: HttpFault[];
  /** Serve until stopped even once every exchange has been played (a command under test is running). */
  keepServing?: boolean;
}

export interface HttpPlayerOptions extends HttpServeOptions {
  tape: string;
  vol: Volatility;
  pace: 'fast' | 'recorded';
  speed: number;
  onDivergence(d: Divergence): void;
  /** Things done that are not divergences (a recorded cut reproduced, a request forwarded). */
  note?: (line: string) => void;
  /** Called when every recorded exchange has been served. */
  onAllServed(): void;
}

/** Reads the tape's HTTP exchanges into memory (bodies included), each with its match key. */
export function loadExchanges(path: string, channels: ChannelRow[], matcher: HttpMatcher): Exchange[] {
  const routes = new Map(channels.map((c) => [c.id, typeof c.info.route === 'string' ? c.info.route : undefined]));
  const tape = TapeReader.open(path);
  try {
    return readExchanges(tape, new Set(routes.keys())).map((r) => {
      const request = r.request ?? { method: 'GET', path: '/', headers: [] };
      const body = readableBody(request.headers, r.requestBody).data;
      const route = routes.get(r.channel);
      return {
        channel: r.channel,
        seqs: r.seqs,
        route,
        request,
        body,
        key: matcher.key({ method: request.method, path: request.path, headers: request.headers, body }, route),
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

const clientSaw = (v: unknown): Exchange['client'] => (v === 'reset' || v === 'gone' ? v : undefined);

/**
 * Serves recorded HTTP exchanges offline, as the recording proxy did: matched by the route's
 * rules (method, path and canonical body by default), repeats taken in recorded order; response
 * bytes, chunk boundaries and endings as recorded. What happens to a request the tape does not
 * answer depends on the mode; in `replay` (the default) nothing is ever forwarded.
 */
export async function startHttpPlayer(exchanges: Exchange[], matcher: HttpMatcher, o: HttpPlayerOptions) {
  const served: number[] = [];
  const mode = o.mode ?? 'replay';
  const faults = new HttpFaults(o.faults ?? [], exchanges, o.note);
  const live = mode === 'replay' ? undefined : await LiveForwarder.start(o.tape, exchanges, mode, o.upstreams ?? []);
  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const headers = headerPairs(req.rawHeaders);
    const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: readableBody(headers, raw).data };
    const fits = (x: Exchange) => matcher.matches(x.key, request);
    const e = exchanges.find((x) => !x.served && fits(x)) ?? (o.reuse ? [...exchanges].reverse().find((x) => x.served && fits(x)) : undefined);
    if (live && (mode === 'update' || !e)) {
      if (e) e.served = true;
      live.forward(req, res, raw, e);
      return;
    }
    if (!e) return unmatched(request, res);
    const injected = faults.take(e);
    const status = injected.find((f) => f.kind === 'status');
    // A fault that breaks the response leaves the exchange unplayed: the client's retry gets it.
    if (status) return answerStatus(res, status.value!);
    if (e.served) o.note?.(`HTTP channel ${e.channel} served again (--http-reuse)`);
    e.served = true;
    if (!(await serve(e, res, injected))) {
      e.served = false;
      return;
    }
    served.push(...e.seqs);
    if (!o.keepServing && mode === 'replay' && exchanges.every((x) => x.served)) o.onAllServed();
  }

  function unmatched(r: MatchRequest, res: ServerResponse): void {
    // A repeat of a request the tape answered once: say so, rather than name that same request as the closest.
    const used = exchanges.find((x) => x.served && matcher.matches(x.key, r));
    const closest = used ? undefined : closestTo(exchanges, r.method, r.path, r.body, o.vol);
    const message = used
      ? `the recorded exchange for ${r.method} ${r.path} (channel ${used.channel}) was already used, and the recording has no second one (--http-reuse serves recorded exchanges again; --http-mode record-if-missing records new ones)`
      : `no recorded exchange matches ${r.method} ${r.path}${closest ? `; closest is ${closest.request}` : ''}`;
    o.onDivergence({ reason: 'unmatched-request', channel: used?.channel ?? closest?.channel ?? 0, seq: 0, dir: 'c2s', message, actual: `${r.method} ${r.path} ${r.body.toString('utf8').slice(0, 600)}`, fields: closest?.fields ?? [], context: [], closest });
    const err = JSON.stringify({ error: { type: 'arcp_replay_divergence', message } });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(err) }).end(err);
  }

  /** Plays one exchange; false when an injected reset cut it short. */
  async function serve(e: Exchange, res: ServerResponse, injected: HttpFault[]): Promise<boolean> {
    if (e.status) res.writeHead(e.status, forwardableHeaders(e.headers));
    const cutAt = resetAfter(injected);
    const cut = cutAt === undefined ? (e.client === 'reset' ? e.chunks.length : undefined) : Math.min(cutAt, e.chunks.length);
    let last = e.chunks[0]?.mono;
    let owed = 0;
    for (const [i, c] of e.chunks.slice(0, cut).entries()) {
      if (o.pace === 'recorded' && last !== undefined) owed += Math.max(0, c.mono - last) / 1000 / o.speed;
      last = c.mono;
      if (owed >= 1) {
        const whole = Math.floor(owed);
        await sleep(whole);
        owed -= whole;
      }
      await beforeChunk(injected, res, i);
      // Before a cut, the bytes must have gone out: the last write before it is waited for.
      if (i + 1 === cut) await new Promise<void>((r) => res.write(c.data, () => r()));
      else if (!res.write(c.data)) await new Promise((r) => res.once('drain', r));
    }
    if (cutAt !== undefined) {
      if (e.status && cut === 0) res.flushHeaders();
      res.destroy();
      return false;
    }
    if (e.client) o.note?.(e.client === 'reset' ? `HTTP channel ${e.channel}: the recorded client's connection was cut after ${e.chunks.length} chunk(s); cut the same way` : `HTTP channel ${e.channel}: the recorded client gave up waiting; nothing more was sent until this one did`);
    await finish(e, res);
    return true;
  }

  const authority = await listen(server, o.host ?? '127.0.0.1', o.port ?? 0);
  return {
    url: `http://${authority}`,
    served,
    /** Stops serving; unplayed exchanges become notes, or divergences with `allPlayed`. */
    close: async () => {
      await new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));
      faults.unfired();
      const unplayed = exchanges.filter((x) => !x.served);
      if (unplayed.length && (o.allPlayed || mode !== 'replay' || o.keepServing)) {
        for (const x of unplayed) {
          const message = `the recorded exchange ${x.request.method} ${x.request.path} (channel ${x.channel}) was never requested`;
          if (o.allPlayed) o.onDivergence({ reason: 'missing', channel: x.channel, seq: x.seqs[0] ?? 0, dir: 'c2s', message, fields: [], context: [] });
          else o.note?.(message);
        }
      }
      await live?.stop();
    },
    /** After the report: writes what the record modes recorded into the tape. Returns lines for the report's notes. */
    commit: async (): Promise<string[]> => (live ? live.commit() : []),
  };
}

/** Ends the response as the recorded client saw it end: complete, cut (a reset), or never (it gave up first). */
async function finish(e: Exchange, res: ServerResponse): Promise<void> {
  if (!e.client) return void res.end();
  if (e.status && !e.chunks.length) res.flushHeaders();
  if (e.client === 'reset') return void res.destroy();
  if (!res.destroyed) await new Promise((r) => res.once('close', r));
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
