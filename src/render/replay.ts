import type { ChalkInstance } from 'chalk';
import type { Divergence, ReplayReport } from '../replay/report.js';

const show = (v: unknown, max = 48): string => {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
};
/** A pointer as a table cell: a deep one keeps its start and end ("/a/a/…(100000 levels)…/a"). */
const pointerCell = (p: string): string => {
  if (p.length <= 64) return p || '(root)';
  const levels = p.split('/').length - 1;
  return `${p.slice(0, 24)}…(${levels} levels)…${p.slice(-16)}`;
};
const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));
const ARROW: Record<string, string> = { c2s: 'client → runtime', s2c: 'runtime → client', meta: 'transport' };

/** How a report names its two sides: a replay's recording and live run, or `arcp diff`'s two tapes. */
export interface Sides {
  a: string;
  b: string;
}
const labels = (s?: Sides) => (s ? { exp: `tape a`, act: `tape b`, around: `frames of ${s.a} around it:`, closest: `closest request in ${s.a}` } : { exp: 'expected (recorded)', act: 'actual (live)', around: 'recorded frames around it:', closest: 'closest recorded request' });

export function divergenceLines(d: Divergence, c: ChalkInstance, sides?: Sides): string[] {
  const l = labels(sides);
  const where = d.seq ? `channel ${d.channel}, seq ${d.seq}, ${ARROW[d.dir]}` : `channel ${d.channel || '-'}`;
  const lines = [`${c.red(c.bold(`DIVERGED (${d.reason})`))} at ${where}: ${d.message}`];
  const fields = [...d.fields].sort((a, b) => Number(a.tolerated) - Number(b.tolerated));
  if (fields.length) {
    lines.push(c.dim(`  ${pad('field', 32)}${pad(clipLabel(l.exp), 26)}${pad(clipLabel(l.act), 26)}rule`));
    for (const f of fields.slice(0, 30)) {
      const row = `  ${pad(pointerCell(f.pointer), 32)}${pad(show(f.expected, 24), 26)}${pad(show(f.actual, 24), 26)}${f.rule}${f.tolerated ? ' (tolerated)' : ''}`;
      lines.push(f.tolerated ? c.dim(row) : row);
    }
    if (fields.length > 30) lines.push(c.dim(`  … ${fields.length - 30} more fields (--json lists all)`));
  }
  if (d.closest) lines.push(`  ${l.closest}: ${d.closest.request}`);
  if (d.context.length) {
    lines.push(c.dim(`  ${l.around}`));
    for (const f of d.context) lines.push(`  ${f.here ? c.yellow('>') : ' '} ${pad(String(f.seq), 7)} ${f.dir === 'c2s' ? '→' : f.dir === 's2c' ? '←' : '·'} ${f.what}`);
  }
  if (d.expected) lines.push(`  ${c.dim(sides ? 'tape a' : 'expected')} ${d.expected}`);
  if (d.actual) lines.push(`  ${c.dim(sides ? 'tape b' : 'actual  ')} ${d.actual}`);
  return lines;
}

const clipLabel = (s: string) => (s.length > 25 ? `…${s.slice(-24)}` : s);

/** `sides`: the two tapes of `arcp diff`, which the lines name instead of a recording and a live run. */
export function reportLines(r: ReplayReport, c: ChalkInstance, sides?: Sides): string[] {
  const lines: string[] = [];
  for (const d of r.divergences) lines.push(...divergenceLines(d, c, sides), '');
  if (r.substitutions.length) {
    lines.push(c.dim(`substituted ${r.substitutions.length} value${r.substitutions.length === 1 ? '' : 's'} (identifiers, echoed live values, moved timestamps):`));
    for (const s of r.substitutions.slice(0, 10)) lines.push(c.dim(`  ${s.kind ?? 'id'} ${s.pointer ? `${pointerCell(s.pointer)} ` : ''}${s.from} → ${s.to} (${s.count}×)`));
    if (r.substitutions.length > 10) lines.push(c.dim(`  … and ${r.substitutions.length - 10} more`));
  }
  for (const n of r.notes) lines.push(c.dim(`note: ${n}`));
  if (r.command) lines.push(`${r.command.exitCode ? c.red('command under test failed') : c.green('command under test passed')}: ${r.command.argv.join(' ')} exited with ${r.command.exitCode}`);
  if (sides) return [...lines, ...diffEnd(r, c, sides)];
  const what = 'replay';
  if (r.ok) {
    lines.push(`${c.green('clean')} ${what} of ${r.tape}: ${r.frames.replayed}/${r.frames.total} frames in ${(r.durationMs / 1000).toFixed(2)} s`);
    lines.push(`  replay fingerprint ${c.cyan(r.replayFingerprint)}${r.replayFingerprint === r.tapeFingerprint ? c.green(' = tape') : c.dim(` (tape ${r.tapeFingerprint || 'unsealed'})`)}`);
  } else if (r.incomplete && !r.divergences.length) lines.push(`${c.yellow('incomplete')} ${what} of ${r.tape}: ${r.incomplete} (${r.frames.replayed}/${r.frames.total} frames replayed)`);
  else if (r.divergences.length || !r.command) lines.push(`${c.red(`${r.divergences.length} divergence${r.divergences.length === 1 ? '' : 's'}`)} in ${what} of ${r.tape} (${r.frames.replayed}/${r.frames.total} frames replayed)`);
  else lines.push(`no divergence in ${what} of ${r.tape} (${r.frames.replayed}/${r.frames.total} frames replayed); the command under test failed`);
  return lines;
}

/** The last lines of `arcp diff` of two unrelated tapes. */
function diffEnd(r: ReplayReport, c: ChalkInstance, s: Sides): string[] {
  const compared = `${r.frames.replayed} of ${r.frames.total} frames of ${s.a} compared`;
  if (r.ok) return [`${c.green('equivalent')}: tape a (${s.a}) and tape b (${s.b}) (${compared}, ${(r.durationMs / 1000).toFixed(2)} s)`, `  fingerprints ${c.cyan(r.tapeFingerprint)}${r.replayFingerprint === r.tapeFingerprint ? c.green(' (the same)') : c.dim(` and ${r.replayFingerprint}`)}`];
  const n = r.divergences.length;
  return [`${c.red(`${n} divergence${n === 1 ? '' : 's'}`)} between tape a (${s.a}) and tape b (${s.b}) (${compared})`];
}

/** One progress line while a replay runs: frames played of the tape's, and frames/s since the last line. */
export function progressLine(p: { frames: number; total: number }, framesPerSec: number, c: ChalkInstance): string {
  const pct = p.total ? ` (${Math.floor((100 * p.frames) / p.total)} %)` : '';
  return c.dim(`replaying: ${p.frames.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} frames${pct} · ${Math.round(framesPerSec).toLocaleString('en-US')} frames/s`);
}
