/** The fields of oclif's parse errors this needs, read by shape (the render layer imports no oclif). */
interface ParseError {
  constructor: { name: string };
  message: string;
  args?: { name?: string; description?: string }[];
  flags?: string[];
}

/** Strips ANSI colour that oclif puts into some messages. */
const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

/**
 * An oclif parse error as one clear line naming what is wrong and where help is:
 * `arcp: replay needs TAPE (tape to replay); see arcp replay --help`.
 */
export function usageLine(err: ParseError, command: string): string {
  const u = usageParts(err, command);
  return `arcp: ${u.message}; ${u.hint}`;
}

/** The same in parts: what is wrong, and the pointer to help. */
export function usageParts(err: ParseError, command: string): { message: string; hint: string } {
  const help = `see arcp ${command ? `${command} ` : ''}--help`;
  const name = err.constructor.name;
  let what: string;
  if (name === 'RequiredArgsError' && err.args?.length) {
    const args = err.args.map((a) => `${(a.name ?? 'an argument').toUpperCase()}${a.description ? ` (${a.description})` : ''}`);
    what = `${command || 'this command'} needs ${args.join(' and ')}`;
  } else if (name === 'NonExistentFlagsError' && err.flags?.length) {
    what = `${command || 'this command'} has no flag ${err.flags.join(', ')}`;
  } else {
    // "The following error occurred:\n  --speed ..." and similar: the reasons, on one line.
    what = plain(err.message)
      .replace(/See more help with --help\s*$/, '')
      .replace(/^The following errors? occurred:\s*/, '')
      .split(/\n\s*\n/)[0]
      .trim()
      .replace(/\s*\n\s*/g, '; ');
  }
  return { message: what, hint: help };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/**
 * An unknown command as one line with the nearest real one. `typed` is what was typed (e.g.
 * `tape sho X`), `commands` every command as it is typed (`tape show`): each is compared with
 * as many typed words as it has.
 */
export function notFoundLine(typed: string, commands: string[]): string {
  const words = typed.split(' ');
  let best: { c: string; d: number; typed: string } | undefined;
  for (const c of commands) {
    const head = words.slice(0, c.split(' ').length).join(' ');
    const d = distance(head, c);
    if (!best || d < best.d) best = { c, d, typed: head };
  }
  const near = best && best.d <= Math.max(2, Math.floor(best.typed.length / 3)) ? best : undefined;
  return near ? `arcp: "${near.typed}" is not an arcp command; did you mean "arcp ${near.c}"? (see arcp --help)` : `arcp: "${typed}" is not an arcp command (see arcp --help)`;
}
