import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ToolError } from '../errors.js';
import { Fingerprint } from '../tape/fingerprint.js';
import type { Lineage } from '../tape/format.js';
import { indexJobs } from '../tape/jobs.js';
import { TapeReader } from '../tape/reader.js';

export interface TreeNode {
  path: string;
  fingerprint: string;
  sealed: boolean;
  started_at: string;
  lineage: Lineage | null;
  /** Each job's terminal state (`success`, `error`, …, `unfinished`) and a glimpse of its result. */
  outcome: { job: number; status: string; result?: string }[];
  /** The parent named in the lineage is not in the folder. */
  parentMissing?: boolean;
  children: TreeNode[];
}

export interface TapeTree {
  dir: string;
  roots: TreeNode[];
  unreadable: { path: string; error: string }[];
}

const glimpse = (v: unknown): string | undefined => {
  if (v === undefined) return undefined;
  const s = typeof v === 'object' && v !== null && 'answer' in v ? String((v as { answer: unknown }).answer) : JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
};

function readNode(path: string): TreeNode {
  const r = TapeReader.open(path);
  try {
    let fingerprint = r.meta.fingerprint;
    if (!fingerprint) {
      const fp = new Fingerprint();
      for (const row of r.rows()) fp.add(row.channel, row.dir, row.kind, row.hash);
      fingerprint = fp.digest();
    }
    const jobs = indexJobs(r).jobs;
    return {
      path,
      fingerprint,
      sealed: r.meta.ended_at !== undefined,
      started_at: r.meta.started_at,
      lineage: r.meta.lineage,
      outcome: jobs.map((j) => ({ job: j.n, status: j.status ?? 'unfinished', result: j.status === 'success' ? glimpse(j.result) : j.error?.code })),
      children: [],
    };
  } finally {
    r.close();
  }
}

/**
 * `arcp tape tree [DIR]`: the tapes of a folder as a family tree. A fork hangs under the tape
 * whose fingerprint its lineage names (or, for an unsealed parent, its path), with its fork
 * point, edit and outcome; a fork whose parent is elsewhere is a root marked so.
 */
export function tapeTree(dir: string): TapeTree {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.tape')).sort();
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'name a folder that holds .tape files');
  }
  const nodes: TreeNode[] = [];
  const unreadable: TapeTree['unreadable'] = [];
  for (const n of names) {
    try {
      nodes.push(readNode(join(dir, n)));
    } catch (e) {
      unreadable.push({ path: join(dir, n), error: (e as Error).message });
    }
  }
  const byFp = new Map(nodes.map((n) => [n.fingerprint, n]));
  const parentOf = (n: TreeNode): TreeNode | undefined => {
    const l = n.lineage;
    if (!l) return undefined;
    const byPrint = l.parent_fingerprint ? byFp.get(l.parent_fingerprint) : undefined;
    if (byPrint && byPrint !== n) return byPrint;
    return l.parent ? nodes.find((x) => x !== n && (resolve(x.path) === resolve(l.parent!) || basename(x.path) === basename(l.parent!))) : undefined;
  };
  const roots: TreeNode[] = [];
  for (const n of nodes) {
    const p = parentOf(n);
    if (p) p.children.push(n);
    else {
      if (n.lineage) n.parentMissing = true;
      roots.push(n);
    }
  }
  const order = (list: TreeNode[]) => {
    list.sort((a, b) => a.started_at.localeCompare(b.started_at) || a.path.localeCompare(b.path));
    for (const x of list) order(x.children);
  };
  order(roots);
  return { dir, roots, unreadable };
}
