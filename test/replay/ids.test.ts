import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/replay/ids.js';

const buf = (s: string) => Buffer.from(s, 'utf8');

describe('IdMap: what replay learnt of identifiers', () => {
  it('learns a pair once, both ways, and explains a contradiction from either side', () => {
    const ids = new IdMap();
    expect(ids.learn('job_rec_1', 'job_live_1')).toBeUndefined();
    expect(ids.learn('job_rec_1', 'job_live_1')).toBeUndefined(); // the same pair again
    expect(ids.live('job_rec_1')).toBe('job_live_1');
    expect(ids.recorded('job_live_1')).toBe('job_rec_1');
    expect(ids.live('job_live_1')).toBeUndefined();
    expect(ids.recorded('job_rec_1')).toBeUndefined();
    expect(ids.learn('job_rec_1', 'job_live_2')).toBe('recorded "job_rec_1" was live "job_live_1" earlier');
    expect(ids.learn('job_rec_2', 'job_live_1')).toBe('live "job_live_1" already stands for recorded "job_rec_1"');
    // A contradiction learns nothing.
    expect(ids.live('job_rec_2')).toBeUndefined();
    expect(ids.recorded('job_live_2')).toBeUndefined();
    expect(ids.live('job_rec_1')).toBe('job_live_1');
  });

  it('apply() replaces every JSON string equal to a learnt id, counts each, and leaves every other byte', () => {
    const ids = new IdMap();
    ids.learn('msg_0001', 'msg_9999');
    ids.learn('same_id_x', 'same_id_x'); // equal on both sides: nothing to substitute
    const data = buf('{"id" : "msg_0001","ref":["msg_0001", "msg_00011"],"n":1.50,"s":"same_id_x","t":"xmsg_0001"}');
    const out = ids.apply(data);
    expect(out.toString()).toBe('{"id" : "msg_9999","ref":["msg_9999", "msg_00011"],"n":1.50,"s":"same_id_x","t":"xmsg_0001"}');
    expect([...ids.substitutions.values()]).toEqual([{ from: 'msg_0001', to: 'msg_9999', count: 2 }]);
    ids.apply(buf('["msg_0001"]'));
    expect(ids.substitutions.get('msg_0001')).toEqual({ from: 'msg_0001', to: 'msg_9999', count: 3 });
  });

  it('apply() hands back the same buffer when nothing was replaced', () => {
    const empty = new IdMap();
    const data = buf('{"id":"msg_0001"}');
    expect(empty.apply(data)).toBe(data);
    const ids = new IdMap();
    ids.learn('msg_0001', 'msg_9999');
    const other = buf('{"id":"msg_0002"}');
    expect(ids.apply(other)).toBe(other);
    expect(ids.substitutions.size).toBe(0);
    const unchanged = new IdMap();
    unchanged.learn('msg_0001', 'msg_0001');
    expect(unchanged.apply(data)).toBe(data);
  });

  it('apply() with many learnt ids (over 32) finds them string by string, escapes too', () => {
    const ids = new IdMap();
    for (let i = 0; i < 40; i++) ids.learn(`rec_${i}`, `live_${i}`);
    const out = ids.apply(buf('{"a":"rec_3","b":["rec_39","rec_3"],"c":"rec_40","d":"say \\"rec_7\\"","e":"rec_12"}'));
    expect(out.toString()).toBe('{"a":"live_3","b":["live_39","live_3"],"c":"rec_40","d":"say \\"rec_7\\"","e":"live_12"}');
    expect(ids.substitutions.get('rec_3')?.count).toBe(2);
    expect(ids.substitutions.get('rec_39')?.count).toBe(1);
    expect(ids.substitutions.has('rec_7')).toBe(false);
    const none = buf('{"a":"rec_41"}');
    expect(ids.apply(none)).toBe(none);
  });

  it('apply() at exactly 32 learnt ids still replaces them all', () => {
    const ids = new IdMap();
    for (let i = 0; i < 32; i++) ids.learn(`rec_${i}`, `live_${i}`);
    expect(ids.apply(buf('["rec_0","rec_31"]')).toString()).toBe('["live_0","live_31"]');
  });

  it('within() replaces ids of eight characters or more inside text (URIs, paths), shorter ones never', () => {
    const ids = new IdMap();
    ids.learn('job_1234', 'job_abcd'); // 8 characters
    ids.learn('job_123', 'job_xyz'); // 7: too likely to occur by chance
    ids.learn('sess_00000001', 'sess_00000001');
    expect(ids.within('arcp://jobs/job_1234/result?again=job_1234')).toBe('arcp://jobs/job_abcd/result?again=job_abcd');
    expect(ids.within('/jobs/job_123/x')).toBe('/jobs/job_123/x');
    expect(ids.within('nothing here')).toBe('nothing here');
    expect(ids.substitutions.size).toBe(0); // within() counts nothing
  });

  it('values the same both sides, however many and however repeated, still bind both ways', () => {
    const ids = new IdMap();
    for (let i = 0; i < 1000; i++) {
      expect(ids.learn(`msg_${i}`, `msg_${i}`)).toBeUndefined();
      expect(ids.learn('sess_1', 'sess_1')).toBeUndefined(); // repeated in every frame
      expect(ids.learn('job_1', 'job_1')).toBeUndefined();
    }
    // Found by a lookup without anything else learnt first, early and late ones alike.
    expect(ids.live('msg_0')).toBe('msg_0');
    expect(ids.recorded('msg_999')).toBe('msg_999');
    expect(ids.learn('msg_1000', 'msg_1000')).toBeUndefined();
    expect(ids.live('msg_1000')).toBe('msg_1000');
    expect(ids.learn('msg_1001', 'msg_1001')).toBeUndefined();
    // A pair that differs is checked against every identical one, sorted or not yet.
    expect(ids.learn('msg_1001', 'msg_x')).toBe('recorded "msg_1001" was live "msg_1001" earlier');
    expect(ids.learn('msg_y', 'msg_500')).toBe('live "msg_500" already stands for recorded "msg_500"');
    expect(ids.learn('job_1', 'job_2')).toBe('recorded "job_1" was live "job_1" earlier');
    expect(ids.learn('msg_1002', 'msg_1002')).toBeUndefined();
    expect(ids.learn('sess_2', 'sess_1')).toBe('live "sess_1" already stands for recorded "sess_1"');
    // And an identical pair is checked against the differing ones.
    expect(ids.learn('rec_a', 'live_a')).toBeUndefined();
    expect(ids.learn('rec_a', 'rec_a')).toBe('recorded "rec_a" was live "live_a" earlier');
    expect(ids.learn('live_a', 'live_a')).toBe('live "live_a" already stands for recorded "rec_a"');
    expect(ids.live('msg_unknown')).toBeUndefined();
    expect(ids.recorded('rec_a')).toBeUndefined();
    expect(ids.learn('', '')).toBeUndefined();
    expect(ids.learn('', 'x')).toBe('recorded "" was live "" earlier');
  });
});
