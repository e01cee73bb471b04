import { describe, expect, it } from 'vitest';
import { REQUIREMENTS, type Level } from '../../src/conform/requirements.js';
import { Judge, overall, worse, type Finding, type Outcome } from '../../src/conform/verdict.js';

/** A requirement of each level, from the requirements file itself. */
const of = (level: Level) => REQUIREMENTS.requirements.find((r) => r.level === level)!;
const MUST = of('MUST');
const MUST_NOT = of('MUST NOT');
const SHOULD = of('SHOULD');
const MAY = of('MAY');

const judged = (act: (j: Judge) => void): Finding[] => {
  const j = new Judge();
  act(j);
  return j.findings;
};

describe('Judge: one check’s findings', () => {
  it('a pass is the requirement, the outcome and the message, and no more keys when nothing is cited', () => {
    expect(judged((j) => j.pass(MUST.id, 'welcome has its fields'))).toEqual([{ requirement: MUST.id, outcome: 'pass', message: 'welcome has its fields' }]);
  });

  it('evidence: numbers and logged frames, undefined left out, seqs once each in numeric order; the tape is the first one named', () => {
    const [f] = judged((j) => j.pass(MUST.id, 'ok', 10, undefined, { seq: 2 }, { seq: 33, tape: 'a.tape' }, 2, { seq: 9, tape: 'b.tape' }));
    expect(f.seqs).toEqual([2, 9, 10, 33]);
    expect(f.tape).toBe('a.tape');
    const [bare] = judged((j) => j.pass(MUST.id, 'ok', undefined, undefined));
    expect(Object.keys(bare).sort()).toEqual(['message', 'outcome', 'requirement']);
    const [noTape] = judged((j) => j.pass(MUST.id, 'ok', 4, { seq: 5 }));
    expect(noTape).toEqual({ requirement: MUST.id, outcome: 'pass', message: 'ok', seqs: [4, 5] });
  });

  it('an unknown requirement id is a bug of the suite: it throws, whatever the finding', () => {
    for (const act of [(j: Judge) => j.pass('9.9/nope', 'x'), (j: Judge) => j.info('9.9/nope', 'x'), (j: Judge) => j.notExercised('9.9/nope', 'x'), (j: Judge) => j.violation('9.9/nope', 'x')]) {
      expect(() => judged(act)).toThrow(/unknown requirement id "9\.9\/nope"/);
    }
  });

  it('a violation follows the level: MUST and MUST NOT fail, SHOULD and SHOULD NOT warn, MAY informs', () => {
    const outcomes = [MUST, MUST_NOT, SHOULD, MAY].map((r) => judged((j) => j.violation(r.id, 'broken', [7]))[0]);
    expect(outcomes.map((f) => f.outcome)).toEqual(['fail', 'fail', 'warning', 'info']);
    // The file has no SHOULD NOT sentence (yet): the level is given with `as`.
    expect(judged((j) => j.violation(MUST.id, 'broken', [], 'SHOULD NOT'))[0].outcome).toBe('warning');
    expect(outcomes[0]).toEqual({ requirement: MUST.id, outcome: 'fail', message: 'broken', seqs: [7] });
    expect(judged((j) => j.violation(MUST.id, 'nothing cited'))).toEqual([{ requirement: MUST.id, outcome: 'fail', message: 'nothing cited' }]);
  });

  it('a violation `as` another level takes that level’s outcome, up or down', () => {
    expect(judged((j) => j.violation(MUST.id, 'lowered', [], 'SHOULD'))[0].outcome).toBe('warning');
    expect(judged((j) => j.violation(MAY.id, 'raised', [], 'MUST'))[0].outcome).toBe('fail');
    expect(judged((j) => j.violation(SHOULD.id, 'lowered', [], 'MAY'))[0].outcome).toBe('info');
  });

  it('expect: a pass with the pass message, or a violation with the other, its evidence and level; returns which', () => {
    const j = new Judge();
    expect(j.expect(true, MUST.id, 'fine', 'broken', [3])).toBe(true);
    expect(j.expect(false, MUST.id, 'fine', 'broken', [4])).toBe(false);
    expect(j.expect(false, MUST.id, 'fine', 'lowered', [], 'SHOULD')).toBe(false);
    expect(j.expect(false, SHOULD.id, 'fine', 'warned')).toBe(false);
    expect(j.findings).toEqual([
      { requirement: MUST.id, outcome: 'pass', message: 'fine', seqs: [3] },
      { requirement: MUST.id, outcome: 'fail', message: 'broken', seqs: [4] },
      { requirement: MUST.id, outcome: 'warning', message: 'lowered' },
      { requirement: SHOULD.id, outcome: 'warning', message: 'warned' },
    ]);
  });

  it('info and note inform, with their evidence; not exercised is a skip with no evidence', () => {
    expect(judged((j) => j.info(MUST.id, 'chose x', 5))).toEqual([{ requirement: MUST.id, outcome: 'info', message: 'chose x', seqs: [5] }]);
    expect(judged((j) => j.note(SHOULD.id, 'chose y', { seq: 6, tape: 't.tape' }))).toEqual([{ requirement: SHOULD.id, outcome: 'info', message: 'chose y', seqs: [6], tape: 't.tape' }]);
    expect(judged((j) => j.notExercised(MUST.id, 'no resume in this traffic'))).toEqual([{ requirement: MUST.id, outcome: 'skipped', message: 'no resume in this traffic' }]);
  });

  it('a deviation warns, quoting the draft’s sentence and its §, and carries what --strict needs to fail it', () => {
    const [f] = judged((j) => j.deviation(MUST.id, 'v1.0 form', 'sent "ack" as a number', 8));
    expect(f).toEqual({
      requirement: MUST.id,
      outcome: 'warning',
      message: `v1.0 form: sent "ack" as a number; draft §${MUST.section}: "${MUST.text}"`,
      seqs: [8],
      deviation: { kind: 'v1.0 form', quote: MUST.text, section: MUST.section },
    });
  });
});

describe('overall and worse: what findings come to', () => {
  const ORDER: Outcome[] = ['skipped', 'info', 'pass', 'warning', 'fail'];
  const f = (outcome: Outcome): Finding => ({ requirement: MUST.id, outcome, message: outcome });

  it('no findings, or only skips, is skipped; otherwise the worst: fail over warning over pass over info', () => {
    expect(overall([])).toBe('skipped');
    expect(overall([f('skipped'), f('skipped')])).toBe('skipped');
    expect(overall([f('skipped'), f('info')])).toBe('info');
    expect(overall([f('info'), f('pass'), f('skipped')])).toBe('pass');
    expect(overall([f('pass'), f('warning'), f('info')])).toBe('warning');
    expect(overall([f('warning'), f('fail'), f('pass')])).toBe('fail');
    expect(overall([f('fail'), f('warning')])).toBe('fail');
  });

  it('worse of two is the one later in skipped < info < pass < warning < fail, either way round', () => {
    for (const [i, a] of ORDER.entries()) for (const [k, b] of ORDER.entries()) expect(worse(a, b), `${a} vs ${b}`).toBe(ORDER[Math.max(i, k)]);
  });
});
