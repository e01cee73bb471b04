// The tape reader's thread (see prefetch.ts): reads and hash-checks frames a page ahead of the
// thread that plays them, and hands each page over without copying its bytes.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ToolError } from '../errors.js';
import { packPage } from './frame-pages.js';
import { TapeReader, type FrameQuery, type TapeFrame } from './reader.js';
import { AHEAD, PAGE_BYTES, PAGE_FRAMES, POSTED, STOP, TAKEN, type FromReader } from './prefetch.js';

const { path, query, port, state } = workerData as { path: string; query: FrameQuery; port: MessagePort; state: Int32Array };

/** Posts once the consumer is fewer than AHEAD pages behind; false when it asked to stop. */
function post(msg: FromReader, transfer: ArrayBuffer[] = []): boolean {
  for (;;) {
    if (Atomics.load(state, STOP)) return false;
    const taken = Atomics.load(state, TAKEN);
    if (Atomics.load(state, POSTED) - taken < AHEAD) break;
    Atomics.wait(state, TAKEN, taken);
  }
  port.postMessage(msg, transfer);
  Atomics.add(state, POSTED, 1);
  Atomics.notify(state, POSTED);
  return true;
}

/** Posts the frames read so far as one page; false when the consumer asked to stop. */
function flush(batch: TapeFrame[]): boolean {
  if (!batch.length) return true;
  const page = packPage(batch.splice(0));
  return post({ page }, [page.data]);
}

let reader: TapeReader | undefined;
const batch: TapeFrame[] = [];
try {
  reader = TapeReader.open(path);
  let bytes = 0;
  let going = true;
  for (const f of reader.frames(query)) {
    batch.push(f);
    bytes += f.data.length;
    if (batch.length < PAGE_FRAMES && bytes < PAGE_BYTES) continue;
    bytes = 0;
    if (!(going = flush(batch))) break;
  }
  if (going && flush(batch)) post({ end: true });
} catch (e) {
  // The frames before the failing one are the consumer's, as they are from the reader itself.
  const t = e instanceof ToolError ? e : undefined;
  if (flush(batch)) post({ error: { code: t?.code, message: (e as Error).message, hint: t?.hint } });
} finally {
  reader?.close();
  parentPort?.close();
}
