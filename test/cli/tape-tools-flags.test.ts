import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../src/render/json/schemas.js';
import { verifyTape } from '../../src/tape/verify.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { BIN } from '../helpers/cli.js';
import { inProcess } from '../helpers/in-process.js';
import { damagedCopy, readFrames, tapeDir } from '../helpers/tape.js';

/**
 * The documented flags of tape ls, tree, verify, scan, redact, records, keygen and attest that
 * no other test drives with its effect asserted. Already driven elsewhere, so not here:
 *   ls --json (the paths listed: test/tape/tape-cli; its schema: test/cli/json-output)
 *   tree --json (the family: test/fork/fork-e2e), tree --report (test/report/variants-browser),
 *     tree of a missing folder, exit 2 (test/fork/fork-cli)
 *   verify --json (test/tape/integrity, test/records/proof), --signature with --pubkey, --records,
 *     and the records named in the attestation by default (test/records/proof); exit 1 (test/tape/tape-cli)
 *   scan exit 0 and 1 in words (test/tape/tape-cli), its --json schema (test/cli/json-output)
 *   redact --out, --pointer, --out naming the input (test/tape/show-redact)
 *   records --json, --events, --job, -o, --verify with and without --json (test/records/records-e2e, proof)
 *   keygen --out, --json, an existing pair refused (test/records/proof)
 *   attest --key, --records, --out, a readable key refused, records not the tape's, exit 1 (test/records/proof)
 */

const file = tapeDir();
let tape = '';
let records = '';
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
/** The one line of stdout under --json, parsed under the schema it names. */
const json = <T = Record<string, unknown>>(stdout: string): T & { schema: string } => {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const o = JSON.parse(lines[0]) as { schema: keyof typeof OUTPUTS };
  return OUTPUTS[o.schema].parse(o) as T & { schema: string };
};
/** `arcp ARGS` as a child in `cwd`: for the defaults that are paths relative to it. */
const inFolder = (cwd: string, args: string[]) => execa(process.execPath, [BIN, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });

beforeAll(async () => {
  tape = file('cancel.tape');
  const r = await inProcess(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', tape]);
  expect(r.code, r.stderr).toBe(0);
  records = file('cancel.records.json');
  expect((await inProcess(['tape', 'records', tape, '-o', records])).code).toBe(0);
});

describe('tape ls and tape tree: the folder argument', () => {
  it('default to ./tapes', async () => {
    const cwd = file('project');
    mkdirSync(join(cwd, 'tapes'), { recursive: true });
    writeFileSync(join(cwd, 'tapes', 'here.tape'), readFileSync(tape));
    const ls = await inFolder(cwd, ['tape', 'ls', '--json']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({ dir: 'tapes', tapes: [{ path: join('tapes', 'here.tape'), frames: 15 }] });
    const tree = await inFolder(cwd, ['tape', 'tree', '--json']);
    expect(tree.exitCode, tree.stderr).toBe(0);
    expect(JSON.parse(tree.stdout).roots.map((n: { path: string }) => n.path)).toEqual([join('tapes', 'here.tape')]);
  });

  it('ls shows frames, channels and the fingerprint of each tape, "unsealed" for one whose recorder never finished; a missing folder is exit 2', async () => {
    const dir = file('listing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sealed.tape'), readFileSync(tape));
    damagedCopy(tape, join(dir, 'killed.tape'), "DELETE FROM meta WHERE key IN ('ended_at', 'fingerprint', 'frame_count')");
    const r = await inProcess(['tape', 'ls', dir]);
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.includes(name)) ?? '';
    const fp = verifyTape(tape).fingerprint!;
    expect(line('sealed.tape')).toMatch(new RegExp(`15 frames +1 ch .* ${fp.slice(0, 16)}`));
    expect(line('killed.tape')).toMatch(/15 frames +1 ch .* unsealed$/);
    const missing = await inProcess(['tape', 'ls', join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot list .*nowhere: ENOENT/);
  });
});

describe('tape verify: the attestation flags come together', () => {
  it.each([
    [['--signature', 'ATT'], /--pubkey/],
    [['--pubkey', 'PUB'], /--signature/],
    [['--records', 'REC'], /--signature/],
  ])('%j alone is a usage error (exit 2) naming the flag it needs', async (flags, needs) => {
    const r = await inProcess(['tape', 'verify', tape, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(needs);
  });
});

describe('tape scan --json', () => {
  it('lists each finding with its frame and rule, the secret masked; exit 1', async () => {
    const clear = file('clear.tape');
    expect((await inProcess(['tape', 'import', join(CAPTURES_DIR, 'credentials.jsonl'), '--tape', clear, '--no-redact'])).code).toBe(0);
    const r = await inProcess(['tape', 'scan', clear, '--json']);
    expect(r.code).toBe(1);
    const s = json<{ findings: { seq: number; rule: string; preview: string }[] }>(r.stdout);
    expect(s).toMatchObject({ schema: 'arcp-tape-scan/1', path: clear, frames: readFrames(clear).length });
    expect(s.findings).toContainEqual(expect.objectContaining({ rule: '/payload/credentials/*/value', preview: expect.stringMatching(/…/) }));
    const secret = readFrames(clear).map((f) => f.data.toString()).join('\n').match(/"value":"(sk-[^"]+)"/)![1];
    expect(r.stdout).not.toContain(secret);
    expect(json((await inProcess(['tape', 'scan', tape, '--json'])).stdout)).toMatchObject({ findings: [] });
  });
});

describe('tape redact --header, --query, --regex, --force, --json', () => {
  const HOUSE_KEY = 'HSECRET456';
  const QUERY = 'QSECRET123';
  const PIN = 'ZZ-9876-ZZ';
  let raw = '';
  beforeAll(async () => {
    const har = file('house.har');
    writeFileSync(
      har,
      JSON.stringify({
        log: {
          version: '1.2',
          creator: { name: 'test', version: '1' },
          entries: [
            {
              startedDateTime: '2026-01-01T00:00:00.000Z',
              time: 5,
              request: { method: 'POST', url: `http://api.example.test/v1/items/${PIN}?house_q=${QUERY}&keep=1`, headers: [{ name: 'content-type', value: 'application/json' }, { name: 'X-House-Key', value: HOUSE_KEY }], postData: { mimeType: 'application/json', text: JSON.stringify({ note: `pin ${PIN} kept` }) } },
              response: { status: 200, headers: [{ name: 'content-type', value: 'application/json' }, { name: 'x-house-key', value: HOUSE_KEY }], content: { mimeType: 'application/json', text: '{"ok":true}' } },
              timings: { wait: 1 },
            },
          ],
        },
      }),
    );
    raw = file('house.tape');
    const r = await inProcess(['tape', 'import', '--har', har, '--tape', raw]);
    expect(r.code, r.stderr).toBe(0);
  });
  /** The exchange the tape holds: the request's path, the header both ways, the request body. */
  const requestOf = (path: string) => {
    const frames = readFrames(path);
    const head = (kind: string) => JSON.parse(frames.find((f) => f.kind === kind)!.data.toString()) as { path: string; headers: [string, string][] };
    const header = (kind: string) => head(kind).headers.find(([k]) => k.toLowerCase() === 'x-house-key')?.[1];
    return { path: head('http.request').path, header: header('http.request'), answered: header('http.response'), body: frames.find((f) => f.kind === 'http.request.body')!.data.toString() };
  };

  it('each names what the default rules leave; --out is refused when it exists unless --force', async () => {
    // What the defaults leave: the import redacted by them, and a plain redact changes nothing.
    expect(requestOf(raw)).toEqual({ path: `/v1/items/${PIN}?house_q=${QUERY}&keep=1`, header: HOUSE_KEY, answered: HOUSE_KEY, body: JSON.stringify({ note: `pin ${PIN} kept` }) });
    const out = file('house.clean.tape');
    expect((await inProcess(['tape', 'redact', raw, '-o', out])).code).toBe(0);
    expect(requestOf(out)).toEqual(requestOf(raw));
    const before = sha(out);

    const flags = ['--header', 'x-house-key', '--query', 'house_q', '--regex', 'ZZ-\\d+-ZZ'];
    const refused = await inProcess(['tape', 'redact', raw, '-o', out, ...flags]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/house\.clean\.tape.*exists/);
    expect(refused.stderr).toContain('--out');
    expect(refused.stderr).not.toContain('--tape');
    expect(sha(out)).toBe(before);

    const r = await inProcess(['tape', 'redact', raw, '-o', out, ...flags, '--force']);
    expect(r.code, r.stderr).toBe(0);
    const got = requestOf(out);
    expect(got.header).toMatch(/^\[arcp-redacted:\d+\]$/);
    expect(got.answered).toMatch(/^\[arcp-redacted:\d+\]$/);
    expect(got.path).toMatch(/^\/v1\/items\/\[arcp-redacted:\d+\]\?house_q=\[arcp-redacted:\d+\]&keep=1$/);
    expect(got.body).toMatch(/^\{"note":"pin \[arcp-redacted:\d+\] kept"\}$/);
    expect(readFileSync(out).includes(HOUSE_KEY) || readFileSync(out).includes(QUERY) || readFileSync(out).includes(PIN)).toBe(false);
    expect(verifyTape(out).ok).toBe(true);
  });

  it('--json is the summary of the tape written; without it, the same in words', async () => {
    const out = file('house.json.tape');
    const r = await inProcess(['tape', 'redact', raw, '--out', out, '--header', 'x-house-key', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const v = verifyTape(out);
    expect(json(r.stdout)).toMatchObject({ schema: 'arcp-tape-redact/1', path: out, fingerprint: v.fingerprint, frames: v.frames, sealed: true });
    const words = await inProcess(['tape', 'redact', raw, '--out', file('house.words.tape'), '--header', 'x-house-key']);
    expect(words.code).toBe(0);
    expect(words.stdout).toContain(v.fingerprint!);
    expect(words.stdout).not.toMatch(/^\{/);
  });
});

describe('tape records -o with --force and --json; the flags that exclude each other', () => {
  it('-o refuses an existing file unless --force; --json says what was written', async () => {
    const out = file('again.records.json');
    writeFileSync(out, 'keep me');
    const refused = await inProcess(['tape', 'records', tape, '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/again\.records\.json exists/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const r = await inProcess(['tape', 'records', tape, '-o', out, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(records, 'utf8'));
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(json(r.stdout)).toEqual({ schema: 'arcp-tape-records-written/1', path: out, sha256: sha(out), bytes: statSync(out).size, records: doc.records.length, fingerprint: verifyTape(tape).fingerprint });
  });

  it('-o in words names the file on stderr, stdout stays empty', async () => {
    const out = file('words.records.json');
    const r = await inProcess(['tape', 'records', tape, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`wrote 2 records to ${out} (sha256 ${sha(out)})\n`);
  });

  it.each([
    [['--verify', 'REC', '--job', 'job_x']],
    [['--verify', 'REC', '-o', 'OUT']],
    [['--verify', 'REC', '--events']],
    [['--events', '--json']],
    // -o writes the whole document: --events beside it was ignored without a word.
    [['--events', '-o', 'OUT']],
    [['--force']],
  ])('%j is a usage error (exit 2), nothing written', async (flags) => {
    const out = file(`never${flags.join('')}.json`);
    const r = await inProcess(['tape', 'records', tape, ...flags.map((f) => (f === 'REC' ? records : f === 'OUT' ? out : f))]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('tape keygen: default prefix, --force, words', () => {
  it('writes arcp-signing.key and .pub in the current folder by default', async () => {
    const cwd = file('keys-here');
    mkdirSync(cwd);
    const r = await inFolder(cwd, ['tape', 'keygen']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(join(cwd, 'arcp-signing.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(cwd, 'arcp-signing.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(r.stdout).toMatch(/^made an Ed25519 key pair ed25519:[0-9a-f]{32}\n {2}private arcp-signing\.key .*\n {2}public {2}arcp-signing\.pub /);
  });

  it('--force replaces an existing pair with a new one', async () => {
    const prefix = file('replaced');
    const first = json((await inProcess(['tape', 'keygen', '-o', prefix, '--json'])).stdout);
    const before = readFileSync(`${prefix}.key`, 'utf8');
    const r = await inProcess(['tape', 'keygen', '-o', prefix, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const second = json(r.stdout);
    expect(second.keyId).not.toBe(first.keyId);
    expect(readFileSync(`${prefix}.key`, 'utf8')).not.toBe(before);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
  });
});

describe('tape attest: default --out, --force, --json, -k -r -o', () => {
  let key = '';
  let pub = '';
  beforeAll(async () => {
    ({ privateKey: key, publicKey: pub } = json<{ privateKey: string; publicKey: string }>((await inProcess(['tape', 'keygen', '-o', file('signer'), '--json'])).stdout));
  });

  it('writes TAPE.attestation.json beside the tape by default, which tape verify accepts', async () => {
    const r = await inProcess(['tape', 'attest', tape, '--key', key]);
    expect(r.code, r.stderr).toBe(0);
    const att = `${tape}.attestation.json`;
    expect(r.stdout).toMatch(new RegExp(`^attested ${att.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    expect(JSON.parse(readFileSync(att, 'utf8'))).toMatchObject({ schema: 'arcp.attestation/1', statement: { tape: { fingerprint: verifyTape(tape).fingerprint, file: { sha256: sha(tape) } }, records: null } });
    expect((await inProcess(['tape', 'verify', tape, '--signature', att, '--pubkey', pub])).code).toBe(0);
  });

  it('refuses an existing attestation unless --force; --json is the file as written; -k -r -o are --key --records --out', async () => {
    const out = file('short.attestation.json');
    writeFileSync(out, 'keep me');
    const refused = await inProcess(['tape', 'attest', tape, '-k', key, '-r', records, '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/short\.attestation\.json exists/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const r = await inProcess(['tape', 'attest', tape, '-k', key, '-r', records, '-o', out, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const a = json<{ path: string; attestation: { statement: { records: { sha256: string } } } }>(r.stdout);
    expect(a.path).toBe(out);
    expect(a.attestation).toEqual(JSON.parse(readFileSync(out, 'utf8')));
    expect(a.attestation.statement.records).toMatchObject({ sha256: sha(records), count: 2 });
    const v = await inProcess(['tape', 'verify', tape, '--signature', out, '--pubkey', pub, '--records', records, '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect(json(v.stdout)).toMatchObject({ ok: true, attestation: { ok: true } });
  });
});
