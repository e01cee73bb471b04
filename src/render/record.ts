import type { ChalkInstance } from 'chalk';
import type { RecordStats, RecordSummary } from '../record/recorder.js';
import type { TapeSummary } from '../tape/writer.js';

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
const count = (n: number): string => n.toLocaleString('en-US');

/** One progress line: connections, frames, bytes, frames/s since the previous line, and whether the tape holds traffic back. */
export function progressLine(s: RecordStats, framesPerSec: number, c: ChalkInstance): string {
  const behind = s.tapeBehind ? ` · ${c.yellow('tape behind: sources paused until it catches up')}` : '';
  const lost = s.lost ? ` · ${c.red(`${count(s.lost)} frames not written`)}` : '';
  const http = s.exchanges === undefined ? '' : ` · ${count(s.exchanges)} HTTP exchange${s.exchanges === 1 ? '' : 's'}`;
  return `${c.dim('recording')} ${s.connections} connection${s.connections === 1 ? '' : 's'}${http} · ${count(s.frames)} frames · ${bytes(s.bytes)} · ${count(Math.round(framesPerSec))} frames/s${behind}${lost}`;
}

/** An empty recording: most often the client went to the upstream directly. */
export const NO_TRAFFIC = '  no traffic seen: did the client use ARCP_URL / ARCP_HTTP_URL?';

/** Whether a recording is whole: every frame written, sealed. Otherwise the command exits 1. */
export const recordedWhole = (s: TapeSummary): boolean => !s.lost && s.sealed && !s.problems.length;

export function summaryLines(s: RecordSummary, c: ChalkInstance): string[] {
  const lines = [
    `${recordedWhole(s) ? c.green('recorded') : c.red('recorded with losses')} ${s.path}`,
    `  ${count(s.frames)} frames (${count(s.blobs)} distinct) · ${s.channels} channel${s.channels === 1 ? '' : 's'} · ${bytes(s.bytes)} · ${(s.durationMs / 1000).toFixed(1)} s`,
    `  fingerprint ${c.cyan(s.fingerprint)}${s.sealed ? '' : c.yellow(' (not sealed)')}`,
  ];
  if (s.lost) {
    lines.push(`  ${c.red('✗')} ${count(s.lost.frames)} frames (${bytes(s.lost.bytes)}) were forwarded but not written: ${s.lost.reason}`);
    lines.push(s.lost.recorded ? '    the tape records the gap; `arcp tape verify` and `arcp replay` report it' : c.red('    and the tape could not record the gap: keep this message with it'));
  }
  for (const p of s.problems) lines.push(`  ${c.red('✗')} ${p}`);
  if (s.walKept) lines.push(c.yellow(`  the tape's last pages stay in ${s.path}-wal: keep it (and -shm) with the tape`));
  if (s.exitCode !== undefined) lines.push(`  runtime exited with ${s.exitCode}`);
  if (!s.frames) lines.push(c.yellow(NO_TRAFFIC));
  return lines;
}
