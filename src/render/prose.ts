/** `--flag VALUE      what it does`: a row of a two-column list in help text. */
const ROW = /^(\s*[-*•]\S*(?: \S+)*?\s{2,})(\S.*)$/;

/** A line that keeps its own line: indented, a list item, or a two-column row (a flag then 2+ spaces). */
const ownLine = (line: string): boolean => /^\s|^[*•-] /.test(line) || ROW.test(line);

/**
 * Help text written hard-wrapped in the source, re-flowed so the help renderer wraps it once:
 * lines of a paragraph join, while indented lines and list items (`  --flag   what`, `- item`)
 * keep their own line.
 */
export function reflow(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((para) => {
      const out: string[] = [];
      let rowColumn = -1;
      for (const line of para.split('\n')) {
        const own = ownLine(line);
        const prev = out[out.length - 1];
        const indent = /^\s*/.exec(line)![0].length;
        // A row's continuation, written under its second column, joins the row.
        if (prev !== undefined && rowColumn > 0 && indent === rowColumn && line.trim()) out[out.length - 1] = `${prev} ${line.trim()}`;
        else if (!own && prev !== undefined && !ownLine(prev)) out[out.length - 1] = `${prev} ${line.trim()}`;
        else {
          out.push(line);
          const row = ROW.exec(line);
          rowColumn = row ? row[1].length : -1;
        }
      }
      return out.join('\n');
    })
    .join('\n\n');
}

/** Words of `text` in lines of at most `room` characters. */
function fill(text: string, room: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > room) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Help text laid out for a `width`-column terminal: prose lines filled, two-column rows
 * (`--upstream ws://…   what it is`) with their continuation under the second column, other
 * indented lines (commands, code) as written.
 */
export function layout(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width || !line.trim()) return [line];
      const row = ROW.exec(line);
      if (row) return fill(row[2], Math.max(20, width - row[1].length)).map((l, i) => (i === 0 ? row[1] : ' '.repeat(row[1].length)) + l);
      if (/^\s/.test(line)) return [line];
      return fill(line, width);
    })
    .join('\n');
}
