import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork } from '../../src/fork/fork.js';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { Fingerprint } from '../../src/tape/fingerprint.js';
import { chunksOf } from '../../src/tape/format.js';
import { TapeReader } from '../../src/tape/reader.js';
import { record } from '../../src/record/recorder.js';
import { recordAssistant } from '../helpers/assistant.js';
import { connect, startRuntime } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

/** Continuing against a runtime that is already running (--target), and from another tape (--then tape:). */
const tape = tapeDir();
const settings: LlmSettings = { ...DEFAULT_LLM };
let llm: ScriptedLlm;
let rt: Awaited<ReturnType<typeof startRuntime>>;
const parent = tape('parent.tape');
const notes = tape('notes.txt');
const readNotes = (path: string) => ({ set: ['/tool_calls/0/function/name="read_file"', `/tool_calls/0/function/arguments=${JSON.stringify(JSON.stringify({ path }))}`] });
/** The runtime reads its LLM URL at each job: the fork says where its endpoint is. */
const target = (extra: object) => ({ target: rt.url, token: 'tok', pace: 'fast' as const, timeoutMs: 5000, onLlmUrl: (url: string) => void (settings.url = url), ...extra });
const answerOf = (p: string) => {
  const f = readFrames(p).find((x) => x.data.includes('"type":"job.result"') || x.data.includes('"type":"job.error"'))!;
  const m = JSON.parse(f.data.toString()) as { type: string; payload: { result?: { answer: string }; code?: string; message?: string } };
  return m.type === 'job.result' ? m.payload.result!.answer : `${m.payload.code}: ${m.payload.message}`;
};

beforeAll(async () => {
  writeFileSync(notes, 'Notes: ship on Friday.');
  llm = await startScriptedLlm({ script: DEMO_SCRIPT });
  rt = await startRuntime({ agents: referenceAgents(() => settings) });
  await recordAssistant(parent, rt.url, settings, llm.url);
});
afterAll(async () => {
  await rt.close();
  await llm.close();
});

describe('arcp fork against a running runtime', () => {
  it('continues over WebSocket (--target), then continues another fork from that tape’s answers (--then tape:) without the LLM', async () => {
    const live = tape('live.tape');
    const a = await fork({ parent, at: 'job:1/llm:3', out: live, edit: readNotes(notes), commandLine: ['test'], continuation: target({ llmUpstream: llm.url }) });
    expect(a.continued).toMatchObject({ ok: true, llm: { parent: 2, edited: 1, live: 1 } });
    expect(answerOf(live)).toBe('The file says: Notes: ship on Friday.');
    const before = llm.requests;
    const again = tape('from-tape.tape');
    const b = await fork({ parent, at: 'job:1/llm:3', out: again, edit: readNotes(notes), commandLine: ['test'], continuation: target({ then: `tape:${live}` }) });
    expect(b.continued).toMatchObject({ ok: true, llm: { parent: 2, edited: 1, live: 0, tape: 1 }, problems: [] });
    expect(llm.requests).toBe(before);
    expect(answerOf(again)).toBe('The file says: Notes: ship on Friday.');
  });

  it('says so when calls after the fork point have nowhere to go, or the --then tape has no answer', async () => {
    const nowhere = await fork({ parent, at: 'job:1/llm:3', out: tape('nowhere.tape'), edit: readNotes(notes), commandLine: ['test'], continuation: target({}) });
    expect(nowhere.continued!.problems.join('\n')).toMatch(/after the fork point and there is nowhere to send it: pass --llm-upstream URL or --then tape:OTHER/);
    expect(nowhere.continued!.jobs[0].status).toBe('error');
    const other = tape('other-notes.txt');
    writeFileSync(other, 'Other notes.');
    const missing = await fork({ parent, at: 'job:1/llm:3', out: tape('missing.tape'), edit: readNotes(other), commandLine: ['test'], continuation: target({ then: `tape:${tape('live.tape')}` }) });
    expect(missing.continued!.problems.join('\n')).toMatch(/live\.tape has no answer for the call after the fork point POST \/llm\/chat\/completions \(closest: POST/);
    expect(answerOf(tape('missing.tape'))).toMatch(/^INTERNAL_ERROR: LLM at .* answered 502: arcp fork: .*has no recorded answer/);
  });

  it('forks an Anthropic Messages run: the edited tool_use block streams back as named events, cut like the recorded ones', async () => {
    settings.api = 'anthropic';
    try {
      const anthropicParent = tape('anthropic.tape');
      await recordAssistant(anthropicParent, rt.url, settings, llm.url);
      const out = tape('anthropic-fork.tape');
      const r = await fork({ parent: anthropicParent, at: 'job:1/llm:3', out, edit: { set: ['/content/1/name="read_file"', `/content/1/input=${JSON.stringify({ path: notes })}`] }, commandLine: ['test'], continuation: target({ llmUpstream: llm.url }) });
      expect(r.continued).toMatchObject({ ok: true, llm: { parent: 2, edited: 1, live: 1 } });
      expect(r.before).toMatchObject({ content: [{ type: 'text' }, { type: 'tool_use', name: 'calculator' }], stop_reason: 'tool_use' });
      expect(answerOf(out)).toBe('The file says: Notes: ship on Friday.');
      const third = (p: string) => {
        const frames = readFrames(p);
        const ch = frames.filter((f) => f.kind === 'http.request')[2].channel;
        return Buffer.concat(frames.filter((f) => f.channel === ch && f.kind === 'http.response.body').map((f) => f.data)).toString();
      };
      const names = (body: string) => [...body.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(names(third(out))).toEqual(names(third(anthropicParent)));
      expect(third(out)).toContain('"name":"read_file"');
    } finally {
      settings.api = 'openai';
    }
  });

  it('sends a recorded cancel as long after the submit as it came, and skips it for a job that has already ended', async () => {
    const cancelled = tape('cancelled.tape');
    const rec = await record({ tape: cancelled, ws: { upstream: rt.url } });
    const c = await connect(rec.addresses.ws!);
    const h = c.submit({ agent: 'slow', input: { steps: 600, tickMs: 50 } });
    await new Promise((r) => setTimeout(r, 300));
    c.cancel(h.jobId!);
    await h.done.catch(() => undefined);
    await c.close();
    await rec.stop();
    const statusOf = (p: string) => readFrames(p).filter((f) => f.data.includes('"type":"job.error"')).map((f) => JSON.parse(f.data.toString()).payload.code);
    // The same job, continued: still running when the cancel goes out, so it is cancelled (not run for 30 s).
    const started = Date.now();
    const same = await fork({ parent: cancelled, at: 'submit:1', out: tape('cancelled-again.tape'), edit: { set: ['/payload/input/tickMs=40'] }, commandLine: ['test'], continuation: target({}) });
    expect(same.continued).toMatchObject({ ok: true, jobs: [{ status: 'cancelled' }] });
    expect(statusOf(tape('cancelled-again.tape'))).toEqual(['CANCELLED']);
    expect(Date.now() - started).toBeLessThan(10_000);
    // A short job has ended before the cancel's time: the cancel is skipped, and the job succeeded.
    const short = await fork({ parent: cancelled, at: 'submit:1', out: tape('short.tape'), edit: { set: ['/payload/input/steps=1'] }, commandLine: ['test'], continuation: target({}) });
    expect(short.continued).toMatchObject({ ok: true, jobs: [{ status: 'success' }] });
    expect(short.continued!.notes.join('\n')).toMatch(/skipped the recorded job\.cancel of a job that had already ended/);
    expect(readFrames(tape('short.tape')).some((f) => f.dir === 'c2s' && f.data.includes('"job.cancel"'))).toBe(false);
  });

  it('without a runtime: the prefix byte for byte (same fingerprint lines), the edited answer with the recorded chunk times', async () => {
    const copy = tape('copy.tape');
    const r = await fork({ parent, at: 'job:1/llm:3', out: copy, edit: readNotes(notes), commandLine: ['test'] });
    const rows = (p: string) => {
      const t = TapeReader.open(p);
      try {
        return [...t.rows()];
      } finally {
        t.close();
      }
    };
    const [pr, cr] = [rows(parent), rows(copy)];
    const fp = (list: typeof pr) => list.reduce((f, x) => (f.add(x.channel, x.dir, x.kind, x.hash), f), new Fingerprint()).digest();
    const at = r.step.seq;
    expect(fp(cr.filter((x) => x.seq < at))).toBe(fp(pr.filter((x) => x.seq < at)));
    const body = (p: string) => {
      const frames = readFrames(p).filter((f) => f.seq >= at);
      const ch = frames[0].channel;
      return frames.filter((f) => f.channel === ch && f.kind === 'http.response.body').flatMap((f) => chunksOf(f));
    };
    const [pb, cb] = [body(parent), body(copy)];
    expect(cb.map((c) => c.mono_us)).toEqual(pb.map((c) => c.mono_us));
    expect(Buffer.concat(cb.map((c) => c.data)).toString()).toContain('read_file');
    // Nothing of the parent after the step.
    expect(readFrames(copy).at(-1)!.seq).toBeLessThan(readFrames(parent).at(-1)!.seq);
  });
});
