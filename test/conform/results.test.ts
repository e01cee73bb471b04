import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WireCheck } from '../../src/conform/check.js';
import { ReportSchema } from '../../src/conform/report.js';
import { REQUIREMENTS, type Level } from '../../src/conform/requirements.js';
import { finish, globRegex, readExpectedFailures, selectChecks, type FinishOptions, type RawResult } from '../../src/conform/results.js';
import type { Finding, Outcome } from '../../src/conform/verdict.js';
import { SPEC_SHA256, SPEC_VERSION } from '../../src/tape/format.js';
import { TOOL_VERSION } from '../../src/tape/paths.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { tapeDir } from '../helpers/tape.js';
import { refusal } from '../helpers/errors.js';

const file = tapeDir();
const of = (level: Level) => REQUIREMENTS.requirements.find((r) => r.level === level)!;
const MUST = of('MUST');
const SHOULD = of('SHOULD');
const MAY = of('MAY');

const check = (id: string, requirements = [MUST.id]): WireCheck => ({ kind: 'wire', id, title: `title of ${id}`, requirements, description: 'a check written for these tests', subjects: ['runtime'], judge: () => undefined });
const finding = (outcome: Outcome, message: string = outcome, extra: Partial<Finding> = {}): Finding => ({ requirement: MUST.id, outcome, message, ...extra });
const raw = (id: string, findings: Finding[], extra: Partial<RawResult> = {}): RawResult => ({ check: check(id), findings, durationMs: 12.4, ...extra });
const OPTS: FinishOptions = { mode: 'tape', target: 'x.tape', startedAt: new Date() };

describe('globRegex: check ids by glob', () => {
  it('* is any run (slashes too), ? one character, everything else literal, the whole id', () => {
    expect(globRegex('session/*').test('session/resume/gap-free-replay')).toBe(true);
    expect(globRegex('*').test('')).toBe(true);
    expect(globRegex('wire/se?/gap-free').test('wire/seq/gap-free')).toBe(true);
    expect(globRegex('wire/se?/gap-free').test('wire/se/gap-free')).toBe(false);
    expect(globRegex('wire').test('wire/seq')).toBe(false);
    expect(globRegex('seq').test('wire/seq')).toBe(false);
    expect(globRegex('a.b').test('axb')).toBe(false);
    expect(globRegex('a.b').test('a.b')).toBe(true);
    for (const lit of ['(x)+', 'a|b', '[ab]', '^x$', 'a{2}', 'a\\b', 'x+y']) {
      expect(globRegex(lit).test(lit), lit).toBe(true);
    }
    expect(globRegex('a|b').test('a')).toBe(false);
    expect(globRegex('x+y').test('xxy')).toBe(false);
  });
});

describe('selectChecks: --only and --skip', () => {
  const all = ['session/hello', 'session/resume/a', 'wire/seq/gap-free', 'jobs/cancel'].map((id) => ({ id }));
  const ids = (c: { id: string }[]) => c.map((x) => x.id);

  it('all of them without either; --only picks, --skip drops, and --skip wins over --only', () => {
    expect(ids(selectChecks(all))).toEqual(ids(all));
    expect(ids(selectChecks(all, ['session/*']))).toEqual(['session/hello', 'session/resume/a']);
    expect(ids(selectChecks(all, ['session/*', 'jobs/cancel']))).toEqual(['session/hello', 'session/resume/a', 'jobs/cancel']);
    expect(ids(selectChecks(all, [], ['session/*']))).toEqual(['wire/seq/gap-free', 'jobs/cancel']);
    expect(ids(selectChecks(all, ['session/*'], ['*/resume/*']))).toEqual(['session/hello']);
  });

  it('nothing left is a usage error naming the flags given', () => {
    const both = refusal(() => selectChecks(all, ['nope', 'nada'], ['x', 'y']));
    expect(both.code).toBe('E_USAGE');
    expect(both.message).toBe('no check matches --only nope nada --skip x y');
    expect(both.hint).toMatch(/arcp conform list/);
    expect(refusal(() => selectChecks(all, ['nope'])).message).toBe('no check matches --only nope');
    expect(refusal(() => selectChecks(all, [], ['*'])).message).toBe('no check matches --skip *');
    expect(refusal(() => selectChecks([])).message).toBe('no check matches');
  });
});

describe('readExpectedFailures: the baseline file', () => {
  it('one id or glob a line; # starts a comment; blank lines and spaces do not count', () => {
    const path = file('expected.txt');
    writeFileSync(path, '# known failures\nsession/hello\n\n  wire/*   # all wire checks\n#jobs/cancel\n   \n');
    expect(readExpectedFailures(path)).toEqual(['session/hello', 'wire/*']);
    const crlf = file('expected-crlf.txt');
    writeFileSync(crlf, '# known\r\nsession/hello\r\nwire/* # all wire checks\r\n');
    expect(readExpectedFailures(crlf)).toEqual(['session/hello', 'wire/*']);
  });

  it('a JSON array of ids works too, spaces before it allowed', () => {
    const path = file('expected.json');
    writeFileSync(path, '  \n ["a/b", "c/*"]\n');
    expect(readExpectedFailures(path)).toEqual(['a/b', 'c/*']);
  });

  it('a JSON array of other things, or broken JSON, is an input error naming the file', () => {
    for (const [name, text] of [['numbers.json', '[1, 2]'], ['mixed.json', '["a/b", 2]'], ['broken.json', '["a",'], ['object.json', '[{"id":"a"}]']]) {
      const path = file(name);
      writeFileSync(path, text);
      const e = refusal(() => readExpectedFailures(path));
      expect(e.code, name).toBe('E_INPUT');
      expect(e.message, name).toBe(`--expected-failures ${path} is not a JSON array of check ids`);
      expect(e.hint, name).toMatch(/one check id per line/);
    }
  });

  it('a file that cannot be read is an input error with the reason', () => {
    const path = file('missing.txt');
    const e = refusal(() => readExpectedFailures(path));
    expect(e.code).toBe('E_INPUT');
    expect(e.message).toBe(`cannot read --expected-failures ${path}: ENOENT`);
    expect(e.hint).toMatch(/one check id per line/);
  });
});

describe('finish: from findings to the report', () => {
  it('a check’s status is its worst finding; the reason is the first such finding’s message, with how many more', () => {
    const r = finish(
      [
        raw('a/fails', [finding('pass', 'fine'), finding('fail', 'first'), finding('warning', 'meh'), finding('fail', 'second'), finding('fail', 'third')]),
        raw('a/warns', [finding('warning', 'only one'), finding('pass', 'fine')]),
        raw('a/passes', [finding('pass', 'fine')]),
        raw('a/informs', [finding('info', 'chose x'), finding('skipped', 'no y')]),
        raw('a/empty', []),
        raw('a/skipped', [finding('fail', 'never looked at')], { skipped: 'needs a second principal' }),
      ],
      OPTS,
    );
    expect(r.checks.map((c) => [c.id, c.status, c.raw, c.reason])).toEqual([
      ['a/fails', 'fail', 'fail', 'first (+2 more)'],
      ['a/warns', 'warning', 'warning', 'only one'],
      ['a/passes', 'pass', 'pass', 'fine'],
      ['a/informs', 'info', 'info', 'chose x'],
      ['a/empty', 'skipped', 'skipped', 'nothing to judge'],
      ['a/skipped', 'skipped', 'skipped', 'needs a second principal'],
    ]);
    expect(r.summary).toEqual({ pass: 1, fail: 1, warning: 1, info: 1, skipped: 2, expected: 0, stale: 0 });
    expect(r.ok).toBe(false);
  });

  it('a skip whose findings are all skips gives the first skip’s message', () => {
    const r = finish([raw('a/none', [finding('skipped', 'no resume seen'), finding('skipped', 'no ack seen')])], OPTS);
    expect(r.checks[0]).toMatchObject({ status: 'skipped', reason: 'no resume seen (+1 more)' });
  });

  it('a report without failures is ok; each result carries its check, level, §, findings and a whole number of ms', () => {
    const c = { ...check('b/one', [MAY.id, SHOULD.id, MAY.id]) };
    const r = finish([{ check: c, findings: [finding('pass', 'fine')], durationMs: 7.6, tape: 'b.tape' }, raw('b/two', [finding('warning', 'hm')])], OPTS);
    expect(r.ok).toBe(true);
    expect(r.checks[0]).toEqual({
      id: 'b/one',
      kind: 'wire',
      title: 'title of b/one',
      level: 'SHOULD',
      requirements: [MAY.id, SHOULD.id, MAY.id],
      sections: [...new Set([MAY.section, SHOULD.section])],
      status: 'pass',
      raw: 'pass',
      reason: 'fine',
      findings: [finding('pass', 'fine')],
      durationMs: 8,
      tape: 'b.tape',
    });
    expect(r.checks[1].durationMs).toBe(12);
    expect('tape' in r.checks[1]).toBe(false);
    expect('baseline' in r.checks[1]).toBe(false);
  });

  it('the report names the tool, the spec, the run, how long it took, and fits its schema', () => {
    const startedAt = new Date(Date.now() - 5000);
    const r = finish([raw('c/x', [finding('pass')])], { mode: 'server', target: 'ws://127.0.0.1:1', startedAt, tapes: 'tapes/' });
    expect(ReportSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({ format: 'arcp-conform-report/1', tool: { name: 'arcp', version: TOOL_VERSION }, spec: { version: SPEC_VERSION, sha256: SPEC_SHA256 }, mode: 'server', target: 'ws://127.0.0.1:1', startedAt: startedAt.toISOString(), strict: false, notes: [], tapes: 'tapes/' });
    expect(r.durationMs).toBeGreaterThanOrEqual(5000);
    expect(r.durationMs).toBeLessThan(60_000);
    const plain = finish([raw('c/x', [finding('pass')])], OPTS);
    expect('tapes' in plain).toBe(false);
    expect('records' in plain).toBe(false);
  });

  it('warnings about the run as a whole count among the warnings; notes at info do not', () => {
    const r = finish([raw('c/x', [finding('warning')])], { ...OPTS, notes: [{ level: 'warning', message: 'pinned to another spec' }, { level: 'info', message: 'fyi' }, { level: 'warning', message: 'and another' }] });
    expect(r.summary.warning).toBe(3);
    expect(r.notes).toHaveLength(3);
    expect(r.ok).toBe(true);
  });

  it('--strict fails a skip and a deviation, saying why; a failure stays as it was', () => {
    const deviation = { kind: 'v1.0 form' as const, quote: 'q', section: '3' };
    const rows = [
      raw('d/skipped', [], { skipped: 'needs an observer' }),
      raw('d/deviates', [finding('pass', 'fine'), finding('warning', 'v1.0 form: x', { deviation })]),
      raw('d/fails', [finding('fail', 'broken'), finding('warning', 'v1.0 form: y', { deviation })]),
      raw('d/warns', [finding('warning', 'plain warning')]),
    ];
    const strict = finish(rows, { ...OPTS, strict: true });
    expect(strict.strict).toBe(true);
    expect(strict.checks.map((c) => [c.status, c.raw, c.reason])).toEqual([
      ['fail', 'skipped', 'skipped, which --strict fails: needs an observer'],
      ['fail', 'warning', '--strict fails deviations from the draft: v1.0 form: x'],
      ['fail', 'fail', 'broken'],
      ['warning', 'warning', 'plain warning'],
    ]);
    expect(strict.summary).toMatchObject({ fail: 3, warning: 1, skipped: 0 });
    const lenient = finish(rows, OPTS);
    expect(lenient.checks.map((c) => c.status)).toEqual(['skipped', 'warning', 'fail', 'warning']);
  });

  it('expected failures: a listed failure is not counted and the run is ok; a listed check that does not fail is stale and fails the run', () => {
    const rows = [raw('e/broken', [finding('fail', 'broken')]), raw('e/fixed', [finding('pass')]), raw('f/other', [finding('pass')])];
    const r = finish(rows, { ...OPTS, expectedFailures: ['e/broken'] });
    expect(r.checks.map((c) => c.baseline)).toEqual(['expected', undefined, undefined]);
    expect(r.summary).toMatchObject({ fail: 0, pass: 2, expected: 1, stale: 0 });
    expect(r.ok).toBe(true);
    const stale = finish(rows, { ...OPTS, expectedFailures: ['e/*'] });
    expect(stale.checks.map((c) => c.baseline)).toEqual(['expected', 'stale', undefined]);
    expect(stale.summary).toMatchObject({ fail: 0, pass: 2, expected: 1, stale: 1 });
    expect(stale.ok).toBe(false);
  });

  it('an expected failure that names no check of the run is an input error', () => {
    const e = refusal(() => finish([raw('e/broken', [finding('fail')])], { ...OPTS, expectedFailures: ['e/broken', 'e/gone'] }));
    expect(e.code).toBe('E_INPUT');
    expect(e.message).toBe('expected failure "e/gone" names no check of this run');
    expect(e.hint).toMatch(/arcp conform list.*remove the line/);
  });

  it('--records: every cited tape (a check’s, a finding’s, those read besides) once, sorted; a check links to its tape’s records', async () => {
    const tapes = await Promise.all(['b.tape', 'a.tape', 'read.tape'].map(async (name) => {
      const w = await TapeWriter.create({ path: file(name), commandLine: [], redaction: defaultRules() });
      await w.close();
      return w.path;
    }));
    const [good, other, read] = tapes;
    const missing = file('missing.tape');
    const r = finish(
      [raw('g/one', [finding('pass', 'ok', { tape: other, seqs: [1] })], { tape: good }), raw('g/two', [finding('pass')], { tape: missing }), raw('g/three', [finding('pass')])],
      { ...OPTS, records: true, readTapes: [read, good] },
    );
    expect(r.records!.map((a) => a.tape)).toEqual([other, good, missing, read].sort());
    expect(r.checks[0].records).toBe(good.replace(/\.tape$/, '.records.json'));
    expect(existsSync(r.checks[0].records!)).toBe(true);
    expect(r.records!.find((a) => a.tape === missing)).toEqual({ tape: missing, error: expect.stringMatching(/missing\.tape/) });
    expect('records' in r.checks[1]).toBe(false);
    expect('records' in r.checks[2]).toBe(false);
    const cited = finish([raw('g/one', [finding('pass')], { tape: good })], { ...OPTS, records: true });
    expect(cited.records!.map((a) => a.tape)).toEqual([good]);
  });
});
