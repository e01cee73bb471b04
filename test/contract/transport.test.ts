import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../../src/engine/codec.js';
import { MemoryTransport } from '../../src/engine/transport/memory.js';
import { StdioTransport } from '../../src/engine/transport/stdio.js';
import type { Transport } from '../../src/engine/transport/transport.js';
import { connectWebSocket, listenWebSocket, type WebSocketTransport } from '../../src/engine/transport/websocket.js';

interface Pair {
  a: Transport;
  b: Transport;
  done: () => Promise<void>;
  binary: boolean;
}

const factories: Record<string, () => Promise<Pair>> = {
  memory: async () => {
    const [a, b] = MemoryTransport.pair();
    return { a, b, done: async () => undefined, binary: true };
  },
  websocket: async () => {
    let server!: WebSocketTransport;
    const got = new Promise<void>((r) => {
      void listenWebSocket({}, (t) => {
        server = t;
        r();
      }).then(async (l) => {
        const client = await connectWebSocket(l.url);
        pairResolve({ a: client, b: server, done: () => l.close(), binary: true });
      });
    });
    let pairResolve!: (p: Pair) => void;
    const p = new Promise<Pair>((r) => (pairResolve = r));
    await got;
    return p;
  },
  stdio: async () => {
    const ab = new PassThrough();
    const ba = new PassThrough();
    return { a: new StdioTransport(ba, ab), b: new StdioTransport(ab, ba), done: async () => undefined, binary: false };
  },
};

const collect = (t: Transport, n: number) =>
  new Promise<RawFrame[]>((resolve) => {
    const got: RawFrame[] = [];
    t.onFrame((f) => {
      got.push(f);
      if (got.length === n) resolve(got);
    });
  });

describe.each(Object.keys(factories))('Transport contract: %s', (name) => {
  it('delivers frames in order with their exact bytes', async () => {
    const { a, b, done } = await factories[name]();
    const frames = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i, s: 'é✓'.repeat(i % 7), pad: 'x'.repeat(i) }));
    const p = collect(b, frames.length);
    for (const f of frames) a.send(f);
    const got = await p;
    expect(got.map((f) => f.data.toString('utf8'))).toEqual(frames);
    expect(got.every((f) => !f.binary)).toBe(true);
    a.close();
    await done();
  });

  it('carries a 16 MiB frame and bytes that are not UTF-8', async () => {
    const { a, b, done, binary } = await factories[name]();
    const big = '{"big":"' + 'a'.repeat(16 * 1024 * 1024) + '"}';
    const weird = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const p = collect(b, 2);
    a.send(big);
    a.send(weird, { binary });
    const [f1, f2] = await p;
    expect(f1.data.length).toBe(big.length);
    expect(Buffer.compare(f2.data, weird)).toBe(0);
    expect(f2.binary).toBe(binary);
    a.close();
    await done();
  });

  it('reports close to the other side', async () => {
    const { a, b, done } = await factories[name]();
    const closed = new Promise((r) => b.onClose(r));
    a.close(1000, 'bye');
    await closed;
    expect(b.closed).toBe(true);
    await done();
  });
});
