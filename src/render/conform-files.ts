import { writeFileSync } from 'node:fs';
import type { ConformReport } from '../conform/report.js';
import { ToolError } from '../errors.js';
import { junitXml } from './conform-junit.js';
import { conformanceMarkdown } from './conform-markdown.js';

/** Writes the files a run was asked for: --junit FILE, --markdown FILE. */
export function writeReportFiles(r: ConformReport, o: { junit?: string; markdown?: string }): void {
  const write = (flag: string, path: string, text: string) => {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new ToolError('E_IO', `cannot write --${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that the folder exists and is writable');
    }
  };
  if (o.junit) write('junit', o.junit, junitXml(r));
  if (o.markdown) write('markdown', o.markdown, conformanceMarkdown(r));
}
