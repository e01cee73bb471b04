import { OUTPUTS, type Output, type OutputName } from './schemas.js';

/**
 * One `--json` line: the body under its schema name, parsed by that schema (a field the schema
 * does not know is an error here, not a silent change in what scripts read).
 */
export function jsonLine<N extends OutputName>(name: N, body: Output<N>): string {
  return JSON.stringify(OUTPUTS[name].parse({ schema: name, ...body })) + '\n';
}
