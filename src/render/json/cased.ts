import type { FamilyDiff } from '../../fork/diff.js';
import type { TapeTree, TreeNode } from '../../fork/tree.js';
import type { ReplayReport } from '../../replay/report.js';
import type { TapeListing } from '../../tape/inspect.js';

/**
 * The few library values whose field names came from the tape's tables (started_at) but are the
 * CLI's own output: renamed to camelCase here, at the edge, so the libraries keep one vocabulary
 * with the tape format.
 */
export const listingJson = (r: TapeListing) => {
  const { started_at, ended_at, ...rest } = r;
  return { ...rest, ...(started_at !== undefined ? { startedAt: started_at } : {}), ...(ended_at !== undefined ? { endedAt: ended_at } : {}) };
};

const nodeJson = (n: TreeNode): Record<string, unknown> => {
  const { started_at, children, ...rest } = n;
  return { ...rest, startedAt: started_at, children: children.map(nodeJson) };
};
export const treeJson = (t: TapeTree) => ({ dir: t.dir, roots: t.roots.map(nodeJson), unreadable: t.unreadable });

export const liveJson = (l?: { pid: number; started_at: string }) => (l ? { live: { pid: l.pid, startedAt: l.started_at } } : {});

/** `arcp diff --json`: both tapes by name; a divergence's sides are `a` and `b`, not expected/actual. */
export function diffJson(a: string, b: string, d: { family?: FamilyDiff; plain?: ReplayReport }) {
  if (d.family) {
    const f = d.family;
    return { a, b, relation: 'fork' as const, ok: !f.firstDivergence && !f.beforeFork.length, divergences: [], notes: [], fork: f };
  }
  const r = d.plain!;
  const divergences = r.divergences.map(({ expected, actual, ...rest }) => ({ ...rest, ...(expected !== undefined ? { a: expected } : {}), ...(actual !== undefined ? { b: actual } : {}) }));
  return { a, b, relation: 'unrelated' as const, ok: r.ok, fingerprints: { a: r.tapeFingerprint, b: r.replayFingerprint }, frames: { a: r.frames.total, compared: r.frames.replayed }, divergences, notes: r.notes, durationMs: r.durationMs };
}
