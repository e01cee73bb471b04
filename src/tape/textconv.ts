import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { codingsOf, decodeBody } from './body-encoding.js';
import { flagNames, isBodyKind, isHeadKind, redactionCounts, type HeaderPairs } from './format.js';
import { TapeReader, type TapeFrame } from './reader.js';

/**
 * A tape as text for `git diff` (`arcp tape show --textconv`, a git `textconv` driver): the
 * header, the channels, then each frame with what it holds, one readable block each. Times,
 * blob ids and file layout are left out, as the fingerprint leaves them out, so a re-recording
 * that changed nothing but timing diffs as nothing; compressed HTTP bodies are shown decoded.
 */
export function* textconvLines(path: string): Generator<string> {
  const tape = TapeReader.open(path);
  try {
    const m = tape.meta;
    const r = redactionCounts(m.redaction);
    yield `arcp tape format ${m.format_version}, ARCP ${m.spec_version}`;
    yield `command: ${m.command_line.join(' ')}`;
    yield `redaction: ${m.redaction.enabled ? `on (${r.pointers} pointers, ${r.headers} headers, ${r.regexes} patterns, ${r.query} query parameters)` : 'off'}`;
    yield `fingerprint: ${m.fingerprint ?? '(unsealed)'}`;
    for (const c of tape.channels()) yield `channel ${c.id} ${c.kind} ${c.label}`;
    /** Compressed bodies by body key: the head's codings and the rows so far (decoded when the body ends). */
    const open = new Map<number, { codings: string[]; rows: TapeFrame[] }>();
    const flushBody = function* (key: number): Generator<string> {
      const o = open.get(key);
      open.delete(key);
      if (!o?.rows.length) return;
      const whole = Buffer.concat(o.rows.map((f) => f.data));
      const d = decodeBody(whole, o.codings);
      yield `  (the ${o.rows.length} row(s) above: ${whole.length} bytes ${o.codings.join(', ')}${d ? `; decoded${d.truncated ? ', cut short' : ''}:` : ', not decodable here'})`;
      if (d) yield* indent(d.body);
    };
    for (const f of tape.frames()) {
      const key = f.kind === 'http.request' || f.kind === 'http.request.body' ? -f.channel : f.channel;
      if (!isBodyKind(f.kind)) {
        yield* flushBody(-f.channel);
        if (!isHeadKind(f.kind)) yield* flushBody(f.channel);
      }
      const flags = flagNames(f.flags);
      yield `#${f.seq} ch${f.channel} ${f.dir} ${f.kind}${flags.length ? ` [${flags.join(',')}]` : ''}`;
      const held = open.get(key);
      if (isBodyKind(f.kind) && held) {
        held.rows.push(f);
        continue;
      }
      if (isHeadKind(f.kind)) {
        const codings = codingsOf((JSON.parse(f.data.toString('utf8')) as { headers: HeaderPairs }).headers);
        if (codings.length) open.set(key, { codings, rows: [] });
      }
      yield* indent(f.data);
    }
    for (const k of [...open.keys()]) yield* flushBody(k);
  } finally {
    tape.close();
  }
}

function* indent(data: Buffer): Generator<string> {
  if (!isUtf8(data)) {
    yield `  (${data.length} bytes, binary, sha256 ${createHash('sha256').update(data).digest('hex').slice(0, 16)}…)`;
    return;
  }
  for (const line of data.toString('utf8').split('\n')) yield `  ${line}`;
}
