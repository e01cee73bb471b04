import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Chalk } from 'chalk';
import { execa } from 'execa';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseRoute } from '../../src/record/http-proxy.js';
import { record } from '../../src/record/recorder.js';
import { progressLine } from '../../src/render/record.js';
import { BIN, reap } from '../helpers/cli.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const plain = new Chalk({ level: 0 });

describe('what the record progress line counts', () => {
  it('HTTP exchanges as they pass, beside the live connections', async () => {
    const up = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
    onTestFinished(() => void up.close());
    const rt = await startRuntime();
    onTestFinished(() => rt.close());
    const rec = await record({ tape: tape('progress.tape'), ws: { upstream: rt.url }, http: { routes: [parseRoute(`/=http://127.0.0.1:${(up.address() as AddressInfo).port}`)] } });
    onTestFinished(async () => void (await rec.stop()));
    expect(rec.stats()).toMatchObject({ connections: 0, exchanges: 0 });
    for (let i = 0; i < 3; i++) await (await request(`${rec.addresses.http}/v1/x${i}`, { method: 'POST', body: `{"i":${i}}` })).body.text();
    const s = rec.stats();
    expect(s).toMatchObject({ connections: 0, active: 0, exchanges: 3 });
    expect(progressLine(s, 0, plain)).toMatch(/^recording 0 connections · 3 HTTP exchanges · \d+ frames/);
    expect(progressLine({ ...s, exchanges: undefined }, 0, plain)).not.toMatch(/HTTP/);
  });

  it('an empty recording says so, and names the variables the client should have used', async () => {
    const rt = await startRuntime();
    onTestFinished(() => rt.close());
    const p = reap(execa(process.execPath, [BIN, 'record', '--upstream', rt.url, '--tape', tape('empty.tape')], { reject: false, env: { NO_COLOR: '1' } }));
    await new Promise<void>((r) => [p.stdout!, p.stderr!].forEach((s) => s.on('data', (d) => /ARCP_URL=/.test(String(d)) && r())));
    p.kill('SIGINT');
    const r = await p;
    expect(r.stderr + r.stdout).toMatch(/no traffic seen: did the client use ARCP_URL \/ ARCP_HTTP_URL\?/);
  });
});
