import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachTapeRecords } from '../../src/conform/records.js';
import { ReportSchema, type ConformReport } from '../../src/conform/report.js';
import { RecordsDocument } from '../../src/records/schema.js';
import { verifyRecords } from '../../src/records/verify.js';
import { arcp, BIN } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { serveCli } from './processes.js';

/**
 * `arcp conform … --records`: the suite runs against `arcp serve` (a child process) over real
 * sockets, and each check's tape gets its execution records beside it, listed in the report
 * and true of the tape. Without the flag nothing is written beside the tapes.
 */
const file = tapeDir();
const CHECKS = ['jobs/cancel/acknowledged', 'errors/agent-failures', 'lease/budget/exhausted-at-zero', 'delegation/subset', 'lease/enforcement/permission-denied'];
let report: ConformReport;
let human = '';

const docOf = (check: string) => RecordsDocument.parse(JSON.parse(readFileSync(report.checks.find((c) => c.id === check)!.records!, 'utf8')));

beforeAll(async () => {
  const serve = await serveCli(['--token', 'tok=alice']);
  try {
    const only = CHECKS.flatMap((c) => ['--only', c]);
    const r = await arcp(['conform', 'server', serve.url, '--token', 'tok', ...only, '--tapes', file('tapes'), '--records', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    report = ReportSchema.parse(JSON.parse(r.stdout));
  } finally {
    await serve.stop();
  }
  const h = await arcp(['conform', 'tape', report.checks[0].tape!, '--records']);
  expect(h.exitCode, h.stderr).toBe(0);
  human = h.stdout;
}, 120_000);

describe('arcp conform --records', () => {
  it('every check\'s tape has its records beside it, named by the check and listed in the report, true of the tape', () => {
    expect(report.checks.map((c) => c.status)).toEqual(CHECKS.map(() => 'pass'));
    expect(report.records).toHaveLength(CHECKS.length);
    for (const c of report.checks) {
      expect(c.records).toBe(c.tape!.replace(/\.tape$/, '.records.json'));
      const listed = report.records!.find((a) => a.tape === c.tape)!;
      expect(listed).toMatchObject({ file: c.records, fingerprint: docOf(c.id).tape.fingerprint, records: docOf(c.id).records.length });
      expect(verifyRecords(c.records!, c.tape!).differences).toEqual([]);
    }
  });

  it('the records say what each check provoked: the cancel, the crash, the budget, the delegation, the denial', () => {
    const kinds = (check: string) => docOf(check).records.map((r) => `${r.kind} ${r.event.status}${r.event.error?.code ? ` ${r.event.error.code}` : ''}`);
    expect(kinds('jobs/cancel/acknowledged')).toEqual(expect.arrayContaining(['job error CANCELLED', 'cancel ok']));
    expect(kinds('errors/agent-failures')).toContain('job error INTERNAL_ERROR');
    expect(kinds('lease/budget/exhausted-at-zero')).toEqual(expect.arrayContaining(['job error BUDGET_EXHAUSTED', 'tool ok', 'tool error BUDGET_EXHAUSTED']));
    expect(kinds('delegation/subset')).toEqual(expect.arrayContaining(['delegation ok', 'delegation error LEASE_SUBSET_VIOLATION']));
    expect(kinds('lease/enforcement/permission-denied')).toContain('tool error PERMISSION_DENIED');
    const budget = report.records!.find((a) => a.tape === report.checks.find((c) => c.id === 'lease/budget/exhausted-at-zero')!.tape);
    expect(budget).toMatchObject({ byKind: { tool: expect.any(Number) }, errors: expect.any(Number) });
  });

  it('conform tape --records writes them for the tapes it reads, and the summary says where', () => {
    expect(human).toMatch(/records of 1 tapes beside them \(<tape>\.records\.json; check one with `arcp tape records --verify/);
  });

  it('conform client --records: the scenario tapes (the suite playing the runtime) get theirs too', async () => {
    const r = await arcp(['conform', 'client', '--only', 'client/hello/shape', '--only', 'client/envelope/unknown-fields', '--tapes', file('client'), '--records', '--json', '--', process.execPath, BIN, 'conform', 'driver']);
    expect(r.exitCode, r.stderr).toBe(0);
    const client = ReportSchema.parse(JSON.parse(r.stdout));
    expect(client.records?.length).toBeGreaterThan(0);
    for (const a of client.records!) {
      expect('file' in a, JSON.stringify(a)).toBe(true);
      if ('file' in a) expect(verifyRecords(a.file, a.tape).differences).toEqual([]);
    }
    expect(client.checks.every((c) => c.records === c.tape!.replace(/\.tape$/, '.records.json'))).toBe(true);
  }, 90_000);

  it('a tape records cannot be derived from is listed with the reason, beside the others\' records', () => {
    const good = report.checks[0].tape!;
    const broken = file('broken.tape');
    writeFileSync(broken, 'not a tape at all');
    const listed = attachTapeRecords([broken, good, good]);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toEqual({ tape: broken, error: expect.stringMatching(/broken\.tape/) });
    expect(listed[1]).toMatchObject({ tape: good, file: good.replace(/\.tape$/, '.records.json') });
  });

  it('without --records nothing is written beside the tapes', async () => {
    const serve = await serveCli(['--token', 'tok=alice']);
    try {
      const r = await arcp(['conform', 'server', serve.url, '--token', 'tok', '--only', 'errors/agent-failures', '--tapes', file('plain'), '--json']);
      const plain = ReportSchema.parse(JSON.parse(r.stdout));
      expect(plain.records).toBeUndefined();
      expect(plain.checks[0].records).toBeUndefined();
      expect(existsSync(plain.checks[0].tape!.replace(/\.tape$/, '.records.json'))).toBe(false);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
