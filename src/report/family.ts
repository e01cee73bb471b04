import type { TapeTree, TreeNode } from '../fork/tree.js';
import { reportData } from './page.js';
import { writeReport, type WrittenReport } from './write.js';

/** `arcp tape tree --report FILE`: the fork family, each tape under its parent with its fork point, edit and outcomes. */
export function writeFamilyReport(t: TapeTree, out: string): WrittenReport {
  const nodes: { depth: number; name: string; line: string; detail: string }[] = [];
  // Explicit stack: a family is data, as deep as its forks go.
  const stack: [TreeNode, number][] = t.roots.map((n): [TreeNode, number] => [n, 0]).reverse();
  while (stack.length) {
    const [n, depth] = stack.pop()!;
    const l = n.lineage;
    const fork = l ? [l.step ? `forked at ${l.step}` : l.at_seq !== undefined ? `forked at seq ${l.at_seq}` : 'forked', l.edit ? `edit ${l.edit.via} (${l.edit.ops.length} op${l.edit.ops.length === 1 ? '' : 's'})` : '', l.continued ? 'continued live' : ''].filter(Boolean).join(', ') : '';
    const outcomes = n.outcome.map((o) => `job ${o.job} ${o.status}${o.result ? ` ${o.result}` : ''}`).join(', ');
    const line = [n.path + (n.parentMissing ? ' (parent not in the folder)' : ''), fork, outcomes].filter(Boolean).join(' · ');
    nodes.push({ depth, name: n.path, line, detail: JSON.stringify({ fingerprint: n.fingerprint, sealed: n.sealed, started_at: n.started_at, lineage: l, outcome: n.outcome }, null, 2) });
    for (let i = n.children.length - 1; i >= 0; i--) stack.push([n.children[i], depth + 1]);
  }
  for (const u of t.unreadable) nodes.push({ depth: 0, name: u.path, line: `${u.path} (unreadable)`, detail: u.error });
  return writeReport(reportData({ title: `arcp tape tree: ${t.dir}`, tree: { nodes } }), out);
}
