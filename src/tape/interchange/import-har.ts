import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { ToolError } from '../../errors.js';
import { codingsOf, proportionalSizes } from '../body-encoding.js';
import type { HeaderPairs, RedactionRules } from '../format.js';
import { defaultRules } from '../redact.js';
import { TapeWriter, type TapeSummary } from '../writer.js';

const Header = z.object({ name: z.string(), value: z.string() });
const Entry = z.looseObject({
  startedDateTime: z.string(),
  time: z.number().optional(),
  request: z.looseObject({ method: z.string(), url: z.string(), headers: z.array(Header), postData: z.looseObject({ text: z.string().optional(), encoding: z.string().optional() }).optional() }),
  response: z.looseObject({ status: z.number().int(), headers: z.array(Header), content: z.looseObject({ text: z.string().optional(), encoding: z.string().optional() }) }),
  timings: z.looseObject({ wait: z.number().optional() }).optional(),
  /** arcp's own: the recorded chunk boundaries, ms after the response head. */
  _chunks: z.array(z.object({ ms: z.number(), size: z.number().int().nonnegative() })).optional(),
});
const Har = z.object({ log: z.looseObject({ entries: z.array(Entry) }) });
type Entry = z.infer<typeof Entry>;

export interface HarImportOptions {
  source: string;
  tape: string;
  force?: boolean;
  redaction?: RedactionRules;
  commandLine?: string[];
}

/**
 * A HAR (from a browser's dev tools, mitmproxy, Polly.js, or `arcp tape export --har`) as a
 * replayable tape: an HTTP channel per entry, route `/`, the upstream its URL's origin, times
 * from `startedDateTime` and `timings.wait`, chunk boundaries from arcp's `_chunks`. HAR holds
 * decoded bodies, so a body decoded there is stored without its `content-encoding` (it would
 * lie about the bytes); Polly's compressed chunk arrays are stored as the compressed bytes.
 * Secrets are redacted as when recording.
 */
export async function importHar(o: HarImportOptions): Promise<TapeSummary & { entries: number }> {
  const har = readHar(o.source);
  const entries = [...har.log.entries].sort((a, b) => Date.parse(a.startedDateTime) - Date.parse(b.startedDateTime));
  if (!entries.length) throw new ToolError('E_INPUT', `${o.source} holds no HAR entries`, 'export one with the browser dev tools ("Save all as HAR"), or mitmproxy');
  const t0 = Date.parse(entries[0].startedDateTime);
  const w = await TapeWriter.create({ path: o.tape, force: o.force, commandLine: o.commandLine ?? ['arcp', 'tape', 'import', '--har', o.source], redaction: o.redaction ?? defaultRules(), startedAt: new Date(t0) });
  try {
    for (const [i, e] of entries.entries()) writeEntry(w, e, t0, i);
  } catch (e) {
    await w.close().catch(() => undefined);
    throw e;
  }
  return { ...(await w.close()), entries: entries.length };
}

function readHar(source: string): z.infer<typeof Har> {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ToolError('E_INPUT', `${basename(source)} is not JSON: ${(e as Error).message}`, 'a HAR file is one JSON document ({"log":{"entries":[…]}})');
  }
  const r = Har.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ToolError('E_INPUT', `${basename(source)} is not a HAR log: ${i.path.join('.') || 'document'}: ${i.message}`, 'expected HAR 1.2 ({"log":{"entries":[{request, response, …}]}})');
  }
  return r.data;
}

const pairs = (h: { name: string; value: string }[]): HeaderPairs => h.map((x) => [x.name, x.value]);

function writeEntry(w: TapeWriter, e: Entry, t0: number, i: number): void {
  let url: URL;
  try {
    url = new URL(e.request.url);
  } catch {
    throw new ToolError('E_INPUT', `HAR entry ${i + 1}: request.url "${e.request.url}" is not an absolute URL`, 'each entry needs the full URL it was sent to');
  }
  const path = url.pathname + url.search;
  const wall = Date.parse(e.startedDateTime);
  const startUs = Math.round((wall - t0) * 1000);
  const headUs = startUs + Math.round(Math.max(0, e.timings?.wait ?? 0) * 1000);
  const endUs = Math.max(headUs, startUs + Math.round(Math.max(0, e.time ?? 0) * 1000));
  const at = (us: number, part?: 'first' | 'next') => ({ monoUs: us, wallMs: Math.round(t0 + us / 1000), part });
  const ch = w.channel('http', `${e.request.method} ${path}`.slice(0, 200), { url: path, upstream: url.origin, route: '/' });
  w.event(ch, 'c2s', 'http.request', { method: e.request.method, path, headers: pairs(e.request.headers), upstream: url.origin }, at(startUs));
  const post = e.request.postData?.text;
  if (post) w.frame(ch, 'c2s', 'http.request.body', Buffer.from(post, e.request.postData?.encoding === 'base64' ? 'base64' : 'utf8'), at(startUs, 'first'));
  if (e.response.status === 0) {
    // The browser got no response (blocked, failed): the client saw its connection fail.
    w.event(ch, 'meta', 'transport.error', { error: 'no response in the HAR (status 0)', client: 'reset' }, at(endUs));
    return;
  }
  const { headers, body } = responseBody(pairs(e.response.headers), e.response.content);
  w.event(ch, 's2c', 'http.response', { status: e.response.status, headers }, at(headUs));
  if (body.length) {
    const chunks = e._chunks?.length ? e._chunks : [{ ms: 0, size: body.length }];
    const sizes = proportionalSizes(chunks.map((c) => c.size), body.length);
    let off = 0;
    sizes.forEach((n, k) => w.frame(ch, 's2c', 'http.response.body', body.subarray(off, (off += n)), at(headUs + Math.round(Math.max(0, chunks[k].ms) * 1000), k === 0 ? 'first' : 'next')));
  }
  w.event(ch, 'meta', 'transport.close', {}, at(endUs));
}

/** The bytes to store and the headers that describe them truly. */
function responseBody(headers: HeaderPairs, c: { text?: string; encoding?: string }): { headers: HeaderPairs; body: Buffer } {
  const text = c.text ?? '';
  const base64 = c.encoding === 'base64';
  if (codingsOf(headers).length && base64 && text.startsWith('[')) {
    // Polly.js's form for a compressed body: the compressed chunks, base64 each.
    try {
      const parts = JSON.parse(text) as string[];
      return { headers, body: Buffer.concat(parts.map((p) => Buffer.from(p, 'base64'))) };
    } catch {
      // not that form after all: an ordinary base64 body
    }
  }
  const body = Buffer.from(text, base64 ? 'base64' : 'utf8');
  if (!codingsOf(headers).length) return { headers, body };
  const kept = headers.filter(([k]) => k.toLowerCase() !== 'content-encoding').map(([k, v]): [string, string] => (k.toLowerCase() === 'content-length' ? [k, String(body.length)] : [k, v]));
  return { headers: kept, body };
}
