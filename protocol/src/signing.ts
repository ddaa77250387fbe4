/**
 * @module signing
 * ed25519 signatures over manifests (and keysets, desired states), in a DSSE-style envelope: the signature covers the
 * exact payload bytes plus their type (pre-authentication encoding), so no JSON canonicalisation
 * is needed and a payload can never be reinterpreted as another type. Several signatures may
 * be attached, which is where root-authorised key rotation plugs in.
 */
import nacl from 'tweetnacl';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import type { z } from 'zod';
import { describeZodError, fail, ok, type Result } from './errors.js';
import { signedEnvelopeSchema, type SignedEnvelope } from './envelope.js';
import { MANIFEST_PAYLOAD_TYPE, manifestSchema, type Arch, type Manifest, type ManifestInput } from './manifest.js';

export { signedEnvelopeSchema, type SignedEnvelope };

export interface SigningKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateKeyPair(): SigningKeyPair {
  const kp = nacl.sign.keyPair();
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

export function keyPairFromSecretKey(secretKey: Uint8Array): SigningKeyPair {
  const kp = nacl.sign.keyPair.fromSecretKey(secretKey);
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** Short, stable key identifier: first 8 bytes of sha256(publicKey), hex. */
export function keyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

export function encodePublicKey(publicKey: Uint8Array): string {
  return Buffer.from(publicKey).toString('base64');
}

export function decodePublicKey(text: string): Uint8Array {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== nacl.sign.publicKeyLength) {
    throw new Error(`public key must be ${nacl.sign.publicKeyLength} bytes base64-encoded, got ${bytes.length} bytes`);
  }
  return new Uint8Array(bytes);
}

/** DSSE pre-authentication encoding (exported for keyset.ts: one encoding for every signed payload type). */
function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const header = Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `);
  return Buffer.concat([header, payload]);
}

/*
 * Signing and verifying run on node:crypto's Ed25519 (OpenSSL), about a hundred times faster than
 * tweetnacl's JavaScript (measured: 0.07 ms vs 8.7 ms per signature). Ed25519 is deterministic,
 * so the signatures are byte for byte the ones tweetnacl makes; that matters once every desired
 * state of every device is signed. Keys stay in tweetnacl's format (64-byte secret = seed + public).
 */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/*
 * Parsing a key into OpenSSL costs far more than a signature (about 1.6 ms against 0.07 ms), and a
 * server signs with the same few keys all day (a desired state per device birth), so parsed keys
 * are kept per secret-key array; a key pair's arrays live as long as the key is in use.
 */
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  let key = privateKeys.get(secretKey);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey.subarray(0, 32)]),
      format: 'der',
      type: 'pkcs8',
    });
    privateKeys.set(secretKey, key);
  }
  return new Uint8Array(cryptoSign(null, message, key));
}

function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== nacl.sign.signatureLength || publicKey.length !== nacl.sign.publicKeyLength) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

export function signPayload(payloadType: string, payload: Uint8Array, key: SigningKeyPair): SignedEnvelope {
  const sig = ed25519Sign(pae(payloadType, payload), key.secretKey);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: keyId(key.publicKey), sig: Buffer.from(sig).toString('base64') }],
  };
}

/** Validates and signs a manifest; throws if the manifest itself is invalid (a bug on the signer's side). */
export function signManifest(manifest: ManifestInput, key: SigningKeyPair): SignedEnvelope {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) throw new Error(`refusing to sign an invalid manifest: ${describeZodError(parsed.error)}`);
  return signPayload(MANIFEST_PAYLOAD_TYPE, Buffer.from(JSON.stringify(parsed.data)), key);
}

export type ManifestRejection =
  | 'bad-envelope'
  | 'unknown-key'
  | 'bad-signature'
  | 'bad-manifest'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-target'
  | 'rollback'
  | 'version-reuse';

export interface VerifyManifestOptions {
  /** keyid → public key of every key this verifier trusts. */
  trustedKeys: ReadonlyMap<string, Uint8Array>;
  now?: Date;
  /** The device's own arch and hardware class, checked against manifest.targets. */
  arch?: Arch | string;
  hardware?: string;
  /** Tolerated clock skew for "created" in the future; devices often boot without NTP. */
  clockSkewMs?: number;
}

export function trustedKeyMap(publicKeys: Iterable<Uint8Array>): Map<string, Uint8Array> {
  return new Map([...publicKeys].map((k) => [keyId(k), k]));
}

export type EnvelopeRejection = 'malformed' | 'wrong-type' | 'unknown-key' | 'bad-signature' | 'not-json';

/**
 * The part every signed document shares (manifests, keysets): envelope shape, payload type, a
 * valid signature by one of `keys`, and a JSON payload. For `unknown-key` the reason is the list
 * of key ids that signed; callers phrase the message for their document.
 */
export function openEnvelope(
  envelope: unknown,
  payloadType: string,
  keys: ReadonlyMap<string, Uint8Array>,
  /** A document type with its own size limit (desired states carry whole manifests) passes its own schema. */
  schema: z.ZodType<SignedEnvelope> = signedEnvelopeSchema,
): Result<unknown, EnvelopeRejection> {
  const env = schema.safeParse(envelope);
  if (!env.success) return fail('malformed', describeZodError(env.error));
  if (env.data.payloadType !== payloadType)
    return fail('wrong-type', `payload type "${env.data.payloadType}" is not ${payloadType}`);
  const payload = new Uint8Array(Buffer.from(env.data.payload, 'base64'));
  const message = pae(env.data.payloadType, payload);
  let sawTrustedKey = false;
  for (const { keyid, sig } of env.data.signatures) {
    const key = keys.get(keyid);
    if (!key) continue;
    sawTrustedKey = true;
    const sigBytes = new Uint8Array(Buffer.from(sig, 'base64'));
    if (ed25519Verify(message, sigBytes, key)) {
      try {
        return ok(JSON.parse(Buffer.from(payload).toString('utf8')) as unknown);
      } catch {
        return fail('not-json', 'signed payload is not JSON');
      }
    }
  }
  if (!sawTrustedKey) return fail('unknown-key', env.data.signatures.map((s) => s.keyid).join(', '));
  return fail('bad-signature', 'no signature by a trusted key verifies');
}

/**
 * Checks envelope shape, a signature by a trusted key, manifest schema, validity window and
 * target. Anti-rollback needs the device's persisted state, so it lives in checkVersionCounter.
 */
export function verifyManifest(envelope: unknown, opts: VerifyManifestOptions): Result<Manifest, ManifestRejection> {
  const opened = openEnvelope(envelope, MANIFEST_PAYLOAD_TYPE, opts.trustedKeys);
  if (!opened.ok) {
    switch (opened.code) {
      case 'malformed':
        return fail('bad-envelope', `signed envelope is malformed: ${opened.reason}`);
      case 'wrong-type':
        return fail('bad-envelope', opened.reason);
      case 'unknown-key':
        return fail('unknown-key', `manifest is signed by key(s) ${opened.reason}, none of which this device trusts`);
      case 'bad-signature':
        return fail('bad-signature', 'signature does not match the manifest (tampered or signed by another key)');
      case 'not-json':
        return fail('bad-manifest', opened.reason);
    }
  }
  const json = opened.value;
  const manifest = manifestSchema.safeParse(json);
  if (!manifest.success) return fail('bad-manifest', `signed manifest is invalid: ${describeZodError(manifest.error)}`);
  const m = manifest.data;

  const now = (opts.now ?? new Date()).getTime();
  if (Date.parse(m.expires) <= now)
    return fail('expired', `manifest for ${m.name} v${m.version} expired at ${m.expires}`);
  if (Date.parse(m.created) > now + (opts.clockSkewMs ?? 24 * 3600_000)) {
    return fail('not-yet-valid', `manifest for ${m.name} v${m.version} is created in the future (${m.created})`);
  }
  if (opts.arch && !m.targets.arch.includes(opts.arch as Arch)) {
    return fail('wrong-target', `manifest targets arch ${m.targets.arch.join('/')}, this device is ${opts.arch}`);
  }
  if (opts.hardware && m.targets.hardware.length > 0 && !m.targets.hardware.includes(opts.hardware)) {
    return fail(
      'wrong-target',
      `manifest targets hardware ${m.targets.hardware.join('/')}, this device is ${opts.hardware}`,
    );
  }
  return ok(m);
}

/**
 * Anti-rollback: a device accepts a version only if it is newer than the last one it accepted
 * for that model name, or the very same artifact again (an idempotent re-delivery).
 */
export function checkVersionCounter(
  manifest: { name: string; version: number; artifact: { sha256: string } },
  lastAccepted: { version: number; sha256: string } | undefined,
): Result<'new' | 'same', 'rollback' | 'version-reuse'> {
  if (!lastAccepted || manifest.version > lastAccepted.version) return ok('new');
  if (manifest.version < lastAccepted.version) {
    return fail(
      'rollback',
      `${manifest.name} v${manifest.version} is older than v${lastAccepted.version}, which this device already accepted`,
    );
  }
  if (manifest.artifact.sha256 !== lastAccepted.sha256) {
    return fail(
      'version-reuse',
      `${manifest.name} v${manifest.version} was already accepted with a different artifact`,
    );
  }
  return ok('same');
}
