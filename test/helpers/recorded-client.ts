import { WebSocket } from 'ws';
import type { TapeFrame } from '../../src/tape/reader.js';

export interface ClientRun {
  /** Every message the client received, as bytes. */
  received: Buffer[];
  /** The close it saw: code and reason. */
  close: [number, string];
}

/**
 * A client that plays the recorded client side of one channel, byte for byte: each recorded
 * client message is sent once the runtime messages recorded before it have arrived, and the
 * recorded client close is sent in its turn (or a 1000 at the end, when the recording has
 * none). Resolves when the connection closes (by anyone).
 */
export async function playRecordedClient(url: string, frames: TapeFrame[], o: { timeoutMs?: number } = {}): Promise<ClientRun> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const received: Buffer[] = [];
  let wake = () => undefined as void;
  ws.on('message', (d) => {
    received.push(Buffer.from(d as Buffer));
    wake();
  });
  const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, String(reason)])));
  let done = false;
  void closed.then(() => ((done = true), wake()));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const end = Date.now() + (o.timeoutMs ?? 10_000);
  let expected = 0;
  for (const f of frames) {
    if (f.dir === 's2c' && (f.kind === 'ws.text' || f.kind === 'ws.binary')) {
      expected++;
      while (received.length < expected && !done && Date.now() < end) await new Promise<void>((r) => ((wake = r), setTimeout(r, 20)));
    } else if (f.dir === 'c2s' && (f.kind === 'ws.text' || f.kind === 'ws.binary')) {
      if (done) break;
      ws.send(f.data, { binary: f.kind === 'ws.binary' });
    } else if (f.dir === 'c2s' && f.kind === 'ws.close') {
      if (!done) ws.close(JSON.parse(String(f.data)).code ?? 1000);
      return { received, close: await closed };
    }
  }
  // The recording ends without the client's close (cut short): close once it has all it holds.
  if (!done) ws.close(1000);
  return { received, close: await closed };
}
