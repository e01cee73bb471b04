import { beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { fire, MAX_DELAY_MS, parseFault, unfiredNotes } from '../../src/replay/faults.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

/** The line a user gets for a --fault spec, or the parsed fault. */
function parsed(spec: string): unknown {
  try {
    return parseFault(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ToolError);
    const t = e as ToolError;
    expect(t.code).toBe('E_USAGE');
    expect(t.hint).toContain('--fault drop@42');
    return t.message;
  }
}

describe('--fault specs', () => {
  it('parses each kind, with the seq and delay it names', () => {
    expect(parsed('drop@42')).toEqual({ kind: 'drop', seq: 42, spec: 'drop@42' });
    expect(parsed('drop@1')).toMatchObject({ seq: 1 }); // the first frame is one
    expect(parsed(' duplicate@7 ')).toEqual({ kind: 'duplicate', seq: 7, spec: ' duplicate@7 ' });
    expect(parsed('delay@3=500')).toEqual({ kind: 'delay', seq: 3, ms: 500, spec: 'delay@3=500' });
    expect(MAX_DELAY_MS).toBe(86_400_000); // a day: Node's timers wrap past 2^31 - 1 ms
    expect(parsed(`delay@3=${MAX_DELAY_MS}`)).toMatchObject({ ms: MAX_DELAY_MS });
  });

  it('refuses what is not a fault, each with the reason', () => {
    expect(parsed('explode@3')).toBe('--fault "explode@3" is not drop@SEQ, delay@SEQ=MS or duplicate@SEQ');
    expect(parsed('xdrop@3')).toMatch(/is not drop@SEQ/);
    expect(parsed('drop@3x')).toMatch(/is not drop@SEQ/);
    expect(parsed('drop@')).toMatch(/is not drop@SEQ/);
    expect(parsed('drop@0')).toBe('--fault "drop@0": seq 0 is not a frame (a tape\'s seqs start at 1)');
    expect(parsed('drop@99999999999999999')).toMatch(/seq 99999999999999999 is not a frame/);
    expect(parsed('delay@3')).toBe('--fault "delay@3": delay needs =MS');
    expect(parsed(`delay@3=${MAX_DELAY_MS + 1}`)).toBe(`--fault "delay@3=${MAX_DELAY_MS + 1}": a delay of ${MAX_DELAY_MS + 1} ms is more than a day (at most ${MAX_DELAY_MS})`);
    expect(parsed('drop@3=5')).toBe('--fault "drop@3=5": only delay takes =MS');
    expect(parsed('duplicate@3=5')).toBe('--fault "duplicate@3=5": only delay takes =MS');
  });

  it('fires only the fault of that kind at that frame, and marks it', () => {
    const faults = [parseFault('drop@5'), parseFault('duplicate@6')];
    expect(fire(faults, 'drop', 6)).toBeUndefined();
    expect(fire(faults, 'duplicate', 5)).toBeUndefined();
    expect(faults.map((f) => f.fired)).toEqual([undefined, undefined]);
    expect(fire(faults, 'drop', 5)).toBe(faults[0]);
    expect(faults.map((f) => f.fired)).toEqual([true, undefined]);
  });
});

describe('faults that never fired', () => {
  let path = '';
  /** Three frames: the client's hello (1), the runtime's welcome (2), the client's close (3). */
  beforeAll(async () => {
    path = tape('three.tape');
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const ch = w.channel('ws', 'test');
    w.frame(ch, 'c2s', 'ws.text', '{"type":"session.hello"}');
    w.frame(ch, 's2c', 'ws.text', '{"type":"session.welcome"}');
    w.frame(ch, 'c2s', 'ws.close', '{"code":1000,"reason":""}');
    await w.close();
  });

  it('say why each did not: past the end, a frame the runtime side does not send, or not reached', () => {
    const faults = ['drop@99', 'delay@1=5', 'duplicate@3', 'duplicate@2', 'drop@1', 'delay@2=5'].map(parseFault);
    fire(faults, 'delay', 2);
    expect(unfiredNotes(faults, path)).toEqual([
      'fault drop@99 never fired: the tape has 3 frames',
      'fault delay@1=5 never fired: frame 1 is not one the runtime side sends (c2s ws.text); delay and duplicate act on those',
      'fault duplicate@3 never fired: frame 3 is not one the runtime side sends (c2s ws.close); delay and duplicate act on those',
      'fault duplicate@2 never fired: the replay did not reach frame 2',
      'fault drop@1 never fired: the replay did not reach frame 1',
    ]);
  });

  it('none when every fault fired, without reading the tape', () => {
    const faults = [parseFault('drop@1')];
    fire(faults, 'drop', 1);
    expect(unfiredNotes(faults, tape('not-there.tape'))).toEqual([]);
    expect(unfiredNotes([], tape('not-there.tape'))).toEqual([]);
  });
});
