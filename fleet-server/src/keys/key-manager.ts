/**
 * @module keys/key-manager
 * The fleet's trust chain: one root key and the online signing key it authorises.
 *
 * - Root: by default generated at <data>/keys/root.key (0600) so one machine runs everything.
 *   Offline-capable: started with only the root's public half (`--root-public-key`), the server
 *   cannot sign keysets itself; it prepares the unsigned keyset and the operator signs it where
 *   the root lives (`edgeloop keys rotate --root-key FILE`).
 * - Signing keys: one active at a time (<data>/keys/signing-<keyid>.key, 0600). A rotation makes
 *   a pending key, a keyset one version higher listing only that key, and — once the root signed
 *   it — activates it and retires the old key (its file is deleted: nothing may sign with it).
 *
 * A data directory from before the root existed holds keys/signing.key, the key devices were
 * told to trust. It is adopted as the root key, so those devices keep trusting the fleet.
 *
 * Re-signing manifests and republishing desired states after an activation is keys/rotation.ts.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  KEYSET_PAYLOAD_TYPE,
  buildKeyset,
  decodePublicKey,
  encodePublicKey,
  generateKeyPair,
  keyId,
  keysetPayload,
  peekKeyset,
  signKeysetPayload,
  trustedKeyMap,
  verifyKeyset,
  type KeysResponse,
  type Keyset,
  type PendingKeyset,
  type SignedEnvelope,
  type SigningKeyPair,
} from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore, KeyRepository } from '../store/fleet-store.js';
import { createKeyFile, loadOrCreateSigningKey, type FleetSigningKey } from './signing-key.js';

export interface RootKey {
  keyId: string;
  publicKey: Uint8Array;
  publicKeyBase64: string;
  /** Present only when the root's private half is on this server. */
  pair?: SigningKeyPair;
}

export interface KeyManagerOptions {
  store: FleetStore;
  keysDir: string;
  /** Run with only the root's public half (offline root). */
  rootPublicKey?: Uint8Array;
  log: Logger;
}

export class KeyManager {
  readonly root: RootKey;
  private readonly store: KeyRepository;
  private activeKey: FleetSigningKey | undefined;

  constructor(private readonly opts: KeyManagerOptions) {
    this.store = opts.store.keys;
    this.root = loadRoot(opts);
  }

  /**
   * Start-up: make sure a keyset signed by this root is in force. With a local root that is done
   * on the spot; with an offline one a pending keyset waits for the operator (registering models
   * fails until then, with what to run).
   */
  async bootstrap(): Promise<{ state: 'ready' | 'pending' | 'activated'; keyset?: Keyset }> {
    const current = await this.store.latestKeyset();
    if (current && this.verifiesUnderRoot(current.envelope) && (await this.active())) return { state: 'ready' };
    if (current)
      this.opts.log.warn(
        { keysetVersion: current.version, root: this.root.keyId },
        'the current keyset is not signed by the configured root key; a new keyset is needed',
      );
    if (this.root.pair) return { state: 'activated', keyset: await this.rotateLocally() };
    const pending = await this.prepare();
    this.opts.log.warn(
      { keyId: pending.keyId, version: pending.version },
      'no keyset signed by the offline root yet: run "edgeloop keys rotate --root-key FILE" to sign it',
    );
    return { state: 'pending' };
  }

  /** The key that signs manifests now; throws (409) before the first keyset is signed. */
  private async active() {
    return (await this.store.keys('active')).at(-1);
  }

  private async pending() {
    return (await this.store.keys('pending')).at(-1);
  }

  async signingKey(): Promise<FleetSigningKey> {
    const row = await this.active();
    if (!row) {
      throw new RegistryError(
        409,
        'there is no active signing key yet: the offline root must sign the first keyset; run "edgeloop keys rotate --root-key FILE"',
      );
    }
    if (this.activeKey?.keyId !== row.keyId) this.activeKey = this.loadActive(row.keyId);
    return this.activeKey;
  }

  /**
   * The active key's file, which prepare() wrote. Never made up on the spot: a new key under the
   * active id would sign manifests no device accepts. Missing means this server does not see the
   * folder the key was written to (in a cluster: the shared folder).
   */
  private loadActive(id: string): FleetSigningKey {
    const path = this.keyPath(id);
    if (!existsSync(path))
      throw new Error(
        `the active signing key ${id} has no key file at ${path}: every fleet server must see the same keys folder (cluster.sharedDir, docs/cluster.md)`,
      );
    const key = loadOrCreateSigningKey(path, this.opts.log);
    if (key.keyId !== id) throw new Error(`${path} holds key ${key.keyId}, not the active key ${id}`);
    return key;
  }

  /** The newest keyset envelope, as devices get it in their desired state. */
  async keysetEnvelope(): Promise<SignedEnvelope | undefined> {
    return (await this.store.latestKeyset())?.envelope;
  }

  async keysetVersion(): Promise<number> {
    return (await this.store.latestKeyset())?.version ?? 0;
  }

  /**
   * A pending key and its unsigned keyset (version = current + 1, listing only the new key).
   * Idempotent: asking again returns the same pending key, so a ceremony can be retried.
   */
  async prepare(now = new Date()): Promise<PendingKeyset> {
    const version = (await this.keysetVersion()) + 1;
    const existing = await this.pending();
    if (existing && existsSync(this.keyPath(existing.keyId))) {
      let payload = existing.pendingKeyset;
      if (!payload || peekVersion(payload) !== version) {
        payload = Buffer.from(keysetPayload(buildKeyset(version, [decodePublicKey(existing.publicKey)], now))).toString(
          'base64',
        );
        await this.store.setPendingKeyset(existing.keyId, payload);
      }
      return { keyId: existing.keyId, version, payloadType: KEYSET_PAYLOAD_TYPE, payload };
    }
    const pair = generateKeyPair();
    const id = keyId(pair.publicKey);
    createKeyFile(this.keyPath(id), pair);
    const payload = Buffer.from(keysetPayload(buildKeyset(version, [pair.publicKey], now))).toString('base64');
    await this.store.addPending(id, encodePublicKey(pair.publicKey), payload, now.getTime());
    this.opts.log.info(
      { keyId: id, version },
      'new signing key created; waiting for its keyset to be signed by the root',
    );
    return { keyId: id, version, payloadType: KEYSET_PAYLOAD_TYPE, payload };
  }

  /**
   * Activates the pending key with its root-signed keyset. The envelope must carry exactly the
   * prepared payload (so nobody can slip in other keys) and a valid root signature.
   */
  async complete(envelope: unknown, now = Date.now()): Promise<{ keyset: Keyset; retired: string[] }> {
    const pending = await this.pending();
    if (!pending?.pendingKeyset)
      throw new RegistryError(409, 'no key rotation is pending; start one with "edgeloop keys rotate"');
    const last = await this.store.latestKeyset();
    const verdict = verifyKeyset(envelope, {
      rootKeys: trustedKeyMap([this.root.publicKey]),
      ...(last ? { lastVersion: last.version } : {}),
    });
    if (!verdict.ok)
      throw new RegistryError(
        400,
        `keyset refused (${verdict.code}): ${verdict.reason}; sign the pending payload with the root key (edgeloop keys rotate --root-key FILE)`,
      );
    const env = envelope as SignedEnvelope;
    if (env.payload !== pending.pendingKeyset) {
      throw new RegistryError(
        409,
        `the signed keyset is not the pending one (key ${pending.keyId}, v${peekVersion(pending.pendingKeyset)}); fetch it again with "edgeloop keys rotate" and sign that`,
      );
    }
    const envelopeToStore: SignedEnvelope = {
      payloadType: env.payloadType,
      payload: env.payload,
      signatures: env.signatures,
    };
    const retired = await this.store.activate(pending.keyId, verdict.value.version, envelopeToStore, now);
    for (const id of retired) rmSync(this.keyPath(id), { force: true });
    this.activeKey = undefined;
    this.opts.log.info(
      { keyId: pending.keyId, keysetVersion: verdict.value.version, retired },
      'signing key activated',
    );
    return { keyset: verdict.value, retired };
  }

  /** prepare + sign with the local root + complete. */
  async rotateLocally(now = new Date()): Promise<Keyset> {
    if (!this.root.pair) {
      throw new RegistryError(
        409,
        'the root key is offline (the server has only its public half); sign the pending keyset with "edgeloop keys rotate --root-key FILE"',
      );
    }
    const pending = await this.prepare(now);
    return (await this.complete(signKeysetPayload(pending.payload, this.root.pair), now.getTime())).keyset;
  }

  async view(): Promise<KeysResponse> {
    const active = await this.active();
    const pending = await this.pending();
    const latest = await this.store.latestKeyset();
    const ks = latest ? peekKeyset(latest.envelope) : undefined;
    return {
      root: { keyId: this.root.keyId, publicKey: this.root.publicKeyBase64, local: this.root.pair !== undefined },
      signingKey: active ? { keyId: active.keyId, publicKey: active.publicKey, activatedAt: active.activatedAt } : null,
      pending: pending?.pendingKeyset
        ? {
            keyId: pending.keyId,
            version: peekVersion(pending.pendingKeyset),
            payloadType: KEYSET_PAYLOAD_TYPE,
            payload: pending.pendingKeyset,
          }
        : null,
      keyset: ks ? { version: ks.version, keyIds: ks.keys.map((k) => k.keyid), created: ks.created } : null,
      retired: (await this.store.keys('retired')).map((k) => ({ keyId: k.keyId, retiredAt: k.retiredAt })),
    };
  }

  private verifiesUnderRoot(envelope: SignedEnvelope): boolean {
    return verifyKeyset(envelope, { rootKeys: trustedKeyMap([this.root.publicKey]) }).ok;
  }

  private keyPath(id: string): string {
    return join(this.opts.keysDir, `signing-${id}.key`);
  }
}

/**
 * A cluster's servers share one keys folder. One that finds no root key there while the fleet
 * already has a keyset is looking at the wrong folder (the share not mounted): making a new root
 * would sign a keyset no device trusts, so it refuses to start.
 */
export async function checkSharedRoot(store: FleetStore, keysDir: string): Promise<void> {
  if (existsSync(join(keysDir, 'root.key')) || existsSync(join(keysDir, 'signing.key'))) return;
  const current = await store.keys.latestKeyset();
  if (current)
    throw new Error(
      `the fleet has keyset v${current.version} but ${keysDir} holds no root key: is the shared folder (cluster.sharedDir) mounted? Every server of a cluster must see the same keys (docs/cluster.md)`,
    );
}

/** The version a (trusted, self-made) pending keyset payload carries. */
function peekVersion(payloadBase64: string): number {
  try {
    return (JSON.parse(Buffer.from(payloadBase64, 'base64').toString('utf8')) as { version?: number }).version ?? 0;
  } catch {
    return 0;
  }
}

function loadRoot(opts: KeyManagerOptions): RootKey {
  const rootPath = join(opts.keysDir, 'root.key');
  if (opts.rootPublicKey) {
    if (existsSync(rootPath))
      opts.log.warn(
        { path: rootPath },
        'a local root key exists but --root-public-key was given: the local file is not used',
      );
    return {
      keyId: keyId(opts.rootPublicKey),
      publicKey: opts.rootPublicKey,
      publicKeyBase64: encodePublicKey(opts.rootPublicKey),
    };
  }
  const legacy = join(opts.keysDir, 'signing.key');
  if (!existsSync(rootPath) && existsSync(legacy)) {
    // Devices were configured with this key's public half: keeping it as the root keeps them.
    renameSync(legacy, rootPath);
    opts.log.info(
      { path: rootPath },
      'adopted the existing fleet signing key as the root key (devices trust it already)',
    );
  }
  const pair = loadOrCreateSigningKey(rootPath, opts.log);
  return { keyId: pair.keyId, publicKey: pair.publicKey, publicKeyBase64: pair.publicKeyBase64, pair };
}

/** The key fields of /api/v1/health: devices trust `publicKey` (the root); `keyId` is the signing key. */
export async function keyHealth(keys: KeyManager) {
  const view = await keys.view();
  return {
    keyId: view.signingKey?.keyId ?? '',
    publicKey: view.root.publicKey,
    rootKeyId: view.root.keyId,
    signingKeyId: view.signingKey?.keyId ?? null,
    keysetVersion: view.keyset?.version ?? 0,
  };
}
