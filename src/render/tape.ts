import type { ChalkInstance } from 'chalk';
import type { ChannelSummary, TapeListing, TapeView, TimelineRow } from '../tape/inspect.js';
import type { ExchangeView, FrameView, Readable } from '../tape/payload.js';
import type { Finding } from '../tape/scan.js';
import { redactionCounts } from '../tape/format.js';
import { gapLine, type VerifyReport } from '../tape/verify.js';
import { bytes } from './record.js';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const short = (fp?: string) => (fp ? fp.slice(0, 16) + '…' : '-');

export function listingLines(dir: string, rows: TapeListing[], c: ChalkInstance): string[] {
  if (!rows.length) return [`no tapes in ${dir} (record one with arcp record --tape ${dir}/run.tape)`];
  return rows.map((r) =>
    r.error
      ? `${pad(r.path, 40)} ${c.red('unreadable')}: ${r.error}`
      : `${pad(r.path, 40)} ${pad(r.started_at?.replace('T', ' ').slice(0, 19) ?? '', 20)} ${pad(`${r.frames} frames`, 14)} ${pad(`${r.channels} ch`, 6)} ${pad(bytes(r.bytes), 10)} ${r.ended_at ? short(r.fingerprint) : c.yellow('unsealed')}${r.parent ? c.dim(` fork of ${r.parent}`) : ''}`,
  );
}

/** The header and channel table; `limit` (-n) caps the channel rows as it caps the timeline's. */
export function showHeaderLines(v: TapeView, c: ChalkInstance, limit?: number): string[] {
  const m = v.meta;
  const shown = limit === undefined ? v.channels : v.channels.slice(0, limit);
  return [
    `${c.bold(v.path)}  format ${m.format_version} · arcp ${m.tool_version} · ARCP ${m.spec_version} (spec sha256 ${m.spec_sha256.slice(0, 12)}…)`,
    `  recorded ${m.started_at}${m.ended_at ? ` → ${m.ended_at}` : v.live ? c.yellow(` (live: being recorded by PID ${v.live.pid}; this is what it has committed so far)`) : c.yellow(' (unsealed: the recorder did not finish)')}`,
    ...(m.gaps ?? []).map((g) => c.red(`  gap      ${gapLine(g)}`)),
    `  command  ${m.command_line.join(' ')}`,
    `  redaction ${m.redaction.enabled ? redactionLine(redactionCounts(m.redaction)) : c.yellow('off')}`,
    ...(m.lineage ? [`  lineage  fork of ${m.lineage.parent ?? '?'} at ${m.lineage.step ? `${m.lineage.step} (seq ${m.lineage.at_seq ?? '?'})` : `seq ${m.lineage.at_seq ?? '?'}`}${m.lineage.continued ? ', continued live' : ''}${m.lineage.note ? `: ${m.lineage.note}` : ''} (arcp tape tree shows the family)`] : []),
    `  fingerprint ${m.fingerprint ?? c.yellow('none (unsealed); `arcp tape verify` computes it')}`,
    '',
    c.bold('channels'),
    ...shown.map((ch) => `  ${pad(String(ch.id), 4)} ${pad(ch.kind, 6)} ${pad(ch.label, 44)} ${pad(`${ch.frames} frames`, 14)} ${bytes(ch.bytes)}`),
    ...(shown.length < v.channels.length ? [c.dim(`  … ${v.channels.length - shown.length} more channel${v.channels.length - shown.length === 1 ? '' : 's'} (raise -n, or --json lists all)`)] : []),
    '',
    c.bold('timeline'),
  ];
}

const redactionLine = (n: ReturnType<typeof redactionCounts>) => `on (${n.pointers} pointers, ${n.headers} headers, ${n.regexes} patterns, ${n.query} query parameters)`;

const ARROW: Record<string, string> = { c2s: '→', s2c: '←', meta: '·' };

/** What a filter that matched no frame says (on stderr), naming the filters. */
export function noMatchLine(filters: Record<string, string | number | undefined>): string {
  const named = Object.entries(filters).filter(([, v]) => v !== undefined).map(([k, v]) => `--${k} ${v}`);
  return `arcp tape show: no frame matches ${named.join(' ')}`;
}

export function timelineLine(r: TimelineRow, c: ChalkInstance, channels: Map<number, ChannelSummary>): string {
  const dir = r.dir === 'c2s' ? c.cyan(ARROW.c2s) : r.dir === 's2c' ? c.green(ARROW.s2c) : c.dim(ARROW.meta);
  const flags = r.flagNames.length ? c.yellow(` [${r.flagNames.join(',')}]`) : '';
  const ch = channels.get(r.channel);
  return `  ${pad(String(r.seq), 7)} ${pad((r.mono_us / 1000).toFixed(1) + 'ms', 11)} ${pad(`ch${r.channel}${ch ? `:${ch.kind}` : ''}`, 10)} ${dir} ${pad(r.what, 40)} ${c.dim(bytes(r.size))}${flags}`;
}

export function verifyLines(r: VerifyReport, c: ChalkInstance): string[] {
  const head = r.ok ? `${c.green('ok')} ${r.path}: ${r.frames} frames, ${r.blobs} blobs` : `${c.red('FAILED')} ${r.path}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`;
  return [
    head,
    `  fingerprint ${r.fingerprint || '-'}`,
    ...(r.live ? [c.yellow(`  live: being recorded by PID ${r.live.pid} since ${r.live.started_at}; checked what it has committed so far`)] : r.unsealed ? [c.yellow(`  unsealed: the recording stopped without closing (kill -9?)${r.ok ? '; every frame written is intact' : ''}`)] : []),
    ...r.problems.map((p) => `  ${c.red('✗')} ${p}`),
  ];
}

export function scanLines(path: string, frames: number, findings: Finding[], c: ChalkInstance): string[] {
  if (!findings.length) return [`${c.green('clean')} ${path}: no secret-looking strings in ${frames} frames`];
  return [
    `${c.red(`${findings.length} secret-looking string${findings.length === 1 ? '' : 's'}`)} in ${path}:`,
    ...findings.slice(0, 200).map((f) => `  seq ${pad(String(f.seq), 7)} ch${pad(String(f.channel), 4)} ${pad(f.kind, 20)} ${pad(f.rule, 30)} ${f.preview}`),
    ...(findings.length > 200 ? [`  … and ${findings.length - 200} more (--json lists all)`] : []),
    c.dim('  re-record with redaction on (the default), or add --redact-pointer / --redact-header / --redact-regex rules'),
  ];
}

/** A readable payload: its text indented, SSE with the text the model streamed. */
function readableLines(r: Readable, c: ChalkInstance): string[] {
  const how = [r.as, ...(r.decoded ? [`decoded from ${r.decoded.join(', ')}`] : [])].join(', ');
  const lines = [c.dim(`  (${how})`), ...r.text.split('\n').map((l) => `  ${l}`)];
  if (r.assembled !== undefined) lines.push(c.dim('  streamed text:'), ...r.assembled.split('\n').map((l) => `  ${c.cyan(l)}`));
  return lines;
}

export function frameViewLines(v: FrameView, c: ChalkInstance): string[] {
  const f = v.frame;
  const flags = f.flagNames.length ? c.yellow(` [${f.flagNames.join(',')}]`) : '';
  return [
    `${c.bold(`frame ${f.seq}`)} ch${f.channel} ${ARROW[f.dir]} ${f.kind} · ${bytes(f.size)} · ${(f.mono_us / 1000).toFixed(1)} ms${flags}${f.parts ? ` · ${f.parts.length} chunks` : ''}`,
    ...(v.wholeBody ? [c.dim("  a row of a compressed body: the exchange's whole body, decoded"), ...readableLines(v.wholeBody, c)] : readableLines(v.payload, c)),
  ];
}

export function exchangeLines(e: ExchangeView, c: ChalkInstance): string[] {
  const end = e.client ? c.yellow(` (client: ${e.client})`) : '';
  return [
    `${c.bold(`ch${e.channel}`)} ${e.method} ${e.path}${e.route ? c.dim(` route ${e.route}`) : ''} → ${e.status ?? c.yellow('no response')}${end}`,
    ...(e.request.text ? [c.dim(' request body'), ...readableLines(e.request, c)] : []),
    c.dim(' response body'),
    ...readableLines(e.response, c),
  ];
}
