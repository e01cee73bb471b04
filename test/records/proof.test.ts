import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/records/attest.js';
import { RecordsDocument } from '../../src/records/schema.js';
import { verifyRecords } from '../../src/records/verify.js';
import { join } from 'node:path';
import { redactionRules } from '../../src/record/recorder.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { recordCli, serveCli } from './processes.js';

/**
 * The proof side, end to end through the CLI: records checked against the tape they came
 * from (`--verify`), and a signed attestation over the tape and its records. Each check is
 * given the edit it must catch, made the way someone altering the evidence would make it.
 */
const file = tapeDir();
const tape = file('proof.tape');
const records = file('proof.records.json');
let doc: RecordsDocument;

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const copy = (name: string) => {
  const p = file(name);
  copyFileSync(tape, p);
  return p;
};
const sql = (path: string, run: (db: Database.Database) => void) => {
  const db = new Database(path);
  try {
    run(db);
  } finally {
    db.close();
  }
};
/** The output frame of the stats.summarize call, and its bytes with one byte changed (348.12 → 348.13). */
const statsFrame = () => doc.records.find((r) => r.event.action === 'tool:stats.summarize')!.evidence.fields.output[0].seq;
const flipped = (db: Database.Database, seq: number) => {
  const row = db.prepare('SELECT b.id, b.data FROM frames f JOIN blobs b ON b.id = f.blob WHERE f.seq = ?').get(seq) as { id: number; data: Buffer };
  const data = Buffer.from(row.data);
  const at = data.indexOf('348.12') + 5;
  data[at] = '3'.charCodeAt(0);
  return { id: row.id, data };
};

beforeAll(async () => {
  const serve = await serveCli(['--token', 'tok=alice']);
  const rec = await recordCli(['--upstream', serve.url, '--tape', tape]);
  const r = await arcp(['submit', '--url', rec.ws!, '--token', 'tok', '--agent', 'chatty', '--lease', '{"tool.call":["stats.*"]}']);
  expect(r.exitCode, r.stderr).toBe(0);
  await rec.stop();
  await serve.stop();
  const w = await arcp(['tape', 'records', tape, '-o', records]);
  expect(w.exitCode, w.stderr).toBe(0);
  doc = RecordsDocument.parse(JSON.parse(readFileSync(records, 'utf8')));
}, 60_000);

describe('arcp tape records --verify', () => {
  it('passes records that are the tape\'s own', async () => {
    const r = await arcp(['tape', 'records', '--verify', records, tape]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok .*: ${doc.records.length} records derived again from .* and identical \\(fp1:`));
  });

  it('catches an edited record, an edited evidence link and a dropped record, naming each', async () => {
    const edited = JSON.parse(readFileSync(records, 'utf8'));
    const stats = edited.records.find((r: { event: { action: string } }) => r.event.action === 'tool:stats.summarize');
    stats.event.output.mean = 999;
    const denied = edited.records.find((r: { event: { action: string } }) => r.event.action === 'tool:shell.exec');
    denied.evidence.fields.error[0].sha256 = '0'.repeat(64);
    const dropped = edited.records.shift();
    const path = file('edited.records.json');
    writeFileSync(path, JSON.stringify(edited));
    const r = await arcp(['tape', 'records', '--verify', path, tape, '--json']);
    expect(r.exitCode).toBe(1);
    const v = JSON.parse(r.stdout);
    expect(v.ok).toBe(false);
    expect(v.differences).toContain(`record ${stats.event.id}: /event/output/mean is 999 in the records, 348.12 from the tape`);
    expect(v.differences).toContainEqual(expect.stringMatching(new RegExp(`^record ${denied.event.id}: /evidence/fields/error/0/sha256 is "0{64}" in the records, "[0-9a-f]{64}" from the tape$`)));
    expect(v.differences).toContainEqual(expect.stringMatching(new RegExp(`^record ${dropped.event.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.*\\) is missing from the records$`)));
  });

  it('catches a flipped byte in a blob of the tape, however the tape was patched up after', async () => {
    const seq = statsFrame();
    // 1. The byte alone: the blob no longer hashes to its name.
    const bare = copy('flip.tape');
    sql(bare, (db) => {
      const f = flipped(db, seq);
      db.prepare('UPDATE blobs SET data = ? WHERE id = ?').run(f.data, f.id);
    });
    const a = await arcp(['tape', 'records', '--verify', records, bare]);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toMatch(new RegExp(`the tape: .*the bytes of frame ${seq} \\(blob \\d+\\) do not hash to their recorded sha256`));
    // 2. The blob's hash rewritten too, and the seal: the records' evidence still names the old bytes.
    const forged = copy('forged.tape');
    sql(forged, (db) => {
      const f = flipped(db, seq);
      db.prepare('UPDATE blobs SET data = ?, hash = ? WHERE id = ?').run(f.data, createHash('sha256').update(f.data).digest('hex'), f.id);
      const fp = db.prepare('SELECT channel, dir, kind, b.hash FROM frames JOIN blobs b ON b.id = frames.blob ORDER BY seq').all() as { channel: number; dir: string; kind: string; hash: string }[];
      const h = createHash('sha256');
      for (const x of fp) h.update(`${x.channel} ${x.dir} ${x.kind} ${x.hash}\n`);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'fingerprint'").run(JSON.stringify(`fp1:${h.digest('hex')}`));
    });
    const v = verifyRecords(records, forged);
    expect(v.differences[0]).toMatch(/^the tape's fingerprint is "fp1:[0-9a-f]{64}" in the records, "fp1:[0-9a-f]{64}" from the tape$/);
    expect(v.differences.join('\n')).toMatch(new RegExp(`/evidence/fields/output/0/sha256 is "${doc.records.find((r) => r.event.action === 'tool:stats.summarize')!.evidence.fields.output[0].sha256}" in the records`));
    expect(v.differences.join('\n')).toMatch(/\/event\/output\/mean is 348\.12 in the records, 348\.13 from the tape/);
  }, 40_000);

  it('catches a frame taken out of the tape (the refused tool call), naming the hole', () => {
    const seq = doc.records.find((r) => r.event.action === 'tool:shell.exec')!.evidence.fields.inputs[0].seq;
    const cut = copy('cut-frame.tape');
    sql(cut, (db) => db.prepare('DELETE FROM frames WHERE seq = ?').run(seq));
    const v = verifyRecords(records, cut);
    expect(v.ok).toBe(false);
    expect(v.differences[0]).toMatch(/^the tape: .*its frames give fingerprint fp1:[0-9a-f]{64}, but the tape was sealed with fp1:/);
    expect(v.differences).toContain(`the tape: frame log jumps from ${seq - 1} to ${seq + 1}`);
  });

  it('a file that is not a records file is an input error (exit 2), one line naming it', async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['not-records.json', '{"hello":1}', /not-records\.json is not an arcp records file \(no "schema": "arcp\.records\/1"\)/],
      ['not-json.json', '{"schema": "arcp.records/1",\n "records": [oops', /not-json\.json is not JSON \((it breaks at byte \d+|an unexpected 'o')\), so not an arcp records file/],
      ['cut.json', readFileSync(records, 'utf8').slice(0, 200), /cut\.json is not JSON \(it ends too soon\)/],
      ['swapped.tape', readFileSync(tape), /swapped\.tape is a tape, not a records file.*the records file comes first/],
    ];
    for (const [name, body, re] of cases) {
      const path = file(name);
      writeFileSync(path, body);
      const r = await arcp(['tape', 'records', '--verify', path, tape]);
      expect(r.exitCode, name).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(re);
    }
    const none = await arcp(['tape', 'records', '--verify', file('nowhere.json'), tape]);
    expect([none.exitCode, none.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(none.stderr).toMatch(/no records file at .*nowhere\.json/);
  }, 40_000);

  it('records of another tape are one line naming both fingerprints (exit 1), in a --json result that names its schema', async () => {
    const other = file('other.tape');
    await importJsonl({ source: join(CAPTURES_DIR, 'delegate.jsonl'), tape: other, redaction: redactionRules({}) });
    const r = await arcp(['tape', 'records', '--verify', records, other, '--json']);
    expect(r.exitCode).toBe(1);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ ok: false, records: doc.records.length });
    expect(v.differences).toEqual([expect.stringMatching(new RegExp(`proof\\.records\\.json holds the records of another tape \\("${doc.tape.fingerprint}", ${doc.records.length} records\\), not of .*other\\.tape \\(fp1:[0-9a-f]{64}, 4 records\\)`))]);
    expect(JSON.parse((await arcp(['tape', 'records', '--verify', records, tape, '--json'])).stdout)).toMatchObject({ schema: 'arcp-tape-records-check/1', ok: true, differences: [] });
  }, 40_000);
});

describe('arcp tape keygen, attest, verify --signature', () => {
  let key = '';
  let pub = '';
  let attestation = '';

  beforeAll(async () => {
    const k = await arcp(['tape', 'keygen', '--out', file('signer'), '--json']);
    expect(k.exitCode, k.stderr).toBe(0);
    ({ privateKey: key, publicKey: pub } = JSON.parse(k.stdout));
    const before = sha(tape);
    attestation = file('proof.attestation.json');
    const a = await arcp(['tape', 'attest', tape, '--key', key, '--records', records, '--out', attestation]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(sha(tape)).toBe(before); // nothing goes into the tape
  });

  it('keys are files the user owns: the private one mode 0600, and neither reaches the attestation', () => {
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const secretBody = readFileSync(key, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const att = readFileSync(attestation, 'utf8');
    expect(att).not.toContain(secretBody);
    expect(JSON.parse(att)).toMatchObject({ schema: 'arcp.attestation/1', statement: { tape: { fingerprint: doc.tape.fingerprint, file: { sha256: sha(tape) } }, records: { sha256: sha(records), count: doc.records.length }, meta: { redaction: { enabled: true } } }, signature: { alg: 'ed25519' } });
  });

  it('verifies the tape and its records as attested', async () => {
    const r = await arcp(['tape', 'verify', tape, '--signature', attestation, '--pubkey', pub]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok signature .*: the tape and .*proof\.records\.json are as attested/);
  });

  it('a flipped byte anywhere in the tape fails, with the reason', async () => {
    const t = copy('raw-flip.tape');
    const bytes = readFileSync(t);
    const at = bytes.indexOf('rm -rf /tmp/cache');
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 0x01;
    writeFileSync(t, bytes);
    const r = await arcp(['tape', 'verify', t, '--signature', attestation, '--pubkey', pub, '--records', records, '--json']);
    expect(r.exitCode).toBe(1);
    const problems: string[] = JSON.parse(r.stdout).attestation.problems;
    expect(problems[0]).toMatch(/^the tape file changed since it was attested: its sha256 is/);
    expect(problems.join('\n')).toMatch(/the tape no longer reads as recorded: .*do not hash to their recorded sha256/);
  });

  it('a flipped byte at any place in the tape file, or one byte more, fails with the file\'s sha256 named first', () => {
    const bytes = readFileSync(tape);
    const at = [0, 17, 99, 4096, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 1];
    const t = file('anywhere.tape');
    for (const i of at) {
      const b = Buffer.from(bytes);
      b[i] ^= 0x20;
      writeFileSync(t, b);
      const v = verifyAttestation({ tape: t, signature: attestation, pubkey: pub, records });
      expect(v.ok, `byte ${i}`).toBe(false);
      expect(v.problems[0], `byte ${i}`).toMatch(/^the tape file changed since it was attested: its sha256 is [0-9a-f]{16}… \(\d+ bytes\), attested/);
    }
    writeFileSync(t, Buffer.concat([bytes, Buffer.from([0])]));
    expect(verifyAttestation({ tape: t, signature: attestation, pubkey: pub, records }).problems[0]).toMatch(new RegExp(`its sha256 is .* \\(${bytes.length + 1} bytes\\), attested .* \\(${bytes.length} bytes\\)`));
    writeFileSync(t, bytes);
    expect(verifyAttestation({ tape: t, signature: attestation, pubkey: pub, records })).toMatchObject({ ok: true, problems: [] });
  });

  it('a byte of the records file changed where the records read the same (whitespace) still fails: the signature covers bytes', () => {
    const text = readFileSync(records, 'utf8');
    const path = file('spaced.records.json');
    writeFileSync(path, text.replace('\n  "records"', '\n\t"records"').replace(/ {2}"records"/, '\t"records"'));
    expect(readFileSync(path, 'utf8')).not.toBe(text);
    expect(verifyRecords(path, tape).ok).toBe(true);
    const v = verifyAttestation({ tape, signature: attestation, pubkey: pub, records: path });
    expect(v.problems).toEqual([expect.stringMatching(/^the records file changed since it was attested: its sha256 is/)]);
  });

  it('a changed meta field (tool version) is named', async () => {
    const t = copy('meta.tape');
    sql(t, (db) => db.prepare("UPDATE meta SET value = ? WHERE key = 'tool_version'").run('"9.9.9"'));
    const v = verifyAttestation({ tape: t, signature: attestation, pubkey: pub, records });
    expect(v.ok).toBe(false);
    expect(v.problems).toContain('its frames are as attested (same fingerprint): what changed is elsewhere in the file');
    expect(v.problems).toContain('the tape\'s meta tool_version is "9.9.9", attested "0.1.0"');
  });

  it('a flipped byte in the records fails, naming the record field', async () => {
    const path = file('flipped.records.json');
    writeFileSync(path, readFileSync(records, 'utf8').replace('"p95": 1102.4', '"p95": 1102.5'));
    const r = await arcp(['tape', 'verify', tape, '--signature', attestation, '--pubkey', pub, '--records', path]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/the records file changed since it was attested/);
    expect(r.stdout).toMatch(/record \S+:tool:job_\w+:c1: \/event\/output\/p95 is 1102\.5 in the records, 1102\.4 from the tape/);
    // Only the one byte: the records are otherwise the tape's own.
    expect(verifyRecords(path, tape).differences).toHaveLength(1);
  }, 40_000);

  it('a flipped byte in the signature, or another key, fails', async () => {
    const a = JSON.parse(readFileSync(attestation, 'utf8'));
    const sig = Buffer.from(a.signature.value, 'base64');
    sig[10] ^= 0x01;
    a.signature.value = sig.toString('base64');
    const bad = file('bad.attestation.json');
    writeFileSync(bad, JSON.stringify(a));
    expect(verifyAttestation({ tape, signature: bad, pubkey: pub, records }).problems).toEqual(['the signature does not match the statement: the attestation was changed after it was signed']);
    const statement = JSON.parse(readFileSync(attestation, 'utf8'));
    statement.statement.attestedAt = new Date(0).toISOString();
    writeFileSync(bad, JSON.stringify(statement));
    expect(verifyAttestation({ tape, signature: bad, pubkey: pub, records }).problems).toEqual(['the signature does not match the statement: the attestation was changed after it was signed']);
    const other = JSON.parse((await arcp(['tape', 'keygen', '--out', file('other'), '--json'])).stdout);
    const r2 = await arcp(['tape', 'verify', tape, '--signature', attestation, '--pubkey', other.publicKey, '--records', records]);
    expect(r2.exitCode).toBe(1);
    expect(r2.stdout).toMatch(new RegExp(`signed with key ed25519:[0-9a-f]{32}, not with the given public key \\(${other.keyId}\\)`));
  }, 40_000);

  it('refuses a private key others can read, a private key as --pubkey, a key pair over an existing one, and records that are not the tape\'s', async () => {
    const loose = file('loose.key');
    copyFileSync(key, loose);
    chmodSync(loose, 0o644);
    const a = await arcp(['tape', 'attest', tape, '--key', loose, '--out', file('x.json')]);
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toMatch(/loose\.key can be read by others \(mode 644\).*chmod 600/);
    const b = await arcp(['tape', 'verify', tape, '--signature', attestation, '--pubkey', key]);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toMatch(/is a private key/);
    const again = await arcp(['tape', 'keygen', '--out', file('signer')]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/signer\.key exists \(pass --force/);
    const wrong = file('wrong.records.json');
    writeFileSync(wrong, readFileSync(records, 'utf8').replace('"outliers": 3', '"outliers": 4'));
    const c = await arcp(['tape', 'attest', tape, '--key', key, '--records', wrong, '--out', file('y.json')]);
    expect(c.exitCode).toBe(1);
    expect(c.stderr).toMatch(/are not the records of .*: record .*\/event\/output\/outliers is 4 in the records, 3 from the tape/);
  }, 60_000);
});
