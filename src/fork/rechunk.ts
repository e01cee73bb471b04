/** One body chunk as it arrived: its bytes and when (µs since the recording started). */
export interface Chunk {
  data: Buffer;
  mono_us: number;
}

/** Cuts `body` at `cuts` (byte offsets, made strictly increasing inside it), giving each piece the time of the chunk it stands for. */
function cutAt(body: Buffer, cuts: number[], times: number[]): Chunk[] {
  const out: Chunk[] = [];
  let from = 0;
  cuts.forEach((c, i) => {
    const at = Math.min(Math.max(Math.round(c), from), body.length);
    if (at > from) {
      out.push({ data: body.subarray(from, at), mono_us: times[i] });
      from = at;
    }
  });
  if (from < body.length || !out.length) out.push({ data: body.subarray(from), mono_us: times[Math.min(cuts.length, times.length - 1)] });
  return out;
}

const boundaries = (chunks: Chunk[]): number[] => {
  const out: number[] = [];
  let at = 0;
  for (const c of chunks.slice(0, -1)) out.push((at += c.data.length));
  return out;
};

/**
 * A new body cut like a recorded one: each recorded chunk boundary moves to the same relative
 * place in the new body, and each piece keeps its chunk's arrival time.
 */
export function rechunkBytes(original: Chunk[], body: Buffer): Chunk[] {
  const total = original.reduce((n, c) => n + c.data.length, 0) || 1;
  return cutAt(body, boundaries(original).map((b) => (b / total) * body.length), original.map((c) => c.mono_us));
}

/**
 * A re-rendered SSE body cut like the recorded one: a boundary that fell a fraction `f` into
 * event `i` falls the same fraction into the corresponding new event (event `i` when the count
 * is unchanged, the same relative event otherwise), so writes that held whole events still do,
 * writes that ended mid-event still do, and every chunk keeps its recorded time.
 */
export function rechunkSse(original: Chunk[], events: { start: number; end: number }[], next: Buffer[]): Chunk[] {
  const body = Buffer.concat(next);
  if (!events.length) return rechunkBytes(original, body);
  const starts: number[] = [];
  next.reduce((at, e) => (starts.push(at), at + e.length), 0);
  const cuts = boundaries(original).map((b) => {
    let i = events.findIndex((e) => b < e.end);
    if (i < 0) return body.length;
    const e = events[i];
    let f = Math.max(0, b - e.start) / (e.end - e.start);
    if (events.length !== next.length) {
      const p = ((i + f) / events.length) * next.length;
      i = Math.min(next.length - 1, Math.floor(p));
      f = p - i;
    }
    return starts[i] + f * next[i].length;
  });
  return cutAt(body, cuts, original.map((c) => c.mono_us));
}
