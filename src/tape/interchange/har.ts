import { isUtf8 } from 'node:buffer';
import { TapeReader } from '../reader.js';
import type { HeaderPairs } from '../format.js';
import { header, readableBody, readExchanges, type RecordedExchange } from '../http-exchanges.js';

const headers = (pairs: HeaderPairs) => pairs.map(([name, value]) => ({ name, value }));
const ms = (us: number) => +(us / 1000).toFixed(3);

/**
 * HAR `content` / `postData` text: the body decoded from its content codings (HAR holds what
 * a browser shows), as UTF-8 text, or base64 with `encoding` when it is not text.
 */
function content(pairs: HeaderPairs, body: Buffer): { text: string; encoding?: 'base64'; size: number } {
  const b = readableBody(pairs, body);
  const text = isUtf8(b.data) && (b.decoded || !b.codings.length);
  return text ? { text: b.data.toString('utf8'), size: b.data.length } : { text: b.data.toString('base64'), encoding: 'base64', size: b.data.length };
}

/** The request's headers as the upstream got them: `Host` is the upstream's, not the recording proxy's. */
function upstreamHeaders(pairs: HeaderPairs, url: URL): HeaderPairs {
  return pairs.map(([k, v]): [string, string] => (k.toLowerCase() === 'host' ? [k, url.host] : [k, v]));
}

/** The tape's HTTP channels as a HAR 1.2 log; `_chunks` keeps the recorded chunk boundaries and timing. */
export function exportHar(path: string): unknown {
  const tape = TapeReader.open(path);
  try {
    const channels = tape.channels().filter((c) => c.kind === 'http');
    const upstream = new Map(channels.map((c) => [c.id, c.info.upstream]));
    const entries = readExchanges(tape, new Set(upstream.keys()))
      .filter((e) => e.request)
      .map((e) => entry(e, upstream.get(e.channel)));
    return { log: { version: '1.2', creator: { name: 'arcp', version: tape.meta.tool_version }, entries } };
  } finally {
    tape.close();
  }
}

function entry(e: RecordedExchange, upstream: string | undefined) {
  const req = e.request!;
  const res = e.response ?? { status: 0, headers: [] };
  const url = new URL(`${upstream ?? 'http://upstream'}${req.path}`);
  const resBody = Buffer.concat(e.chunks.map((c) => c.data));
  const sent = e.requestAtUs ?? 0;
  const head = e.responseAtUs ?? e.endAtUs ?? sent;
  const end = e.endAtUs ?? head;
  const body = content(res.headers, resBody);
  const post = e.requestBody.length ? content(req.headers, e.requestBody) : undefined;
  return {
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
