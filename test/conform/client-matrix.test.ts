import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClientSuite } from '../../src/conform/client/run.js';
import type { ConformReport } from '../../src/conform/report.js';
import { pool } from '../../src/conform/runner.js';
import { worseThan } from './helpers.js';

const CLIENT = join(import.meta.dirname, 'peers/stranger-client.mjs');

/** Each a one-rule variation of the stranger client (see BREAKS in stranger-client.mjs), and the checks meant to catch it. */
export const BROKEN_CLIENTS: { name: string; caughtBy: string[] }[] = [
  { name: 'wrong-auth-scheme', caughtBy: ['client/hello/shape'] },
  { name: 'no-pong', caughtBy: ['client/heartbeat/pong'] },
  { name: 'silent-when-idle', caughtBy: ['client/heartbeat/idle-traffic'] },
  { name: 'ack-beyond-delivered', caughtBy: ['wire/ack/within-delivered'] },
  { name: 'ack-goes-back', caughtBy: ['wire/ack/monotonic'] },
  { name: 'ack-every-event', caughtBy: ['wire/ack/rate'] },
  { name: 'ack-without-feature', caughtBy: ['wire/features/within-intersection'] },
  { name: 'unknown-fields-crash', caughtBy: ['client/envelope/unknown-fields'] },
  { name: 'vendor-kind-crash', caughtBy: ['client/events/vendor-kinds'] },
  { name: 'unknown-scheme-crash', caughtBy: ['client/credentials/unknown-scheme'] },
  { name: 'chunks-not-decoded', caughtBy: ['client/result-chunk/reassembly'] },
  { name: 'stale-resume-token', caughtBy: ['client/resume/after-drop'] },
  { name: 'no-reconnect', caughtBy: ['client/resume/after-drop'] },
  { name: 'ignores-gap', caughtBy: ['client/seq/gap-resume'] },
  { name: 'cancels-subscribed', caughtBy: ['client/subscribe/no-cancel'] },
  { name: 'no-close-message', caughtBy: ['client/session/close'] },
];

const suite = (variant: string) => runClientSuite({ command: [process.execPath, CLIENT, variant], tapes: false, jobs: 4, only: process.env.ONLY ? [process.env.ONLY] : undefined });
const ONLY_B = process.env.BROKEN;
let faithful: ConformReport;
const runs = new Map<string, ConformReport>();
const rows: string[] = [];

beforeAll(async () => {
  faithful = await suite('none');
  await pool(BROKEN_CLIENTS.filter((b) => !ONLY_B || b.name === ONLY_B), 2, async (b) => {
    runs.set(b.name, await suite(b.name));
  });
}, 600_000);

afterAll(() => {
  if (rows.length) console.log(['broken client matrix (each a one-rule variation of the stranger client):', ...rows.map((r) => `  ${r}`)].join('\n'));
});

describe('the client suite against clients written for the tests', () => {
  it('the faithful stranger client (the reference SDK’s forms) fails nothing; its warnings name the v1.0 forms', () => {
    expect(faithful.summary.fail, faithful.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.reason}`).join('\n')).toBe(0);
    for (const c of faithful.checks.filter((x) => x.status === 'warning')) for (const f of c.findings.filter((x) => x.outcome === 'warning')) expect(f.deviation, `${c.id}: ${f.message}`).toBeDefined();
    expect(faithful.checks.find((c) => c.id === 'client/session/close')!.findings[0].deviation?.kind).toBe('v1.0 form');
    expect(faithful.checks.find((c) => c.id === 'client/resume/after-drop')!.findings.some((f) => f.deviation?.kind === 'v1.0 form')).toBe(true);
  });

  for (const b of BROKEN_CLIENTS.filter((x) => !ONLY_B || x.name === ONLY_B)) {
    it(`${b.name} is caught by ${b.caughtBy.join(', ')} and by nothing else`, () => {
      const got = worseThan(faithful, runs.get(b.name)!);
      const ids = got.map((c) => c.id).sort();
      rows.push(`${b.name.padEnd(22)} ${ids.map((id) => `${id} ${got.find((c) => c.id === id)!.status}`).join(', ') || 'NOT CAUGHT'}`);
      expect(ids, got.map((c) => `${c.id}: ${c.reason}`).join('\n')).toEqual([...b.caughtBy].sort());
    });
  }
});
