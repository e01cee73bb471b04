import { closeSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * While a tape is written, `<tape>.lock` names the process writing it: a second writer is
 * refused (even with --force), and readers can say the tape is live. SQLite's own locks cannot
 * name a PID, and they do not stop `--force` from unlinking the file under a live writer.
 *
 * The file is the lock's JSON on one line, then RESERVE_BYTES of spaces (JSON.parse skips
 * them): room given back to a full disk so that the writer can still record the gap and seal.
 * A lock whose process is gone (kill -9) is stale: readers ignore it, the next writer replaces it.
 */
export const RESERVE_BYTES = 1024 * 1024;

export const TapeLock = z.object({ pid: z.number().int().positive(), host: z.string(), started_at: z.string(), command: z.array(z.string()) });
export type TapeLock = z.infer<typeof TapeLock>;

export const lockPath = (tape: string): string => `${tape}.lock`;

/** The lock of a process that is still running here, if any. */
export function liveLock(tape: string): TapeLock | undefined {
  let lock: TapeLock;
  try {
    lock = TapeLock.parse(JSON.parse(readHead(lockPath(tape))));
  } catch {
    return undefined; // none, or not ours: nothing holds the tape
  }
  return lock.host === hostname() && running(lock.pid) ? lock : undefined;
}

/** Reads the lock's JSON line without reading the reserve behind it. */
function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, n);
    const nl = text.indexOf('\n');
    return nl < 0 ? text : text.slice(0, nl);
  } finally {
    closeSync(fd);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A PID reused by an unrelated program after a kill -9 is not a recorder.
  try {
    return /node|arcp/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (not Linux): trust the PID
  }
}

/**
 * Takes the lock for this process, or returns the live lock that holds the tape. A stale lock
 * is replaced. The reserve is written with the lock, so a full disk fails here, not later.
 */
export function takeLock(tape: string, command: string[]): TapeLock | undefined {
  const held = liveLock(tape);
  if (held) return held;
  rmSync(lockPath(tape), { force: true });
  const lock: TapeLock = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command };
  let fd: number;
  try {
    fd = openSync(lockPath(tape), 'wx');
  } catch (e) {
    // Another writer took it between our look and our create.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return liveLock(tape) ?? takeLock(tape, command);
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(lock) + '\n');
    writeSync(fd, Buffer.alloc(RESERVE_BYTES, 0x20));
  } catch (e) {
    closeSync(fd);
    rmSync(lockPath(tape), { force: true });
    throw e;
  }
  closeSync(fd);
  return undefined;
}

/** Gives the reserve back to the disk (the writer ran out of space); the lock itself stays. */
export function releaseReserve(tape: string): void {
  try {
    truncateSync(lockPath(tape), Buffer.byteLength(readHead(lockPath(tape))) + 1);
  } catch {
    // no lock file (an in-memory test), or already gone: nothing to give back
  }
}

export function dropLock(tape: string): void {
  rmSync(lockPath(tape), { force: true });
}
