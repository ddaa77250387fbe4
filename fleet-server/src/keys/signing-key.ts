/**
 * @module keys/signing-key
 * The fleet's ed25519 signing key: generated on first start, kept on disk readable by the
 * server's user only (0600 in a 0700 directory). Agents are given the public half.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { encodePublicKey, generateKeyPair, keyId, keyPairFromSecretKey, type SigningKeyPair } from '@edgeloop/protocol';

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
    if (secret.length !== 64) throw new Error(`signing key ${path} is not a base64 ed25519 secret key (64 bytes); move it away to generate a new one`);
    pair = keyPairFromSecretKey(new Uint8Array(secret));
  } else {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    pair = generateKeyPair();
    // 'wx' fails if another process created it meanwhile, instead of silently replacing a key.
    writeFileSync(path, `${Buffer.from(pair.secretKey).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    log?.info({ path, keyId: keyId(pair.publicKey) }, 'generated a new fleet signing key');
  }
  return { ...pair, keyId: keyId(pair.publicKey), publicKeyBase64: encodePublicKey(pair.publicKey) };
}
