import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ToolError } from '../errors.js';

/** A key's id: a digest of its public half (SPKI DER), which a signature names. */
export const keyId = (pub: KeyObject): string => `ed25519:${createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32)}`;

export interface KeyPairFiles {
  privateKey: string;
  publicKey: string;
  keyId: string;
}

/**
 * An Ed25519 key pair as two PEM files the user owns: `<prefix>.key` (PKCS#8, mode 0600) and
 * `<prefix>.pub` (SPKI). Existing files are replaced only with `force`.
 */
export function generateKeyFiles(prefix: string, force = false): KeyPairFiles {
  const privateKey = `${prefix}.key`;
  const publicKey = `${prefix}.pub`;
  for (const p of [privateKey, publicKey]) if (!force && existsSync(p)) throw new ToolError('E_USAGE', `${p} exists`, 'pass --force to replace the pair, or choose another --out');
  const pair = generateKeyPairSync('ed25519');
  try {
    writeFileSync(privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(privateKey, 0o600); // a replaced file keeps its old mode otherwise
    writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  } catch (e) {
    throw new ToolError('E_IO', `cannot write ${privateKey}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the folder exists and is writable');
  }
  return { privateKey, publicKey, keyId: keyId(pair.publicKey) };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ToolError('E_INPUT', code === 'ENOENT' ? `no ${what} at ${path}` : `cannot read ${path}: ${code ?? (e as Error).message}`, 'make a pair with `arcp tape keygen`');
  }
}

/** A private Ed25519 key from a PEM file, refused when others may read the file (as ssh does). */
export function loadPrivateKey(path: string): KeyObject {
  const pem = read(path, 'private key');
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new ToolError('E_INPUT', `${path} can be read by others (mode ${(statSync(path).mode & 0o777).toString(8)}): a private key must be yours alone`, `chmod 600 ${path}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ToolError('E_INPUT', `${path} is not a private key (PEM)`, 'pass the .key file `arcp tape keygen` wrote, not the .pub');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ToolError('E_INPUT', `${path} is an ${key.asymmetricKeyType} key; attestations are signed with Ed25519`, 'make a pair with `arcp tape keygen`');
  return key;
}

/** A public Ed25519 key from a PEM file (a private key file is refused: its public half is not what a verifier should hold). */
export function loadPublicKey(path: string): KeyObject {
  const pem = read(path, 'public key');
  if (/PRIVATE KEY/.test(pem.toString('latin1'))) throw new ToolError('E_INPUT', `${path} is a private key`, 'verify with the .pub file; the .key stays with the signer');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ToolError('E_INPUT', `${path} is not a public key (PEM)`, 'pass the .pub file `arcp tape keygen` wrote');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ToolError('E_INPUT', `${path} is an ${key.asymmetricKeyType} key; attestations are signed with Ed25519`, 'pass the .pub file `arcp tape keygen` wrote');
  return key;
}
