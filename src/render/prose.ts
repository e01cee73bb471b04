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
      for (const line of para.split('\n')) {
        const own = /^\s|^[-*•] |^--/.test(line);
        const prev = out[out.length - 1];
        if (!own && prev !== undefined && !/^\s|^[-*•] |^--/.test(prev)) out[out.length - 1] = `${prev} ${line.trim()}`;
        else out.push(line);
      }
      return out.join('\n');
    })
    .join('\n\n');
}
