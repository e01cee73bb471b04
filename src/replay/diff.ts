import { describeFrame } from '../tape/inspect.js';
import { isBodyKind, RequestHead, ResponseHead } from '../tape/format.js';
import { TapeReader, type TapeFrame } from '../tape/reader.js';
import { compareFrames, compareValues, type Comparison } from './compare.js';
import { IdMap } from './ids.js';
import { specMismatch } from '../tape/spec-pin.js';
import { Outcome } from './outcome.js';
import { clip, type ReplayReport } from './report.js';
import { ChannelScript } from './script.js';
import { Volatility, type VolatileRules } from './volatile.js';

export interface DiffOptions {
  volatile?: VolatileRules;
  keepGoing?: boolean;
}

/** What is compared of each frame kind: messages and bodies whole; HTTP heads by their line (headers vary by nature). */
function compareFrame(a: TapeFrame, b: TapeFrame, vol: Volatility, ids: IdMap): Comparison {
  if (a.kind !== b.kind) return { ok: false, how: 'different', fields: [{ pointer: '(kind)', expected: a.kind, actual: b.kind, rule: 'exact', tolerated: false }] };
  if (a.kind === 'http.request' || a.kind === 'http.response') {
    const line = (f: TapeFrame) => {
      const v = JSON.parse(f.data.toString());
      return a.kind === 'http.request' ? { method: RequestHead.parse(v).method, path: RequestHead.parse(v).path } : { status: ResponseHead.parse(v).status };
    };
    const fields = compareValues(line(a), line(b), vol, ids);
    return { ok: fields.every((f) => f.tolerated), how: 'structural', fields };
  }
  return compareFrames(a.data, b.data, vol, ids);
}

const judged = (f: TapeFrame) => f.dir !== 'meta';

/**
 * The next frame worth comparing. An HTTP body's rows are the writer's batches (how its chunks
 * happened to fall into 50 ms windows), not a property of the exchange: consecutive body rows
 * come back as one frame holding the whole body, so two recordings of the same bytes compare equal.
 */
function nextJudged(s: ChannelScript): TapeFrame | undefined {
  while (s.peek() && !judged(s.peek()!)) s.next();
  const f = s.next();
  if (!f || !isBodyKind(f.kind)) return f;
  const parts = [f.data];
  for (let n = s.peek(); n && n.kind === f.kind && n.dir === f.dir; n = s.peek()) parts.push(s.next()!.data);
  return parts.length === 1 ? f : { ...f, data: Buffer.concat(parts), size: parts.reduce((k, p) => k + p.length, 0) };
}

/**
 * `arcp diff A B`: the first divergence between two recordings, by the same rules as replay:
 * channels paired in order, frames compared in order, identifiers of A mapped to B's.
 */
export function diffTapes(a: string, b: string, o: DiffOptions = {}): ReplayReport {
  const vol = new Volatility(o.volatile);
  const ids = new IdMap();
  const outcome = new Outcome(a, 'diff', ids);
  const ra = TapeReader.open(a);
  const rb = TapeReader.open(b);
  const [ca, cb] = [ra.channels(), rb.channels()];
  const fpB = rb.meta.fingerprint ?? '';
  const pin = specMismatch(b, rb.meta.spec_sha256);
  if (pin) outcome.note(pin);
  ra.close();
  rb.close();
  const played: ChannelScript[] = [];
  for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
    if (!ca[i] || !cb[i]) {
      outcome.divergences.push({ reason: ca[i] ? 'missing' : 'extra', channel: ca[i]?.id ?? cb[i].id, seq: 0, dir: 'meta', message: ca[i] ? `${b} has no channel ${i + 1} (${ca[i].label})` : `${b} has a channel ${a} does not: ${cb[i].label}`, fields: [], context: [] });
      if (!o.keepGoing) break;
      continue;
    }
    const sa = new ChannelScript(a, ca[i]);
    const sb = new ChannelScript(b, cb[i]);
    try {
      for (;;) {
        const fa = nextJudged(sa);
        const fb = nextJudged(sb);
        if (!fa && !fb) break;
        if (!fa || !fb) {
          const f = (fa ?? fb)!;
          outcome.divergences.push({ reason: fa ? 'missing' : 'extra', channel: ca[i].id, seq: fa?.seq ?? 0, dir: f.dir, message: fa ? `${b} ends; ${a} goes on with ${describeFrame(fa)}` : `${b} goes on with ${describeFrame(fb!)}; ${a} has ended`, expected: fa && clip(fa.data), actual: fb && clip(fb.data), fields: [], context: fa ? sa.context(fa.seq) : [] });
          break;
        }
        const cmp = compareFrame(fa, fb, vol, ids);
        if (!cmp.ok || fa.dir !== fb.dir) {
          outcome.divergences.push({ reason: 'mismatch', channel: ca[i].id, seq: fa.seq, dir: fa.dir, message: fa.dir !== fb.dir ? `${a} has ${describeFrame(fa)} ${fa.dir}, ${b} has ${describeFrame(fb)} ${fb.dir}` : (cmp.note ?? `${describeFrame(fa)} differs`), expected: clip(fa.data), actual: clip(fb.data), fields: cmp.fields, context: sa.context(fa.seq) });
          if (!o.keepGoing) break;
        }
      }
      played.push(sa);
    } finally {
      sa.close();
      sb.close();
    }
    if (outcome.divergences.length && !o.keepGoing) break;
  }
  const report = outcome.report(played);
  return { ...report, replayFingerprint: fpB };
}
