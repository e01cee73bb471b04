import { readdirSync, readFileSync } from 'node:fs';
import { Server } from 'node:net';
import { afterAll } from 'vitest';

/** This worker's live child processes (Linux /proc), as "pid command". */
function children(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== process.pid || state === 'Z') continue;
      out.push(`child ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160)}`);
    } catch {
      // gone while we looked: not left behind
    }
  }
  return out;
}

/** Servers of this worker still listening. */
function listeners(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is Server => h instanceof Server && h.listening).map((s) => `listener ${JSON.stringify(s.address())}`);
}

const leftovers = () => (process.platform === 'linux' ? [...children(), ...listeners()] : listeners());

// Runs after the file's own hooks (after hooks run in reverse): what a test file started, it stops.
afterAll(async () => {
  const end = Date.now() + 3000;
  let left = leftovers();
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    left = leftovers();
  }
  if (left.length) throw new Error(`this test file left ${left.length} thing(s) running: ${left.join('; ')}`);
}, 10_000);
