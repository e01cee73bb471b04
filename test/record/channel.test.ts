import { createServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Holds, listeningChannel, trustHint } from '../../src/record/channel.js';

describe('Holds: a source paused while anything asks it to wait', () => {
  it('pauses on the first hold, not again on the next; resumes only when the last one lets go', () => {
    const calls: string[] = [];
    const holds = new Holds(() => calls.push('pause'), () => calls.push('resume'));
    const releases: (() => void)[] = [];
    holds.hold((release) => releases.push(release));
    holds.hold((release) => releases.push(release));
    expect(calls).toEqual(['pause']);
    releases[1]();
    expect(calls).toEqual(['pause']);
    releases[0]();
    expect(calls).toEqual(['pause', 'resume']);
    // A hold released at once pauses and resumes in one go; a later hold pauses again.
    holds.hold((release) => release());
    expect(calls).toEqual(['pause', 'resume', 'pause', 'resume']);
  });
});

describe('trustHint: what to do about an upstream certificate we do not trust', () => {
  it('names NODE_EXTRA_CA_CERTS for certificate failures only', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']) {
      expect(trustHint(code), code).toBe(' (set NODE_EXTRA_CA_CERTS=<ca.pem> to trust a private CA)');
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '', undefined]) expect(trustHint(code), String(code)).toBe('');
  });
});

describe('listeningChannel', () => {
  it('says where it listens, counts through the given functions, is never done on its own, and closes with the given close', async () => {
    const server = createServer();
    let closed = 0;
    let active = 2;
    const ch = await listeningChannel('http', server, { host: '127.0.0.1', port: 0 }, { active: () => active, seen: () => 7 }, async () => {
      closed++;
      await new Promise<void>((r) => server.close(() => r()));
    });
    onTestFinished(() => void (server.listening && server.close()));
    expect(ch.mode).toBe('http');
    expect(ch.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ch.address).toBe(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    expect([ch.active, ch.seen]).toEqual([2, 7]);
    active = 0;
    expect(ch.active).toBe(0);
    const state = await Promise.race([ch.done.then(() => 'done'), new Promise((r) => setImmediate(() => r('pending')))]);
    expect(state).toBe('pending');
    await ch.close();
    expect(closed).toBe(1);
    expect(server.listening).toBe(false);
  });
});
