import { OUTPUTS, type Output, type OutputName } from './schemas.js';

/**
 * One `--json` line: the body under its schema name, parsed by that schema. A body that does not
 * fit is our bug, not the user's: under ARCP_STRICT_JSON=1 (the test suite) it throws, so the
 * schema and the output cannot drift apart unnoticed; for users the line is written as it is
 * (their script gets its data) and one line on stderr names the mismatch.
 */
export function jsonLine<N extends OutputName>(name: N, body: Output<N>, env: NodeJS.ProcessEnv = process.env): string {
  const doc = { schema: name, ...body };
  const r = OUTPUTS[name].safeParse(doc);
  if (r.success) return JSON.stringify(r.data) + '\n';
  const issue = r.error.issues[0];
  const what = `--json output does not fit its schema ${name} at /${issue.path.join('/')}: ${issue.message}`;
  if (env.ARCP_STRICT_JSON === '1') throw new Error(what);
  process.stderr.write(`arcp: warning: ${what} (a bug in arcp: please report it)\n`);
  return JSON.stringify(doc) + '\n';
}
