import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { TapeReader } from '../reader.js';
import type { HeaderPairs } from '../format.js';
import { header, readableBody, readExchanges, type RecordedExchange } from '../http-exchanges.js';

const headers = (pairs: HeaderPairs) => pairs.map(([name, value]) => ({ name, value }));
const ms = (us: number) => +(us / 1000).toFixed(3);

export interface HarOptions {
  /**
   * For Polly.js's persister: its creator name (it loads no other), and compressed response
   * bodies as its node adapter records them (a JSON array of the base64 chunks as they came,
   * still compressed) instead of decoded text, which is what its replay needs.
   */
  polly?: boolean;
}

/**
 * HAR `content` / `postData` text: the body decoded from its content codings (HAR 1.2: "HTTP
 * decoded text"; the `content-encoding` header stays, `compression` says what it saved), as
 * UTF-8 text, or base64 with `encoding` when it is not text.
 */
function content(pairs: HeaderPairs, body: Buffer, chunks?: Buffer[]): { text: string; encoding?: 'base64'; size: number } {
  const b = readableBody(pairs, body);
  if (chunks && b.codings.length) return { text: JSON.stringify(chunks.map((c) => c.toString('base64'))), encoding: 'base64', size: b.data.length };
  const text = isUtf8(b.data) && (b.decoded || !b.codings.length);
  return text ? { text: b.data.toString('utf8'), size: b.data.length } : { text: b.data.toString('base64'), encoding: 'base64', size: b.data.length };
}

/** The request's headers as the upstream got them: `Host` is the upstream's, not the recording proxy's. */
function upstreamHeaders(pairs: HeaderPairs, url: URL): HeaderPairs {
  return pairs.map(([k, v]): [string, string] => (k.toLowerCase() === 'host' ? [k, url.host] : [k, v]));
}

/** The tape's HTTP channels as a HAR 1.2 log; `_chunks` keeps the recorded chunk boundaries and timing. */
export function exportHar(path: string, o: HarOptions = {}): unknown {
  const tape = TapeReader.open(path);
  try {
    const channels = tape.channels().filter((c) => c.kind === 'http');
    const upstream = new Map(channels.map((c) => [c.id, { upstream: c.info.upstream, route: typeof c.info.route === 'string' ? c.info.route : '/' }]));
    const entries = readExchanges(tape, new Set(upstream.keys()))
      .filter((e) => e.request)
      .map((e) => entry(e, upstream.get(e.channel), o));
    // Polly.js finds an entry by `_id` (its hash of the request) and `_order` (how many came before with that id).
    const seen = new Map<string, number>();
    for (const e of entries) {
      e._order = seen.get(e._id) ?? 0;
      seen.set(e._id, e._order + 1);
    }
    // Polly's persister loads only a log whose creator is itself.
    const creator = o.polly ? { name: 'Polly.JS', version: '6.0.6', comment: `written by arcp ${tape.meta.tool_version}` } : { name: 'arcp', version: tape.meta.tool_version };
    return { log: { version: '1.2', creator, entries } };
  } finally {
    tape.close();
  }
}

/**
 * Polly.js's request id, for its default matching less headers (`matchRequestsBy: { headers:
 * false }`: the headers a client sends under Polly are not the ones that went through the
 * proxy): md5 of the stable JSON of method, body and URL (query sorted).
 */
function pollyId(method: string, url: URL, body: string | undefined): string {
  const u = new URL(url.href);
  u.hash = '';
  u.searchParams.sort();
  const ids: Record<string, string> = { method: method.toUpperCase(), url: u.href };
  if (body) ids.body = body;
  const stable = `{${Object.keys(ids).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(ids[k])}`).join(',')}}`;
  return createHash('md5').update(stable).digest('hex');
}

/** Where the request went: the route's upstream, and the path with the route's prefix taken off (as the proxy forwarded it). */
function upstreamUrl(path: string, at: { upstream?: string; route: string } | undefined): URL {
  const route = at?.route ?? '/';
  const rest = route !== '/' && (path === route || path.startsWith(route + '/') || path.startsWith(route + '?')) ? path.slice(route.length) : path;
  return new URL(`${at?.upstream ?? 'http://upstream'}${rest.startsWith('/') || rest.startsWith('?') || !rest ? rest : '/' + rest}`);
}

function entry(e: RecordedExchange, at: { upstream?: string; route: string } | undefined, o: HarOptions) {
  const req = e.request!;
  const res = e.response ?? { status: 0, headers: [] };
  const url = upstreamUrl(req.path, at);
  const resBody = Buffer.concat(e.chunks.map((c) => c.data));
  const sent = e.requestAtUs ?? 0;
  const head = e.responseAtUs ?? e.endAtUs ?? sent;
  const end = e.endAtUs ?? head;
  const body = content(res.headers, resBody, o.polly ? e.chunks.map((c) => c.data) : undefined);
  const post = e.requestBody.length ? content(req.headers, e.requestBody) : undefined;
  return {
    _id: pollyId(req.method, url, post && !post.encoding ? post.text : undefined),
    _order: 0,
    startedDateTime: new Date(e.startedMs).toISOString(),
    time: ms(end - sent),
    request: {
      method: req.method,
      url: url.href,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headers(upstreamHeaders(req.headers, url)),
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      ...(post ? { postData: { mimeType: header(req.headers, 'content-type') ?? '', text: post.text, ...(post.encoding ? { encoding: post.encoding } : {}) } } : {}),
      headersSize: -1,
      bodySize: e.requestBody.length,
    },
    response: {
      status: res.status,
      statusText: '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headers(res.headers),
      content: { size: body.size, ...(resBody.length !== body.size ? { compression: body.size - resBody.length } : {}), mimeType: header(res.headers, 'content-type') ?? '', text: body.text, ...(body.encoding ? { encoding: body.encoding } : {}) },
      redirectURL: header(res.headers, 'location') ?? '',
      headersSize: -1,
      bodySize: resBody.length,
    },
    cache: {},
    timings: { send: 0, wait: ms(head - sent), receive: ms(end - head) },
    _chunks: e.chunks.map((c) => ({ ms: ms(c.monoUs - head), size: c.data.length })),
  };
}
