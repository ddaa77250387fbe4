/**
 * @module updates/trust-store
 * Which keys this device trusts to sign manifests and desired states.
 *
 * Configured (`fleet.trustedKeys`): the fleet's root public keys. They sign keysets only; a
 * keyset lists the online keys that sign manifests (protocol/src/keyset.ts). Every desired state
 * carries the fleet's current keyset; it is accepted when a root key signed it and its version
 * is not below the one held (anti-rollback: a replayed old keyset would bring back a retired,
 * perhaps compromised, key). The accepted keyset is persisted (agent-db `kv`, key
 * `trust.keyset`) so that after a restart the same keys — and the same version floor — apply.
 *
 * A keyset that is refused changes nothing: the device keeps trusting what it trusted, and
 * manifests signed by keys outside it are refused (`unknown-key`) by the update manager.
 */
import type { Logger } from 'pino';
import {
  manifestKeysOf,
  verifyKeyset,
  type Keyset,
  type KeysetRejection,
  type SignedEnvelope,
} from '@edgeloop/protocol';
import type { KeyValue } from '../store/agent-db.js';

const KV_KEY = 'trust.keyset';

export type KeysetVerdict =
  | { state: 'none' | 'same' | 'accepted'; version?: number }
  | { state: 'refused'; code: KeysetRejection; reason: string };

export class TrustStore {
  private keyset: Keyset | undefined;
  private envelope: SignedEnvelope | undefined;
  private manifestKeyMap: ReadonlyMap<string, Uint8Array> = new Map();
  private lastRefusal: string | undefined;

  constructor(
    private readonly rootKeys: ReadonlyMap<string, Uint8Array>,
    private readonly kv: KeyValue,
    private readonly log: Logger,
  ) {
    this.load();
  }

  /** Accepts the keyset a desired state carries (or keeps the current one when it is absent or refused). */
  accept(envelope: SignedEnvelope | undefined): KeysetVerdict {
    if (!envelope) return { state: 'none' };
    const verdict = verifyKeyset(envelope, {
      rootKeys: this.rootKeys,
      ...(this.keyset ? { lastVersion: this.keyset.version, lastPayload: this.envelope!.payload } : {}),
    });
    if (!verdict.ok) {
      this.lastRefusal = `keyset refused (${verdict.code}): ${verdict.reason}`;
      this.log.warn(
        { code: verdict.code, reason: verdict.reason, held: this.keyset?.version },
        'keyset refused; the keys trusted so far stay in force',
      );
      return { state: 'refused', code: verdict.code, reason: verdict.reason };
    }
    if (this.keyset && verdict.value.version === this.keyset.version)
      return { state: 'same', version: this.keyset.version };
    this.kv.set(KV_KEY, JSON.stringify(envelope));
    const before = this.keyset?.version;
    this.use(verdict.value, envelope);
    this.lastRefusal = undefined;
    this.log.info(
      { version: verdict.value.version, previous: before, keyIds: verdict.value.keys.map((k) => k.keyid) },
      'accepted a new keyset',
    );
    return { state: 'accepted', version: verdict.value.version };
  }

  /**
   * The signing keys `envelope` would bring, without accepting it: a desired state's signature is
   * checked against the keyset it carries before anything in it (that keyset included) is taken.
   */
  check(
    envelope: unknown,
  ):
    | { ok: true; keys: ReadonlyMap<string, Uint8Array>; version: number }
    | { ok: false; code: KeysetRejection; reason: string } {
    const verdict = verifyKeyset(envelope, {
      rootKeys: this.rootKeys,
      ...(this.keyset ? { lastVersion: this.keyset.version, lastPayload: this.envelope!.payload } : {}),
    });
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: verdict.reason };
    return { ok: true, keys: manifestKeysOf(verdict.value), version: verdict.value.version };
  }

  /** keyid → public key of every key allowed to sign manifests now (for verifyManifest). */
  manifestKeys(): ReadonlyMap<string, Uint8Array> {
    return this.manifestKeyMap;
  }

  version(): number | undefined {
    return this.keyset?.version;
  }

  /** Appended to an unknown-key rejection so the report says what the device trusts and why. */
  explain(): string {
    const held = this.keyset
      ? `this device trusts signing key(s) ${this.keyset.keys.map((k) => k.keyid).join(', ')} (keyset v${this.keyset.version})`
      : 'this device has not accepted a keyset yet: check that fleet.trustedKeys holds the fleet root public key (edgeloop keys show)';
    return this.lastRefusal ? `${held}; last ${this.lastRefusal}` : held;
  }

  private load(): void {
    const text = this.kv.get(KV_KEY);
    if (!text) return;
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      envelope = undefined;
    }
    // Re-verified on every start: if the configured roots changed, the stored keyset no longer counts.
    const verdict = verifyKeyset(envelope, { rootKeys: this.rootKeys });
    if (!verdict.ok) {
      this.log.warn(
        { code: verdict.code, reason: verdict.reason },
        'the stored keyset is not signed by a configured root key; waiting for one from the fleet',
      );
      return;
    }
    this.use(verdict.value, envelope as SignedEnvelope);
  }

  private use(keyset: Keyset, envelope: SignedEnvelope): void {
    this.keyset = keyset;
    this.envelope = envelope;
    this.manifestKeyMap = manifestKeysOf(keyset);
  }
}
