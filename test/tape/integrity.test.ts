import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const folder = () => join(tape('x'), '..');

/**
 * Every file that belongs to the tape at `path`, with the sha256 of its bytes. A -shm only by
 * name: it is SQLite's index of the WAL, which a reader may rebuild; what it indexes is the WAL.
 */
function snapshot(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const base = path.split('/').pop()!;
  for (const f of readdirSync(join(path, '..')).filter((n) => n.startsWith(base)).sort()) {
    out[f] = f.endsWith('-shm') ? 'present' : createHash('sha256').update(readFileSync(join(path, '..', f))).digest('hex');
  }
  return out;
}

/** A tape whose writer was killed (kill -9) after its first batches were committed: tape, -wal, -shm and a stale lock. */
function killedTape(path: string, frames = 3000): void {
  const writer = new URL('../../dist/src/tape/writer.js', import.meta.url).href;
  const redact = new URL('../../dist/src/tape/redact.js', import.meta.url).href;
  const script = `
    const { TapeWriter } = await import(${JSON.stringify(writer)});
    const { defaultRules } = await import(${JSON.stringify(redact)});
    const w = await TapeWriter.create({ path: ${JSON.stringify(path)}, commandLine: ['test'], redaction: defaultRules() });
    const ch = w.channel('ws', 'ws#1 /');
    for (let i = 0; i < ${frames}; i++) w.frame(ch, i % 2 ? 's2c' : 'c2s', 'ws.text', JSON.stringify({ arcp: '1.1', type: 'job.event', n: i, pad: 'x'.repeat(200) }));
    w.flush();
    const end = Date.now() + 5000;
    while (w['inFlight'] > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    process.kill(process.pid, 'SIGKILL');`;
  const file = `${path}.writer.mjs`;
  writeFileSync(file, script);
  try {
    execFileSync(process.execPath, [file], { stdio: 'pipe' });
  } catch {
    // killed, as intended
  }
  rmSync(file);
}

/**
 * Runs every read-only command on `t` and checks that none changed a file of it: at once (each
 * is a process), or one by one where readers must each see that the -shm is not theirs.
 */
async function readsLeaveAlone(t: string, oneByOne = false): Promise<void> {
  const before = snapshot(t);
  const runs = [];
  if (oneByOne) for (const cmd of READ_ONLY(t)) runs.push(await arcp(cmd));
  else runs.push(...(await Promise.all(READ_ONLY(t).map((cmd) => arcp(cmd)))));
  for (const r of runs) expect(r.stderr, r.command).not.toMatch(/\n\s+at /);
  expect(snapshot(t)).toEqual(before);
}

let sealed = '';
beforeAll(async () => {
  sealed = tape('cancel.tape');
  const r = await arcp(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', sealed]);
  expect(r.exitCode, r.stderr).toBe(0);
});

const READ_ONLY = (t: string): string[][] => [
  ['tape', 'show', t],
  ['tape', 'verify', t],
  ['tape', 'scan', t],
  ['tape', 'export', t, '--jsonl'],
  ['tape', 'ls', join(t, '..')],
  ['replay', t, '--listen', '--timeout', '1', '--connect-timeout', '1'],
];

describe('every read checks the bytes it hands on', () => {
  it('a blob changed on disk (same size) stops export and show with one line in the tape\'s terms; nothing altered is written out', async () => {
    const t = tape('flipped.tape');
    copyFileSync(sealed, t);
    const db = new Database(t);
    const row = db.prepare('SELECT id, data FROM blobs WHERE id = 3').get() as { id: number; data: Buffer };
    const altered = Buffer.from(row.data);
    altered[altered.indexOf('"')] = '\''.charCodeAt(0);
    db.prepare('UPDATE blobs SET data = ? WHERE id = 3').run(altered);
    db.close();
    for (const r of await Promise.all([['tape', 'export', t, '--jsonl'], ['tape', 'show', t]].map((cmd) => arcp(cmd)))) {
      expect(r.exitCode, r.command).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/flipped\.tape: the bytes of frame \d+ \(blob 3\) do not hash to their recorded sha256/);
      expect(r.stdout).not.toContain(altered.toString().slice(0, 40));
    }
  });

  it('a frame naming a blob the tape does not hold: one line naming the frame and the blob, no schema wording', async () => {
    const t = tape('orphan.tape');
    copyFileSync(sealed, t);
    const db = new Database(t);
    db.prepare('DELETE FROM blobs WHERE id = 3').run();
    db.close();
    for (const r of await Promise.all([['tape', 'export', t, '--jsonl'], ['tape', 'show', t]].map((cmd) => arcp(cmd)))) {
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/orphan\.tape: frame \d+ names blob 3, which the tape does not hold/);
      expect(r.stderr).not.toMatch(/Too small|expected string|Invalid/);
    }
  });

  it('a row that does not fit the format is named in the tape\'s terms', async () => {
    const t = tape('badkind.tape');
    copyFileSync(sealed, t);
    const db = new Database(t);
    db.prepare("UPDATE frames SET kind = 'ws.gossip' WHERE seq = 4").run();
    db.close();
    const r = await arcp(['tape', 'export', t, '--jsonl']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/badkind\.tape: frame 4 has kind "ws\.gossip", which a tape of format 2 cannot hold/);
  });
});

describe('read-only commands never change a tape', () => {
  it('a killed recording (tape, -wal, -shm, stale lock): every reader leaves every file as it was, and reads what was committed', async () => {
    const t = tape('killed.tape');
    killedTape(t);
    expect(existsSync(`${t}-wal`)).toBe(true);
    await readsLeaveAlone(t);
    const v = JSON.parse((await arcp(['tape', 'verify', t, '--json'])).stdout);
    expect(v).toMatchObject({ ok: true, unsealed: true, frames: 3000 });
    expect(v.live).toBeUndefined(); // the lock is stale: its process is gone
  });

  it('a WAL file without its -shm (an older recorder, killed) is read in place, and no -shm is left behind', async () => {
    const t = tape('nowalindex.tape');
    killedTape(t, 500);
    rmSync(`${t}-shm`);
    await readsLeaveAlone(t, true);
    expect(JSON.parse((await arcp(['tape', 'verify', t, '--json'])).stdout)).toMatchObject({ ok: true, frames: 500 });
  }, 60_000);

  it('a sealed tape is one file in rollback mode; an older tape sealed in WAL mode, and damaged copies of it, gain no -wal or -shm', async () => {
    expect(readdirSync(folder()).filter((f) => f.startsWith('cancel.tape'))).toEqual(['cancel.tape']);
    expect(readFileSync(sealed)[18]).toBe(1); // file format 1: not WAL
    const old = tape('old-wal.tape');
    copyFileSync(sealed, old);
    const db = new Database(old);
    db.pragma('journal_mode = WAL');
    db.close();
    const cut = tape('old-wal-cut.tape');
    copyFileSync(old, cut);
    truncateSync(cut, Math.floor(statSync(cut).size / 2));
    for (const t of [old, cut]) {
      expect(Object.keys(snapshot(t))).toHaveLength(1);
      await readsLeaveAlone(t);
    }
  }, 60_000);
});

describe('one writer at a time', () => {
  it('a tape being written refuses a second writer, even with --force, naming the PID; readers get a snapshot and say it is live', async () => {
    const t = tape('live.tape');
    const w = await TapeWriter.create({ path: t, commandLine: ['arcp', 'record', '--test'], redaction: defaultRules() });
    const ch = w.channel('ws', 'ws#1 /');
    for (let i = 0; i < 16; i++) w.frame(ch, 's2c', 'ws.text', `{"n":${i}}`);
    w.flush();
    await new Promise((r) => setTimeout(r, 300));
    const src = join(CAPTURES_DIR, 'cancel.jsonl');
    for (const args of [['tape', 'import', src, '--tape', t, '--force'], ['tape', 'import', src, '--tape', t], ['record', '--upstream', 'ws://127.0.0.1:9', '--tape', t, '--force']]) {
      const r = await arcp(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`tape .*live\\.tape is being recorded by PID ${process.pid} \\(arcp record --test`));
    }
    const show = await arcp(['tape', 'show', t]);
    expect(show.exitCode, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`live: being recorded by PID ${process.pid}`));
    const v = JSON.parse((await arcp(['tape', 'verify', t, '--json'])).stdout);
    expect(v).toMatchObject({ ok: true, frames: 16, live: { pid: process.pid } });
    w.frame(ch, 's2c', 'ws.text', '{"n":16}');
    const s = await w.close();
    expect(s).toMatchObject({ frames: 17, sealed: true, walKept: false });
    expect(JSON.parse((await arcp(['tape', 'verify', t, '--json'])).stdout)).toMatchObject({ ok: true, frames: 17, fingerprint: s.fingerprint });
    expect(existsSync(`${t}.lock`)).toBe(false);
  });

  it('a stale lock (its recorder was killed) does not hold the tape: --force replaces it', async () => {
    const t = tape('stale.tape');
    killedTape(t, 10);
    expect(existsSync(`${t}.lock`)).toBe(true);
    const r = await arcp(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', t, '--force']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(folder()).filter((f) => f.startsWith('stale.tape'))).toEqual(['stale.tape']);
  });
});

describe('damaged and missing paths, in one line each', () => {
  it.each([
    ['a zero-byte file', () => (writeFileSync(tape('empty.tape'), ''), tape('empty.tape')), /empty\.tape is empty \(0 bytes\): not a tape/],
    ['a dropped table', () => { const p = tape('dropped.tape'); copyFileSync(sealed, p); const d = new Database(p); d.exec('DROP TABLE frames'); d.close(); return p; }, /dropped\.tape has no frames table: it is not a whole tape/],
    ['a dropped column', () => { const p = tape('nocol.tape'); copyFileSync(sealed, p); const d = new Database(p); d.exec('ALTER TABLE frames DROP COLUMN parts'); d.close(); return p; }, /nocol\.tape: the frames table has no parts column/],
  ])('%s', async (_name, make, re) => {
    const p = make();
    for (const r of await Promise.all([['tape', 'show'], ['tape', 'verify'], ['replay', '--listen']].map((cmd) => arcp([...cmd, p])))) {
      expect(r.exitCode, r.command).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('a --tape in a folder that does not exist is refused; no folder is made', async () => {
    const dir = join(folder(), 'no', 'such', 'dir');
    for (const args of [['record', '--upstream', 'ws://127.0.0.1:9', '--tape', join(dir, 'x.tape')], ['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', join(dir, 'x.tape')]]) {
      const r = await arcp(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/cannot create tape .*x\.tape: the folder .*no\/such\/dir does not exist \(create it first/);
      expect(existsSync(join(folder(), 'no'))).toBe(false);
    }
  });
});
