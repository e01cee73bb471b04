import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { ToolError } from '../../errors.js';

/** A file to export into: an existing one only with `force` (a HAR or JSONL written over by mistake is lost). */
export function openOutput(path: string, force = false): WriteStream {
  if (existsSync(path) && !force) throw new ToolError('E_USAGE', `${path} already exists`, 'pass --force to replace it, or another -o path');
  return createWriteStream(path);
}
