import { TapeReader } from '../reader.js';
import { chunksOf, RequestHead, ResponseHead, type HeaderPairs } from '../format.js';

interface Exchange {
  started: number;
  request?: RequestHead;
  requestBody: Buffer[];
  response?: ResponseHead;
  responseBody: Buffer[];
  /** Chunk boundaries as recorded: ms after the request started, and size. */
  chunks: { t: number; size: number }[];
  requestAt?: number;
  responseAt?: number;
  endAt?: number;
  host?: string;
}

const header = (pairs: HeaderPairs, name: string) => pairs.find(([k]) => k.toLowerCase() === name)?.[1];
const headers = (pairs: HeaderPairs) => pairs.map(([name, value]) => ({ name, value }));

/** The tape's HTTP channels as a HAR 1.2 log; `_chunks` keeps the recorded chunk boundaries and timing. */
export function exportHar(path: string): unknown {
  const tape = TapeReader.open(path);
  try {
    const upstream = new Map(tape.channels().filter((c) => c.kind === 'http').map((c) => [c.id, c.info.upstream]));
    const ex = new Map<number, Exchange>();
    for (const f of tape.frames()) {
      if (!upstream.has(f.channel)) continue;
      const t = f.mono_us / 1000;
      let e = ex.get(f.channel);
      if (!e) ex.set(f.channel, (e = { started: f.wall_ms, requestBody: [], responseBody: [], chunks: [], host: upstream.get(f.channel) }));
      if (f.kind === 'http.request') {
        e.request = RequestHead.parse(JSON.parse(f.data.toString()));
        e.requestAt = t;
      }
      else if (f.kind === 'http.request.body') e.requestBody.push(f.data);
      else if (f.kind === 'http.response') {
        e.response = ResponseHead.parse(JSON.parse(f.data.toString()));
        e.responseAt = t;
      } else if (f.kind === 'http.response.body') {
        e.responseBody.push(f.data);
        for (const c of chunksOf(f)) e.chunks.push({ t: c.mono_us / 1000, size: c.data.length });
      }
      e.endAt = f.parts ? f.parts[f.parts.length - 1][1] / 1000 : t;
    }
    const entries = [...ex.values()].filter((e) => e.request).map((e) => {
      const req = e.request!;
      const res = e.response ?? { status: 0, headers: [] };
      const reqBody = Buffer.concat(e.requestBody);
      const resBody = Buffer.concat(e.responseBody);
      const url = `${e.host ?? 'http://upstream'}${req.path}`;
      const sent = e.requestAt ?? 0;
      const head = e.responseAt ?? e.endAt ?? sent;
      const end = e.endAt ?? head;
      return {
        startedDateTime: new Date(e.started).toISOString(),
        time: +(end - sent).toFixed(3),
        request: {
          method: req.method,
          url,
          httpVersion: 'HTTP/1.1',
          cookies: [],
          headers: headers(req.headers),
          queryString: [...new URL(url).searchParams].map(([name, value]) => ({ name, value })),
          ...(reqBody.length ? { postData: { mimeType: header(req.headers, 'content-type') ?? '', text: reqBody.toString('utf8') } } : {}),
          headersSize: -1,
          bodySize: reqBody.length,
        },
        response: {
          status: res.status,
          statusText: '',
          httpVersion: 'HTTP/1.1',
          cookies: [],
          headers: headers(res.headers),
          content: { size: resBody.length, mimeType: header(res.headers, 'content-type') ?? '', text: resBody.toString('utf8') },
          redirectURL: header(res.headers, 'location') ?? '',
          headersSize: -1,
          bodySize: resBody.length,
        },
        cache: {},
        timings: { send: 0, wait: +(head - sent).toFixed(3), receive: +(end - head).toFixed(3) },
        _chunks: e.chunks.map((c) => ({ ms: +(c.t - head).toFixed(3), size: c.size })),
      };
    });
    return { log: { version: '1.2', creator: { name: 'arcp', version: tape.meta.tool_version }, entries } };
  } finally {
    tape.close();
  }
}
