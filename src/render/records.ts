import type { ChalkInstance } from 'chalk';
import type { AttestationCheck, Attestation } from '../records/attest.js';
import type { KeyPairFiles } from '../records/keys.js';
import { recordsPerJob } from '../records/per-job.js';
import type { ArcpRecord, RecordsDocument } from '../records/schema.js';
import type { RecordsVerification } from '../records/verify.js';

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const shown = (v: unknown, n = 70) => clip(JSON.stringify(v) ?? 'null', n);
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

function seqs(r: ArcpRecord): string {
  const a = r.evidence.fields.startedAt?.[0]?.seq;
  const b = r.evidence.fields.completedAt?.[0]?.seq;
  return a === b ? `seq ${a}` : `seq ${a}→${b}`;
}

function status(r: ArcpRecord, c: ChalkInstance): string {
  const e = r.event;
  if (e.status === 'ok') return `${c.green('ok')} ${shown(e.output, 60)}`;
  return `${c.red('error')} ${clip(`${e.error?.code ?? e.error?.name}: ${e.error?.message}`, 80)}`;
}

const ACTION_PREFIX = /^(job|tool|delegate|llm):/;

function actionLine(r: ArcpRecord, c: ChalkInstance): string {
  const what = r.kind === 'cancel' ? 'job.cancel' : r.event.action.replace(ACTION_PREFIX, '');
  return `  ${pad(r.kind, 10)} ${pad(clip(what, 44), 44)} ${pad(`${r.event.durationMs} ms`, 8)} ${status(r, c)} ${c.dim(seqs(r))}`;
}

function jobLines(r: ArcpRecord, c: ChalkInstance): string[] {
  const a = r.event.attributes ?? {};
  const by = [a['arcp.principal'], a['arcp.session_id'] && `session ${a['arcp.session_id']}`, a['arcp.trace_id'] && `trace ${a['arcp.trace_id']}`, a['arcp.lease'] !== undefined && `lease ${a['arcp.lease']}`].filter(Boolean).join(' · ');
  return [
    `${c.bold(`job ${r.job ?? '(none)'}`)}  ${r.event.action.replace(ACTION_PREFIX, '')}  ${pad(`${r.event.durationMs} ms`, 8)} ${status(r, c)} ${c.dim(seqs(r))}`,
    `  ${c.dim('intent')}   ${r.event.intent}`,
    `  ${c.dim('inputs')}   ${shown(r.event.inputs, 100)}`,
    ...(by ? [`  ${c.dim('bounded')}  ${clip(by, 140)}`] : []),
    ...(typeof a['arcp.resubmits'] === 'number' ? [`  ${c.dim('resubmit')} accepted again for ${plural(a['arcp.resubmits'], 'later submit')} (idempotency)`] : []),
    ...(typeof a['arcp.notes'] === 'string' ? [`  ${c.dim('notes')}    ${c.yellow(clip(a['arcp.notes'], 140))}`] : []),
  ];
}

/** The records of a tape, per job: the job, then each action it took. */
export function recordsLines(doc: RecordsDocument, tape: string, c: ChalkInstance): string[] {
  const kinds = new Map<string, number>();
  for (const r of doc.records) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
  const lines = [
    `${c.bold(tape)}  ${doc.tape.fingerprint.slice(0, 20)}…  ${plural(doc.tape.frames, 'frame')}${doc.tape.sealed ? '' : c.yellow(' (unsealed)')} · ${plural(doc.records.length, 'record')}${kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}${doc.job ? ` of job ${doc.job}` : ''}`,
  ];
  if (!doc.records.length) return [...lines, c.dim('  no jobs, tool calls or LLM exchanges on this tape')];
  for (const g of recordsPerJob(doc)) {
    lines.push('');
    if (g.job) lines.push(...jobLines(g.job, c), ...(g.parent ? [`  ${c.dim('parent')}   ${g.parent}`] : []));
    else lines.push(c.bold(g.jobId ? `job ${g.jobId} (its own record is not on the tape)` : 'not tied to a job'));
    for (const r of g.actions) lines.push(r.kind === 'job' ? `  ${pad('submit', 10)} ${pad(clip(r.event.action.replace(ACTION_PREFIX, ''), 44), 44)} ${pad(`${r.event.durationMs} ms`, 8)} ${status(r, c)} ${c.dim(seqs(r))}` : actionLine(r, c));
  }
  lines.push('', c.dim(`  --json for the records with their evidence (frame seqs and sha256 for every field); \`arcp tape show ${tape} --frame N\` shows a frame`));
  return lines;
}

export function recordsCheckLines(v: RecordsVerification, c: ChalkInstance): string[] {
  if (v.ok) return [`${c.green('ok')} ${v.file}: ${plural(v.records, 'record')} derived again from ${v.tape} and identical (${v.fingerprint})`];
  return [`${c.red('FAILED')} ${v.file} does not match ${v.tape}: ${plural(v.differences.length, 'difference')}`, ...v.differences.map((d) => `  ${c.red('✗')} ${d}`)];
}

export function keygenLines(k: KeyPairFiles, c: ChalkInstance): string[] {
  return [
    `${c.green('made')} an Ed25519 key pair ${k.keyId}`,
    `  private ${k.privateKey} (mode 0600: keep it; it signs)`,
    `  public  ${k.publicKey} (share it: \`arcp tape verify TAPE --signature FILE --pubkey ${k.publicKey}\`)`,
  ];
}

export function attestLines(path: string, a: Attestation, c: ChalkInstance): string[] {
  const s = a.statement;
  return [
    `${c.green('attested')} ${path}`,
    `  tape     ${s.tape.fingerprint} · ${plural(s.tape.frames, 'frame')} · file sha256 ${s.tape.file.sha256.slice(0, 16)}…`,
    ...(s.records ? [`  records  ${s.records.file} · ${plural(s.records.count, 'record')} · sha256 ${s.records.sha256.slice(0, 16)}…`] : []),
    `  key      ${s.keyId} · ${s.attestedAt}`,
  ];
}

export function attestationLines(v: AttestationCheck, c: ChalkInstance): string[] {
  const who = v.keyId ? ` (key ${v.keyId}, ${v.attestedAt})` : '';
  if (v.ok) return [`${c.green('ok')} signature ${v.signature}${who}: the tape${v.records ? ` and ${v.records}` : ''} are as attested`];
  return [`${c.red('FAILED')} signature ${v.signature}${who}`, ...v.problems.map((p) => (p.startsWith('  ') ? `    ${p.trim()}` : `  ${c.red('✗')} ${p}`))];
}
