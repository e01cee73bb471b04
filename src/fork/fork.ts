import { existsSync } from 'node:fs';
import { ToolError } from '../errors.js';
import { Fingerprint } from '../tape/fingerprint.js';
import type { Lineage } from '../tape/format.js';
import { TapeReader } from '../tape/reader.js';
import type { TapeSummary } from '../tape/writer.js';
import { writeForkCopy } from './child.js';
import { continueFork, type ContinueOptions, type ContinueReport } from './continue.js';
import { applyEdit, editOf, targetOf, type EditedStep, type EditRecord, type EditSpec, type StepTarget } from './edit.js';
import { childRules, scrubbed, type ExtraRules } from './redaction.js';
import { resolveStep, tapeSteps, type Step } from './steps.js';

export interface ForkOptions {
  parent: string;
  /** The step address (`job:1/llm:3`, `seq:12`, …). */
  at: string;
  /** The child tape (default: PARENT.forkN.tape). */
  out?: string;
  force?: boolean;
  edit: EditSpec;
  /** Without a continuation: copy the parent's frames after the step unchanged. */
  keepRest?: boolean;
  note?: string;
  commandLine: string[];
  /** Redaction rules beyond the defaults, for what the fork records (a tape keeps only a digest of the parent's). */
  redact?: ExtraRules;
  /** Run the runtime from the fork point on, live (`-- <runtime>` or `--target`). */
  continuation?: ContinueOptions;
}

/** What the fork is about to do: the step, its document, the edit, and the step's new bytes. */
export interface ForkPlan {
  parent: string;
  parentFingerprint: string;
  step: Step;
  target: StepTarget;
  edit: EditRecord;
  doc: unknown;
  edited: EditedStep;
}

export interface ForkResult {
  child: string;
  summary: TapeSummary;
  lineage: Lineage;
  step: { address: string; seq: number; role: Step['role']; what: string };
  edit: EditRecord;
  /** The document before and after the edit (what changed at the step). */
  before: unknown;
  after: unknown;
  continued?: ContinueReport;
}

function readMeta(path: string): TapeReader['meta'] {
  const r = TapeReader.open(path);
  try {
    return r.meta;
  } finally {
    r.close();
  }
}

function fingerprintOf(path: string): string {
  const r = TapeReader.open(path);
  try {
    if (r.meta.fingerprint) return r.meta.fingerprint;
    const fp = new Fingerprint();
    for (const row of r.rows()) fp.add(row.channel, row.dir, row.kind, row.hash);
    return fp.digest();
  } finally {
    r.close();
  }
}

/** Resolves the step and applies the edit, touching nothing: `--show` and `fork` both start here. */
export function planFork(parent: string, at: string, spec: EditSpec): ForkPlan {
  const t = tapeSteps(parent);
  const step = resolveStep(t.index, t.steps, at);
  const target = targetOf(parent, step);
  const edit = editOf(spec, target.doc);
  const { doc, edited } = applyEdit(target, edit);
  return { parent, parentFingerprint: fingerprintOf(parent), step, target, edit, doc, edited };
}

/** The document a step offers to edit (`arcp fork --at STEP --show`). */
export function showStep(parent: string, at: string): { step: Step; kind: StepTarget['kind']; api?: string; doc: unknown } {
  const t = tapeSteps(parent);
  const step = resolveStep(t.index, t.steps, at);
  const target = targetOf(parent, step);
  return { step, kind: target.kind, api: target.dialect?.name, doc: target.doc };
}

/** `PARENT.fork1.tape`, `PARENT.fork2.tape`, …: the first that does not exist. */
export function defaultChildPath(parent: string): string {
  const base = parent.replace(/\.tape$/, '');
  for (let i = 1; ; i++) if (!existsSync(`${base}.fork${i}.tape`)) return `${base}.fork${i}.tape`;
}

/**
 * `arcp fork`: branches a recorded run at a step, with an edit. Without a continuation the child
 * is the parent's prefix and the edited step; with one, the runtime is driven from the start to
 * the fork point (checked against the parent), the edit goes in at the fork point, and what the
 * runtime does afterwards is recorded live. The child's meta holds the lineage.
 */
export async function fork(o: ForkOptions): Promise<ForkResult> {
  const plan = planFork(o.parent, o.at, o.edit);
  const out = o.out ?? defaultChildPath(o.parent);
  if (out === o.parent) throw new ToolError('E_USAGE', `--out ${out} is the parent tape`, 'name another file for the child');
  const meta = readMeta(o.parent);
  const { rules, note } = childRules(meta.redaction, o.redact);
  const lineage: Lineage = {
    parent: o.parent,
    parent_fingerprint: plan.parentFingerprint,
    at_seq: plan.step.seq,
    step: plan.step.address,
    step_role: plan.step.role,
    edit: plan.edit,
    command: scrubbed(o.commandLine, rules),
    ...(o.note ? { note: o.note } : {}),
  };
  const result = (summary: TapeSummary, continued?: ContinueReport): ForkResult => ({
    child: out,
    summary,
    lineage,
    step: { address: plan.step.address, seq: plan.step.seq, role: plan.step.role, what: plan.step.what },
    edit: plan.edit,
    before: plan.target.doc,
    after: plan.doc,
    continued,
  });
  if (!o.continuation) {
    if (o.keepRest) lineage.kept_rest = true;
    const summary = await writeForkCopy({ parent: o.parent, out, force: o.force, step: plan.step, edited: plan.edited, keepRest: o.keepRest ?? false, lineage, commandLine: o.commandLine, redaction: rules });
    return result(summary);
  }
  if (o.keepRest) throw new ToolError('E_USAGE', '--keep-rest copies the parent after the step; a continuation records what the runtime does instead', 'drop one of them');
  const continued = await continueFork(plan, { ...o.continuation, out, force: o.force, lineage, commandLine: o.commandLine, redaction: rules, notes: note ? [note] : [] });
  return result(continued.summary, continued);
}
