import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KEYSET_PAYLOAD_TYPE,
  buildKeyset,
  keysetPayload,
  manifestKeysOf,
  signKeyset,
  signKeysetPayload,
  verifyKeyset,
} from './keyset.js';
import { generateKeyPair, keyId, signPayload, trustedKeyMap } from './signing.js';
import { MANIFEST_PAYLOAD_TYPE } from './manifest.js';

const root = generateKeyPair();
const stranger = generateKeyPair();
const signer = generateKeyPair();
const rootKeys = trustedKeyMap([root.publicKey]);

test('a root-signed keyset verifies and names its manifest keys', () => {
  const res = verifyKeyset(signKeyset(buildKeyset(1, [signer.publicKey]), root), { rootKeys });
  assert.ok(res.ok, !res.ok ? res.reason : '');
  assert.deepEqual([...manifestKeysOf(res.value).keys()], [keyId(signer.publicKey)]);
});

test('a keyset signed by another key, tampered with, or older than the held one is refused with its code', () => {
  const env = signKeyset(buildKeyset(2, [signer.publicKey]), root);
  const foreign = verifyKeyset(signKeyset(buildKeyset(2, [signer.publicKey]), stranger), { rootKeys });
  assert.equal(!foreign.ok && foreign.code, 'unknown-root');

  const tampered = {
    ...env,
    payload: Buffer.from(keysetPayload(buildKeyset(2, [stranger.publicKey]))).toString('base64'),
  };
  const bad = verifyKeyset(tampered, { rootKeys });
  assert.equal(!bad.ok && bad.code, 'bad-signature');

  const old = verifyKeyset(signKeyset(buildKeyset(1, [signer.publicKey]), root), { rootKeys, lastVersion: 2 });
  assert.equal(!old.ok && old.code, 'rollback');
  // The same version again is fine when it is the same document, refused when it is another one.
  assert.ok(verifyKeyset(env, { rootKeys, lastVersion: 2, lastPayload: env.payload }).ok);
  const other = verifyKeyset(signKeyset(buildKeyset(2, [stranger.publicKey]), root), {
    rootKeys,
    lastVersion: 2,
    lastPayload: env.payload,
  });
  assert.equal(!other.ok && other.code, 'rollback');
});

test('a root signature over a manifest is not a keyset, and the payload must be a keyset', () => {
  const asManifest = signPayload(MANIFEST_PAYLOAD_TYPE, keysetPayload(buildKeyset(1, [signer.publicKey])), root);
  const res = verifyKeyset(asManifest, { rootKeys });
  assert.equal(!res.ok && res.code, 'bad-keyset');
  const junk = verifyKeyset(signPayload(KEYSET_PAYLOAD_TYPE, Buffer.from('{"schema":"nope"}'), root), { rootKeys });
  assert.equal(!junk.ok && junk.code, 'bad-keyset');
  const mismatched = JSON.parse(Buffer.from(keysetPayload(buildKeyset(1, [signer.publicKey]))).toString()) as {
    keys: Array<{ keyid: string }>;
  };
  mismatched.keys[0]!.keyid = keyId(stranger.publicKey);
  const lying = verifyKeyset(signKeysetPayload(Buffer.from(JSON.stringify(mismatched)), root), { rootKeys });
  assert.equal(!lying.ok && lying.code, 'bad-keyset', 'a keyid must match its public key');
});
