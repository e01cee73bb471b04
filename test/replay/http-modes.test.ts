import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { parseRouteMatch } from '../../src/replay/http-match.js';
import { serveReplay } from '../../src/replay/serve.js';
import type { HttpServeOptions } from '../../src/replay/http-player.js';
import { arcp } from '../helpers/cli.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let up: LlmUpstream;
const ROOT = join(import.meta.dirname, '../..');

type Ask = { path?: string; body?: object; headers?: Record<string, string> };
const ask = async (base: string, a: Ask = {}) => {
  const r = await request(`${base}${a.path ?? '/openai/chat/completions'}`, { method: 'POST', headers: { 'content-type': 'application/json', ...a.headers }, body: JSON.stringify(a.body ?? { model: 'm', messages: [{ role: 'user', content: 'A' }] }) });
  return { status: r.statusCode, requestId: r.headers['x-request-id'], text: await r.body.text() };
};
const exchanges = (path: string) => readFrames(path).filter((f) => f.kind === 'http.request').length;

/** A tape holding the given requests, recorded through the proxy at /openai. */
async function recorded(name: string, asks: Ask[]): Promise<string> {
  const path = tape(name);
  const rec = await record({ tape: path, http: { routes: [{ prefix: '/openai', upstream: `${up.url}/v1` }] } });
  for (const a of asks) await ask(rec.addresses.http!, a);
  await rec.stop();
  return path;
}

async function replayWith(path: string, http: HttpServeOptions, run: (base: string) => Promise<void>) {
  const r = await serveReplay({ tape: path, http });
  await run(r.addresses.http!);
  return r.stop();
}

beforeAll(async () => (up = await startLlmUpstream()));
afterAll(() => up.close());

describe('HTTP replay modes (VCR, Polly, mitmproxy)', () => {
  it('a second identical request: a divergence that says the exchange was already used; --http-reuse serves it again', async () => {
    const path = await recorded('once.tape', [{}]);
    const plain = await replayWith(path, { keepServing: true }, async (base) => {
      expect((await ask(base)).status).toBe(200);
      expect((await ask(base)).status).toBe(502);
    });
    expect(plain.divergences[0].message).toMatch(/the recorded exchange for POST \/openai\/chat\/completions \(channel 1\) was already used, and the recording has no second one \(--http-reuse/);
    expect(plain.divergences[0].closest).toBeUndefined();
    const reused = await replayWith(path, { reuse: true, keepServing: true }, async (base) => {
      const [a, b] = [await ask(base), await ask(base)];
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.text).toBe(a.text);
    });
    expect(reused.ok).toBe(true);
    expect(reused.notes).toContain('HTTP channel 1 served again (--http-reuse)');
  });

  it('record-if-missing serves what the tape has and records what it lacks into it; the tape then replays both offline', async () => {
    const path = await recorded('episodes.tape', [{}]);
    const before = up.requests.length;
    const r = await replayWith(path, { mode: 'record-if-missing' }, async (base) => {
      expect((await ask(base)).status).toBe(200); // from the tape
      expect(up.requests.length).toBe(before);
      const b = await ask(base, { body: { model: 'm', messages: [{ role: 'user', content: 'B' }] } });
      expect(b.status).toBe(200);
      expect(up.requests.length).toBe(before + 1);
      expect(up.requests.at(-1)!.path).toBe('/v1/chat/completions');
    });
    expect(r.ok).toBe(true);
    expect(r.notes.join('\n')).toMatch(/recorded 1 exchange\(s\) into .*episodes\.tape \(--http-mode record-if-missing\); its fingerprint is now fp1:/);
    expect(exchanges(path)).toBe(2);
    const offline = await replayWith(path, {}, async (base) => {
      expect((await ask(base)).status).toBe(200);
      expect((await ask(base, { body: { model: 'm', messages: [{ role: 'user', content: 'B' }] } })).status).toBe(200);
    });
    expect(offline.ok).toBe(true);
    expect(up.requests.length).toBe(before + 1);
  });

  it('update re-records what is requested and keeps what is not; passthrough forwards and keeps nothing', async () => {
    const path = await recorded('update.tape', [{}, { body: { model: 'm', messages: [{ role: 'user', content: 'keep me' }] } }]);
    const old = await replayWith(path, { keepServing: true }, async (base) => void (await ask(base)));
    const oldId = (readFrames(path).find((f) => f.kind === 'http.response')!.data.toString().match(/"x-request-id","(req_\d+)"/) ?? [])[1];
    let fresh = '';
    await replayWith(path, { mode: 'update' }, async (base) => {
      fresh = String((await ask(base)).requestId);
    });
    expect(fresh).not.toBe(oldId);
    expect(exchanges(path)).toBe(2);
    const heads = readFrames(path).filter((f) => f.kind === 'http.response').map((f) => f.data.toString());
    expect(heads.join()).toContain(`"${fresh}"`);
    expect(heads.join()).not.toContain(`"${oldId}"`);
    expect(old.ok).toBe(true);

    const fp = readFrames(path).length;
    const before = up.requests.length;
    const pass = await replayWith(path, { mode: 'passthrough', keepServing: true }, async (base) => {
      expect((await ask(base, { body: { model: 'm', messages: [{ role: 'user', content: 'new' }] } })).status).toBe(200);
    });
    expect(up.requests.length).toBe(before + 1);
    expect(readFrames(path).length).toBe(fp);
    expect(pass.notes).toContain('forwarded 1 unmatched request(s) to the upstream; not recorded (--http-mode passthrough)');
  });

  it('--all-played: a recorded exchange never requested is a divergence (a note otherwise)', async () => {
    const path = await recorded('all.tape', [{}, { body: { model: 'm', messages: [{ role: 'user', content: 'B' }] } }]);
    const strict = await replayWith(path, { allPlayed: true }, async (base) => void (await ask(base)));
    expect(strict.ok).toBe(false);
    expect(strict.divergences.map((d) => [d.reason, d.message])).toEqual([['missing', 'the recorded exchange POST /openai/chat/completions (channel 2) was never requested']]);
    const lax = await replayWith(path, { keepServing: true }, async (base) => void (await ask(base)));
    expect(lax.ok).toBe(true);
    expect(lax.notes).toContain('the recorded exchange POST /openai/chat/completions (channel 2) was never requested');
  });

  it('matching per route: headers, query parameters, volatile body fields, partial JSON; the defaults stay strict', async () => {
    const path = await recorded('match.tape', [{ path: '/openai/chat/completions?api-version=1', headers: { 'openai-organization': 'org-a' }, body: { model: 'm', user: 'u1', messages: ['x'] } }]);
    const live = { path: '/openai/chat/completions?api-version=2', headers: { 'openai-organization': 'org-a' }, body: { model: 'm', user: 'u2', messages: ['x'], extra: true } };
    const once = async (rules: string[], a: Ask) => (await replayWith(path, { match: rules.map(parseRouteMatch) }, async (base) => void (await ask(base, a)))).ok;
    expect(await once([], live)).toBe(false);
    expect(await once(['/openai:ignore-query=api-version,volatile=/user,partial'], live)).toBe(true);
    expect(await once(['/openai:ignore-query=api-version,volatile=/user'], live)).toBe(false); // extra field
    expect(await once(['/openai:volatile=/user,partial'], live)).toBe(false); // query differs
    expect(await once(['/openai:ignore-query=*,volatile=/user,partial,header=openai-organization'], { ...live, headers: { 'openai-organization': 'org-b' } })).toBe(false);
    expect(await once(['/openai:ignore-query=*,volatile=/user,partial,header=openai-organization'], live)).toBe(true);
    expect(await once(['/other:ignore-query=*,volatile=/user,partial'], live)).toBe(false); // another route's rules do not apply
  });

  it('arcp replay --http-port 0 -- <command>: the command finds the replay in OPENAI_BASE_URL; arcp exits with its code, or 1 on a divergence', async () => {
    const path = await recorded('cmd.tape', [{}]);
    const script = tape('client.mjs');
    writeFileSync(
      script,
      `const { default: OpenAI } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'node_modules/openai/index.mjs')).href)});
const client = new OpenAI({ apiKey: 'sk-test', maxRetries: 0 });
const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: process.argv[2] }] });
console.log('got', r.choices[0].message.content);
process.exit(Number(process.argv[3] ?? 0));\n`,
    );
    const ok = await arcp(['replay', path, '--http-port', '0', '--all-played', '--', process.execPath, script, 'A']);
    expect(ok.stdout).toContain('got Hello from the upstream');
    expect(ok.stdout).toMatch(/command under test passed: .* exited with 0/);
    expect(ok.exitCode).toBe(0);
    const failing = await arcp(['replay', path, '--http-port', '0', '--', process.execPath, script, 'A', '3']);
    expect(failing.exitCode).toBe(3);
    const diverging = await arcp(['replay', path, '--http-port', '0', '--', process.execPath, script, 'not recorded']);
    expect(diverging.stdout).toMatch(/DIVERGED \(unmatched-request\)/);
    expect(diverging.exitCode).toBe(1);
  });

  it('arcp record --run: the recorded program is the client, finds the proxy in OPENAI_BASE_URL; recording stops when it exits, with its code', async () => {
    const path = tape('run.tape');
    const script = tape('rec-client.mjs');
    writeFileSync(
      script,
      `const { default: OpenAI } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'node_modules/openai/index.mjs')).href)});
const r = await new OpenAI({ apiKey: 'sk-test', maxRetries: 0 }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'A' }] });
process.exit(r.choices[0].message.content === 'Hello from the upstream' ? 4 : 5);\n`,
    );
    const r = await arcp(['record', '--http', `/openai=${up.url}/v1`, '--tape', path, '--run', `"${process.execPath}" "${script}"`]);
    expect(r.stderr).toMatch(/exited with 4/);
    expect(r.exitCode).toBe(4);
    expect(exchanges(path)).toBe(1);
  });
});
