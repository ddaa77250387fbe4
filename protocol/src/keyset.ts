/**
 * @module keyset
 * The root → signing-key trust chain (TUF's root role, cut down to what a model fleet needs).
 *
 * Devices are configured with root public keys only. A root key signs exactly one kind of
 * document: a keyset, which lists the online keys allowed to sign manifests. Manifests are then
 * trusted only if a key of the latest keyset the device accepted signed them. Root keys never
 * sign manifests (TUF role separation): the root's private half can then stay offline, and a
 * compromised online signing key is replaced by a new keyset without touching any device.
 *
 * Keysets carry a monotonic `version`: a device refuses any keyset older than the one it holds
 * (a replayed keyset would bring a retired, perhaps compromised, key back). A keyset travels in
 * the same DSSE envelope as manifests, with its own payload type, so a signature over a keyset
 * can never be passed off as a signature over a manifest or vice versa.
 *
 * Keysets have no expiry of their own: freshness is enforced per manifest (manifests expire and
 * the fleet re-signs them), and an expiring keyset would force an offline root ceremony on a
 * timer. One valid root signature suffices (threshold 1); several root keys may be trusted.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeZodError, fail, ok, type Result } from './errors.js';
import {
  decodePublicKey,
  encodePublicKey,
  keyId,
  openEnvelope,
  signPayload,
  type SignedEnvelope,
  type SigningKeyPair,
} from './signing.js';

export const KEYSET_SCHEMA = 'edgeloop.keyset/v1';
export const KEYSET_PAYLOAD_TYPE = 'application/vnd.edgeloop.keyset+json';

const publicKeyText = z.string().refine((s) => {
  try {
    decodePublicKey(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a base64 ed25519 public key (32 bytes)');

export const keysetKeySchema = z
  .object({
    keyid: z.string().regex(/^[0-9a-f]{16}$/),
    publicKey: publicKeyText,
    /** What the key may sign: "manifest" = the online signing key, which signs manifests and desired states. */
    role: z.literal('manifest'),
  })
  .refine((k) => keyId(decodePublicKey(k.publicKey)) === k.keyid, {
    message: 'keyid does not match the public key',
    path: ['keyid'],
  });

export const keysetSchema = z.object({
  schema: z.literal(KEYSET_SCHEMA),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  created: z.iso.datetime({ offset: true }),
  keys: z.array(keysetKeySchema).min(1).max(8),
});
export type Keyset = z.infer<typeof keysetSchema>;

export type KeysetRejection = 'unknown-root' | 'bad-signature' | 'bad-keyset' | 'rollback';

/** A keyset listing these manifest signing keys. */
export function buildKeyset(version: number, keys: Iterable<Uint8Array>, created = new Date()): Keyset {
  return {
    schema: KEYSET_SCHEMA,
    version,
    created: created.toISOString(),
    keys: [...keys].map((k) => ({ keyid: keyId(k), publicKey: encodePublicKey(k), role: 'manifest' as const })),
  };
}

/** The exact bytes a root key signs: produced once by the fleet server, signed wherever the root lives. */
export function keysetPayload(keyset: Keyset): Uint8Array {
  const parsed = keysetSchema.safeParse(keyset);
  if (!parsed.success) throw new Error(`refusing to encode an invalid keyset: ${describeZodError(parsed.error)}`);
  return new Uint8Array(Buffer.from(JSON.stringify(parsed.data)));
}

/** Signs a keyset payload (as produced by keysetPayload, base64 or bytes) with a root key. */
export function signKeysetPayload(payload: Uint8Array | string, root: SigningKeyPair): SignedEnvelope {
  const bytes = typeof payload === 'string' ? new Uint8Array(Buffer.from(payload, 'base64')) : payload;
  return signPayload(KEYSET_PAYLOAD_TYPE, bytes, root);
}

export function signKeyset(keyset: Keyset, root: SigningKeyPair): SignedEnvelope {
  return signKeysetPayload(keysetPayload(keyset), root);
}

/** Decodes a keyset envelope's payload without checking any signature (for display and matching only). */
export function peekKeyset(envelope: SignedEnvelope): Keyset | undefined {
  try {
    const parsed = keysetSchema.safeParse(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface VerifyKeysetOptions {
  /** keyid → public key of every root key the verifier trusts. */
  rootKeys: ReadonlyMap<string, Uint8Array>;
  /** The version of the keyset accepted before; anything older is a rollback. */
  lastVersion?: number;
  /** That keyset's payload (base64): the same version is accepted again only with identical content. */
  lastPayload?: string;
}

/**
 * Checks envelope shape and payload type, a valid signature by a trusted root key, the keyset
 * schema, and that it is not older than (or a different document under the same version as)
 * the last accepted one.
 */
export function verifyKeyset(envelope: unknown, opts: VerifyKeysetOptions): Result<Keyset, KeysetRejection> {
  const opened = openEnvelope(envelope, KEYSET_PAYLOAD_TYPE, opts.rootKeys);
  if (!opened.ok) {
    switch (opened.code) {
      case 'malformed':
        return fail('bad-keyset', `keyset envelope is malformed: ${opened.reason}`);
      case 'wrong-type':
        return fail('bad-keyset', opened.reason);
      case 'unknown-key':
        return fail(
          'unknown-root',
          `keyset is signed by key(s) ${opened.reason}, none of which is a trusted root key (fleet.trustedKeys)`,
        );
      case 'bad-signature':
        return fail('bad-signature', 'keyset signature does not verify (tampered, or signed by another key)');
      case 'not-json':
        return fail('bad-keyset', 'signed keyset payload is not JSON');
    }
  }
  const json = opened.value;
  const parsed = keysetSchema.safeParse(json);
  if (!parsed.success) return fail('bad-keyset', `signed keyset is invalid: ${describeZodError(parsed.error)}`);
  const ks = parsed.data;
  if (opts.lastVersion !== undefined) {
    if (ks.version < opts.lastVersion)
      return fail('rollback', `keyset v${ks.version} is older than v${opts.lastVersion}, which was already accepted`);
    if (
      ks.version === opts.lastVersion &&
      opts.lastPayload !== undefined &&
      !samePayload(opts.lastPayload, (envelope as SignedEnvelope).payload)
    ) {
      return fail(
        'rollback',
        `keyset v${ks.version} differs from the v${ks.version} already accepted; a new keyset needs a higher version`,
      );
    }
  }
  return ok(ks);
}

function samePayload(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(Buffer.from(s, 'base64')).digest('hex');
  return digest(a) === digest(b);
}

/** keyid → public key of the keys a keyset authorises to sign manifests. */
export function manifestKeysOf(keyset: Keyset): Map<string, Uint8Array> {
  return new Map(keyset.keys.filter((k) => k.role === 'manifest').map((k) => [k.keyid, decodePublicKey(k.publicKey)]));
}
