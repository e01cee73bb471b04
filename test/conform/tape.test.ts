import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConformReport } from '../../src/conform/report.js';
import { ReportSchema } from '../../src/conform/report.js';
import { runTapeSuite } from '../../src/conform/tape.js';
import { SPEC_SHA256 } from '../../src/tape/format.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { CAPTURES_DIR, captureFiles, readCapture } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const reports = new Map<string, ConformReport>();
const messages = (r: ConformReport, outcome: 'fail' | 'warning') => r.checks.flatMap((c) => c.findings.filter((f) => f.outcome === outcome).map((f) => `${c.id}: ${f.message}`));

/**
 * What wire-notes.md says each capture shows beyond the v1.0 forms every capture has
 * (session.bye, the 32-hex trace_id): the reports must name it. Captures not listed here are
 * the ones the notes do not flag.
 */
const FLAGGED: Record<string, { fail?: RegExp[]; warning?: RegExp[] }> = {
  'resume.jsonl': { fail: [/RESUME_WINDOW_EXPIRED for last_event_seq 9, the latest seq/], warning: [/v1\.0 form: B: resume inside session\.hello; draft §6\.3: "A client reconnecting/] },
  'resume-midjob.jsonl': { fail: [/in flight when connection A dropped.*the job was lost/] },
  'bye-midjob.jsonl': { fail: [/in flight when connection A closed the session.*the job was lost/] },
  'subscribe.jsonl': { warning: [/deviates from draft: B: 4 history events before job\.subscribed; draft §7\.6: "If `false`, the client only sees events emitted after subscription is acknowledged\."/] },
  'credentials.jsonl': { warning: [/deviates from draft: A: credential constraints \["allowed_models","max_spend"\]; draft §9\.8\.1/] },
  'agent-versions.jsonl': { warning: [/v1\.0 form: A: job\.submit refused with session\.error AGENT_VERSION_NOT_AVAILABLE, not job\.error/] },
};

beforeAll(async () => {
  for (const f of captureFiles()) {
    await importJsonl({ source: join(CAPTURES_DIR, f), tape: tape(f.replace('.jsonl', '.tape')) });
    reports.set(f, runTapeSuite({ tapes: [tape(f.replace('.jsonl', '.tape'))] }));
  }
}, 60_000);

describe('conform tape over every peer capture (imported)', () => {
  for (const f of captureFiles()) {
    it(`${f}: ${FLAGGED[f]?.fail ? 'fails where wire-notes.md says the peer goes wrong' : 'no check fails'}; the differences the wire notes list are named`, () => {
      const r = reports.get(f)!;
      const fails = messages(r, 'fail');
      const warns = messages(r, 'warning');
      for (const re of FLAGGED[f]?.fail ?? []) expect(fails.some((m) => re.test(m)), `${re}\n${fails.join('\n')}`).toBe(true);
      // Nothing else fails: no false red on what the draft allows.
      expect(fails.filter((m) => !(FLAGGED[f]?.fail ?? []).some((re) => re.test(m))), fails.join('\n')).toEqual([]);
      expect(r.ok).toBe(!FLAGGED[f]?.fail);
      for (const re of FLAGGED[f]?.warning ?? []) expect(warns.some((m) => re.test(m)), `${re}\n${warns.join('\n')}`).toBe(true);
      // A capture whose client ends with session.bye (the v1.0 form) says so.
      if (readCapture(f).some((l) => l.dir === 'c2s' && l.raw?.includes('"type":"session.bye"'))) expect(warns.some((m) => /v1\.0 form: .*session\.bye; draft §6\.7: "The client sends `session\.close`/.test(m)), warns.join('\n')).toBe(true);
      // Every warning of the draft-forms check is a named difference that quotes the draft.
      for (const c of r.checks.filter((x) => x.id === 'wire/forms/draft')) for (const x of c.findings.filter((y) => y.outcome === 'warning')) expect(x.deviation?.quote.length).toBeGreaterThan(10);
    });
  }

  it('judging the client too (--subject both) catches what the captures’ clients do on purpose: acks without `ack`, acks on every event', () => {
    const features = runTapeSuite({ tapes: [tape('features.tape')], subjects: ['runtime', 'client'] });
    expect(messages(features, 'fail')).toContain('wire/features/within-intersection: P: the client sent session.ack without `ack` negotiated');
    const ack = runTapeSuite({ tapes: [tape('ack.tape')], subjects: ['runtime', 'client'] });
    expect(messages(ack, 'warning').some((m) => /wire\/ack\/rate: 51 acks \d+ ms apart on average/.test(m)), messages(ack, 'warning').join('\n')).toBe(true);
  });

  it('evidence points at the tape frames: the seqs `arcp tape show` prints', async () => {
    const r = reports.get('resume.jsonl')!;
    const f = r.checks.flatMap((c) => c.findings).find((x) => x.outcome === 'fail' && /RESUME_WINDOW_EXPIRED/.test(x.message))!;
    expect(f.seqs!.length).toBeGreaterThan(0);
    const show = await arcp(['tape', 'show', tape('resume.tape'), '--from', String(f.seqs![f.seqs!.length - 1]), '--limit', '1']);
    expect(show.stdout).toMatch(/session\.error/);
  });

  it('the CLI: exit 0 on a clean capture, 1 on one that fails, --json that fits the versioned schema', async () => {
    const ok = await arcp(['conform', 'tape', tape('cancel.tape'), '--json']);
    expect(ok.exitCode).toBe(0);
    expect(ReportSchema.parse(JSON.parse(ok.stdout)).format).toBe('arcp-conform-report/1');
    const bad = await arcp(['conform', 'tape', tape('resume-midjob.tape')]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/not conformant/);
    expect(bad.stdout).toMatch(/§6\.3 Resume/);
    const none = await arcp(['conform', 'tape', tape('no-such.tape')]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('a tape pinned to another spec text', () => {
  let foreign = '';
  beforeAll(() => {
    foreign = tape('foreign-spec.tape');
    copyFileSync(tape('cancel.tape'), foreign);
    const db = new Database(foreign);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'spec_sha256'").run(JSON.stringify('0'.repeat(64)));
    db.close();
  });

  it('conform tape judges it, with a warning naming both hashes', () => {
    const r = runTapeSuite({ tapes: [foreign] });
    expect(r.notes).toEqual([{ level: 'warning', message: expect.stringContaining(`sha256 ${'0'.repeat(64)}; this arcp implements sha256 ${SPEC_SHA256}`) }]);
    expect(r.summary.warning).toBe(reports.get('cancel.jsonl')!.summary.warning + 1);
  });

  it('arcp replay and arcp diff note it', async () => {
    const diff = await arcp(['diff', tape('cancel.tape'), foreign, '--json']);
    expect(JSON.parse(diff.stdout).notes.join()).toMatch(new RegExp(`${'0'.repeat(64)}; this arcp implements sha256 ${SPEC_SHA256}`));
    const own = await arcp(['diff', tape('cancel.tape'), tape('cancel.tape'), '--json']);
    expect(JSON.parse(own.stdout).notes.join()).not.toMatch(/recorded against spec text/);
    const rt = await startRuntime();
    try {
      const replay = await arcp(['replay', foreign, '--target', rt.url, '--token', 'tok', '--json', '--timeout', '3']);
      expect(JSON.parse(replay.stdout).notes.join()).toMatch(new RegExp(`${'0'.repeat(64)}; this arcp implements sha256 ${SPEC_SHA256}`));
    } finally {
      await rt.close();
    }
  });
});
