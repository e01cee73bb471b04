import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ToolError, type ToolErrorCode } from '../errors.js';
import { unpackPage, type FramePage } from './frame-pages.js';
import { workerUrl } from './paths.js';
import type { FrameQuery, TapeFrame } from './reader.js';

export type FromReader = { page: FramePage } | { end: true } | { error: { code?: ToolErrorCode; message: string; hint?: string } };

/** Slots of the shared state: pages posted by the reader thread, pages taken, stop asked. */
export const POSTED = 0;
export const TAKEN = 1;
export const STOP = 2;
/** Pages the reader thread may read ahead of the consumer: bounded memory. */
export const AHEAD = 8;
export const PAGE_FRAMES = 1024;
export const PAGE_BYTES = 1024 * 1024;
/** Reader threads running at once: each script of a many-connection replay would otherwise take one. */
const MAX_THREADS = 2;
/** How long the reader thread may stay silent before the read is given up on. */
const SILENT_MS = 30_000;

let threads = 0;

/** Whether another reader thread may start now. */
export const prefetchAvailable = (): boolean => threads < MAX_THREADS;

/**
 * The frames of `TapeReader.frames(query)`, read and hash-checked on another thread a few pages
 * ahead, so the thread that plays them does not wait on SQLite or sha256. Same order, same
 * errors at the same place (a frame whose bytes do not hash right stops the read after the
 * frames before it); synchronous to the consumer, which blocks only when the reader is behind.
 */
export function* prefetchFrames(path: string, query: FrameQuery): Generator<TapeFrame> {
  const state = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerUrl('read-worker'), { workerData: { path, query, port: port2, state }, transferList: [port2] });
  worker.unref();
  // A thread that cannot even start (a damaged install) is reported when its silence runs out, not as a crash.
  let failure = '';
  worker.once('error', (e) => (failure = `: ${e.message}`));
  threads++;
  try {
    for (let taken = 0; ; ) {
      let got = receiveMessageOnPort(port1);
      const since = Date.now();
      while (!got) {
        Atomics.wait(state, POSTED, taken, 1000);
        got = receiveMessageOnPort(port1);
        if (!got && Date.now() - since > SILENT_MS) throw new ToolError('E_IO', `${path}: the tape reader thread stopped answering${failure}`, 'run `arcp tape verify` on the tape, and retry');
      }
      Atomics.store(state, TAKEN, ++taken);
      Atomics.notify(state, TAKEN);
      const m = got.message as FromReader;
      if ('end' in m) return;
      if ('error' in m) throw m.error.code ? new ToolError(m.error.code, m.error.message, m.error.hint) : new Error(m.error.message);
      yield* unpackPage(m.page);
    }
  } finally {
    threads--;
    Atomics.store(state, STOP, 1);
    Atomics.notify(state, TAKEN);
    port1.close();
  }
}
