import type { ChalkInstance } from 'chalk';
import type { RecordStats, RecordSummary } from '../record/recorder.js';

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
const count = (n: number): string => n.toLocaleString('en-US');

/** One progress line: connections, frames, bytes, frames/s since the previous line, and whether the tape holds traffic back. */
export function progressLine(s: RecordStats, framesPerSec: number, c: ChalkInstance): string {
  const behind = s.tapeBehind ? ` · ${c.yellow('tape behind: sources paused until it catches up')}` : '';
  return `${c.dim('recording')} ${s.connections} connection${s.connections === 1 ? '' : 's'} · ${count(s.frames)} frames · ${bytes(s.bytes)} · ${count(Math.round(framesPerSec))} frames/s${behind}`;
}

export function summaryLines(s: RecordSummary, c: ChalkInstance): string[] {
  return [
    `${c.green('recorded')} ${s.path}`,
    `  ${count(s.frames)} frames (${count(s.blobs)} distinct) · ${s.channels} channel${s.channels === 1 ? '' : 's'} · ${bytes(s.bytes)} · ${(s.durationMs / 1000).toFixed(1)} s`,
    `  fingerprint ${c.cyan(s.fingerprint)}`,
    ...(s.exitCode !== undefined ? [`  runtime exited with ${s.exitCode}`] : []),
  ];
}
