/**
 * @module keys/signing-key
 * ed25519 key files: the base64 secret key, readable by the server's user only (0600 in a 0700
 * directory). Used for the root key (<data>/keys/root.key, or wherever an offline root lives)
 * and for each online signing key (<data>/keys/signing-<keyid>.key).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import {
  decodePublicKey,
  encodePublicKey,
  generateKeyPair,
  keyId,
  keyPairFromSecretKey,
  type SigningKeyPair,
} from '@edgeloop/protocol';

export interface FleetSigningKey extends SigningKeyPair {
  keyId: string;
  publicKeyBase64: string;
}

export function loadOrCreateSigningKey(path: string, log?: Logger): FleetSigningKey {
  let pair: SigningKeyPair;
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      log?.warn({ path, mode: mode.toString(8) }, 'signing key is readable by other users; tightening to 0600');
      chmodSync(path, 0o600);
    }
    const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (secret.length !== 64)
      throw new Error(
        `signing key ${path} is not a base64 ed25519 secret key (64 bytes); move it away to generate a new one`,
      );
    pair = keyPairFromSecretKey(new Uint8Array(secret));
  } else {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    pair = generateKeyPair();
    // 'wx' fails if another process created it meanwhile, instead of silently replacing a key.
    writeFileSync(path, `${Buffer.from(pair.secretKey).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    log?.info({ path, keyId: keyId(pair.publicKey) }, 'generated a new key');
  }
  return { ...pair, keyId: keyId(pair.publicKey), publicKeyBase64: encodePublicKey(pair.publicKey) };
}

export function describeKey(pair: SigningKeyPair): FleetSigningKey {
  return { ...pair, keyId: keyId(pair.publicKey), publicKeyBase64: encodePublicKey(pair.publicKey) };
}

/** Reads an existing key file (tightening loose permissions); throws with what to do when it is not one. */
export function readKeyFile(path: string, log?: Logger): FleetSigningKey {
  if (!existsSync(path))
    throw new Error(`key file ${path} does not exist; create one with "edgeloop keys init-root --out ${path}"`);
  return loadOrCreateSigningKey(path, log);
}

/** Writes a new key file; refuses to replace an existing one. */
export function createKeyFile(path: string, pair: SigningKeyPair = generateKeyPair()): FleetSigningKey {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${Buffer.from(pair.secretKey).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`${path} already exists; refusing to overwrite a key (move it away first)`, { cause: err });
    throw err;
  }
  return describeKey(pair);
}

/** A public key given on the command line: base64 itself, or a file holding it. */
export function readPublicKeyArg(value: string): Uint8Array {
  const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
  try {
    return decodePublicKey(text);
  } catch (err) {
    throw new Error(
      `root public key "${value}": ${(err as Error).message}; pass the base64 printed by "edgeloop keys init-root", or a file holding it`,
      { cause: err },
    );
  }
}
