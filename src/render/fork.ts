import { basename } from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { FamilyDiff, JobOutcome, StepChange } from '../fork/diff.js';
import type { TapeTree, TreeNode } from '../fork/tree.js';
import type { EditRecord } from '../fork/edit.js';
import type { ForkResult } from '../fork/fork.js';
import type { Step } from '../fork/steps.js';
import { bytes } from './record.js';
import { divergenceLines } from './replay.js';

const ROLE: Record<Step['role'], string> = { client: 'a frame the client sent', runtime: 'a frame the runtime sent', llm: 'an LLM answer', http: 'an HTTP response' };
const clip = (s: string, n = 60) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function editLine(e: EditRecord): string {
  if (e.via === 'none') return 'no edit (a branch to continue from)';
  if (e.via === 'edit') return `the whole document replaced from ${e.file}`;
  return e.ops.map((op) => `${op.op} ${'from' in op ? `${op.from} → ` : ''}${op.path || '(root)'}${'value' in op ? ` = ${clip(JSON.stringify(op.value))}` : ''}`).join('; ');
}

/** `arcp fork --show`: the document to edit. */
export function showLines(s: { step: Step; kind: string; api?: string; doc: unknown }, c: ChalkInstance): string[] {
  return [
    c.dim(`${s.step.address} (seq ${s.step.seq}) is ${ROLE[s.step.role]}${s.api ? ` (${s.api}; the assembled message)` : ''}; edit it with --set POINTER=JSON, --patch FILE (RFC 6902) or --edit FILE:`),
    JSON.stringify(s.doc, null, 2),
  ];
}

export function forkLines(r: ForkResult, c: ChalkInstance): string[] {
  const lines = [`${c.bold('forked')} ${r.lineage.parent} at ${c.cyan(r.step.address)} (seq ${r.step.seq}, ${ROLE[r.step.role]}: ${r.step.what})`, `  edit    ${editLine(r.edit)}`];
  const k = r.continued;
  if (k && !k.ok) {
    for (const d of k.prefix.divergences) lines.push(...divergenceLines(d, c));
    if (k.httpDivergence) lines.push(...divergenceLines(k.httpDivergence, c));
    lines.push(c.red(`the runtime did not behave as recorded before the fork point: no child written (${r.child})`));
    return lines;
  }
  if (k) {
    lines.push(`  prefix  the runtime matched the parent up to the fork point (${k.prefix.frames.replayed} recorded frames checked)`);
    lines.push(`  LLM     ${k.llm.parent} answered from the parent, ${k.llm.edited} edited, ${k.llm.live} live, ${k.llm.tape} from the --then tape${k.llm.refused ? c.yellow(`, ${k.llm.refused} refused`) : ''}`);
    for (const j of k.jobs) lines.push(`  job:${j.n}   ${j.status === 'success' ? c.green(j.status) : c.red(j.status)} ${c.dim(j.id)}`);
    if (k.unfinished) lines.push(c.yellow(`  unfinished: ${k.unfinished}`));
    for (const p of k.problems) lines.push(c.yellow(`  problem: ${p}`));
    for (const n of k.notes) lines.push(c.dim(`  note: ${n}`));
  }
  lines.push(`  child   ${c.bold(r.child)}: ${r.summary.frames} frames · ${r.summary.channels} channels · ${bytes(r.summary.bytes)}`, `  fingerprint ${r.summary.fingerprint}`);
  lines.push(c.dim(`  next: arcp diff ${r.lineage.parent} ${r.child}   ·   arcp tape tree`));
  return lines;
}

const short = (fp: string) => fp.slice(0, 12) + '…';

function outcomeText(o: TreeNode['outcome'], c: ChalkInstance): string {
  if (!o.length) return c.dim('no jobs');
  return o.map((j) => `job:${j.job} ${j.status === 'success' ? c.green(j.status) : c.red(j.status)}${j.result ? c.dim(` ${clip(j.result, 40)}`) : ''}`).join(', ');
}

/** `arcp tape tree`: each tape under its parent, with where and how it was forked and how its jobs ended. */
export function treeLines(t: TapeTree, c: ChalkInstance): string[] {
  const lines = [c.bold(t.dir)];
  const seen = new Set<TreeNode>();
  const walk = (n: TreeNode, prefix: string, last: boolean, root: boolean) => {
    if (seen.has(n)) return;
    seen.add(n);
    const l = n.lineage;
    const head = root ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    const fork = l?.step ? ` ${c.cyan(`at ${l.step}`)}${l.at_seq !== undefined ? c.dim(` (seq ${l.at_seq})`) : ''} · ${l.edit ? editLine(l.edit as EditRecord) : 'no edit'}${l.continued ? c.dim(` · continued live (${l.continued.llm ?? 'no LLM upstream'})`) : l.kept_rest ? c.dim(' · rest kept') : c.dim(' · not continued')}` : '';
    const missing = n.parentMissing ? c.yellow(` (fork of ${l?.parent ?? '?'}, not in this folder)`) : '';
    lines.push(`${head}${c.bold(basename(n.path))} ${c.dim(short(n.fingerprint))}${n.sealed ? '' : c.yellow(' unsealed')}${missing}${fork}`);
    const pad = root ? '' : `${prefix}${last ? '   ' : '│  '}`;
    lines.push(`${pad}${n.children.length ? '│  ' : '   '}${outcomeText(n.outcome, c)}`);
    n.children.forEach((ch, i) => walk(ch, pad, i === n.children.length - 1, false));
  };
  for (const r of t.roots) walk(r, '', true, true);
  for (const u of t.unreadable) lines.push(c.red(`${u.path}: unreadable: ${u.error}`));
  if (!t.roots.length && !t.unreadable.length) lines.push(c.dim('no .tape files here'));
  return lines;
}

const val = (v: unknown) => clip(v === undefined ? '(absent)' : JSON.stringify(v), 50);

function changeLines(ch: StepChange, c: ChalkInstance): string[] {
  const head = ch.reason === 'extra' ? `only the child has ${ch.address}: ${ch.child!.what}` : ch.reason === 'missing' ? `the child has no ${ch.address} (the parent's ${ch.parent!.what})` : `${ch.address} differs`;
  const lines = [`  ${head}`];
  if (ch.reason === 'changed') lines.push(`    parent  ${c.dim(`seq ${ch.parent!.seq}`)} ${ch.parent!.what}`, `    child   ${c.dim(`seq ${ch.child!.seq}`)} ${ch.child!.what}`);
  for (const f of ch.fields.slice(0, 8)) lines.push(c.dim(`    ${f.pointer || '(root)'}: ${val(f.expected)} → ${val(f.actual)}`));
  if (ch.fields.length > 8) lines.push(c.dim(`    … ${ch.fields.length - 8} more fields (--json lists all)`));
  return lines;
}

/** `arcp diff PARENT CHILD` of a fork: the fork point, the first divergence after it, and what changed. */
export function familyLines(d: FamilyDiff, c: ChalkInstance): string[] {
  const f = d.fork;
  const lines = [
    `${c.bold('fork point')} ${c.cyan(f.step)}${f.parentSeq !== undefined ? ` (parent seq ${f.parentSeq}${f.childSeq !== undefined ? `, child seq ${f.childSeq}` : ''})` : ''}${f.role ? `: ${ROLE[f.role as Step['role']] ?? f.role}` : ''}`,
    `  edit    ${f.edit ? editLine(f.edit as EditRecord) : 'none'}`,
    `  ${f.continued ? `continued live against ${f.continued.runtime}${f.continued.llm ? `, LLM calls after it to ${f.continued.llm}` : ''}` : 'not continued: the child ends at the fork point'}`,
    d.reversed ? c.dim(`  (${d.child} is the fork of ${d.parent}; shown parent first)`) : '',
  ].filter(Boolean);
  if (d.beforeFork.length) {
    lines.push(c.yellow(`before the fork point the child differs at ${d.beforeFork.length} step(s):`));
    for (const ch of d.beforeFork.slice(0, 3)) lines.push(...changeLines(ch, c));
  }
  lines.push(c.bold('first divergence after it'));
  lines.push(...(d.firstDivergence ? changeLines(d.firstDivergence, c) : ['  none: after the fork point the child does what the parent did']));
  lines.push(c.bold('what changed'));
  const ev = d.summary.events.map((e) => `${e.kind} ${e.parent}${e.parent !== e.child ? ` → ${e.child}` : ''}`).join(', ');
  lines.push(`  events      ${ev || 'none'}`);
  for (const t of d.summary.toolCalls) {
    const same = JSON.stringify(t.parent) === JSON.stringify(t.child);
    lines.push(`  tool calls  job:${t.job} ${same ? `${t.parent.length}, the same` : `${t.parent.length} → ${t.child.length}:`}`);
    if (!same) {
      const n = Math.max(t.parent.length, t.child.length);
      for (let i = 0; i < n; i++) if (t.parent[i] !== t.child[i]) lines.push(`    #${i + 1} ${t.parent[i] ?? c.dim('(none)')} → ${t.child[i] ?? c.dim('(none)')}`);
    }
  }
  for (const r of d.summary.results) {
    const show = (o?: JobOutcome) => (!o ? c.dim('(no job)') : `${o.status}${o.result !== undefined ? ` ${clip(JSON.stringify(o.result), 60)}` : o.error ? ` ${o.error.code ?? ''}` : ''}`);
    const same = JSON.stringify(r.parent) === JSON.stringify(r.child);
    lines.push(`  result      job:${r.job} ${same ? `${show(r.parent)} (the same)` : `${show(r.parent)} → ${show(r.child)}`}`);
  }
  lines.push(`  LLM calls   ${d.summary.llmCalls.parent}${d.summary.llmCalls.parent !== d.summary.llmCalls.child ? ` → ${d.summary.llmCalls.child}` : ' (the same)'}`);
  return lines;
}
