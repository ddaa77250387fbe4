/**
 * @module keys/key-store
 * The signing_keys and keysets tables (keys-schema.ts). Only public halves and signed keysets
 * live in the database; secret halves are files (signing-key.ts).
 */
import type { SignedEnvelope } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';

export type SigningKeyState = 'pending' | 'active' | 'retired';

export interface SigningKeyRow {
  keyId: string;
  publicKey: string;
  state: SigningKeyState;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  /** Base64 keyset payload waiting for the root's signature (pending keys only). */
  pendingKeyset: string | null;
}

export interface KeysetRow {
  version: number;
  envelope: SignedEnvelope;
  createdAt: number;
}

interface KeyRow { key_id: string; public_key: string; state: SigningKeyState; created_at: number; activated_at: number | null; retired_at: number | null; pending_keyset: string | null }

const toKey = (r: KeyRow): SigningKeyRow => ({
  keyId: r.key_id, publicKey: r.public_key, state: r.state, createdAt: r.created_at, activatedAt: r.activated_at, retiredAt: r.retired_at, pendingKeyset: r.pending_keyset,
});

export class KeyStore {
  constructor(private readonly db: FleetDb) {}

  keys(state?: SigningKeyState): SigningKeyRow[] {
    const rows = state
      ? this.db.prepare('SELECT * FROM signing_keys WHERE state = ? ORDER BY created_at').all(state)
      : this.db.prepare('SELECT * FROM signing_keys ORDER BY created_at').all();
    return (rows as KeyRow[]).map(toKey);
  }

  active(): SigningKeyRow | undefined {
    return this.keys('active').at(-1);
  }

  pending(): SigningKeyRow | undefined {
    return this.keys('pending').at(-1);
  }

  addPending(keyId: string, publicKey: string, keysetPayload: string, now = Date.now()): void {
    this.db.prepare("INSERT INTO signing_keys (key_id, public_key, state, created_at, pending_keyset) VALUES (?, ?, 'pending', ?, ?)").run(keyId, publicKey, now, keysetPayload);
  }

  setPendingKeyset(keyId: string, keysetPayload: string): void {
    this.db.prepare("UPDATE signing_keys SET pending_keyset = ? WHERE key_id = ? AND state = 'pending'").run(keysetPayload, keyId);
  }

  latestKeyset(): KeysetRow | undefined {
    const r = this.db.prepare('SELECT * FROM keysets ORDER BY version DESC LIMIT 1').get() as { version: number; envelope: string; created_at: number } | undefined;
    return r ? { version: r.version, envelope: JSON.parse(r.envelope) as SignedEnvelope, createdAt: r.created_at } : undefined;
  }

  /**
   * One transaction: the keyset is stored, the pending key becomes the active one, and every
   * previously active key is retired (no longer listed, so no longer trusted by devices).
   * Returns the key ids retired.
   */
  activate(keyId: string, version: number, envelope: SignedEnvelope, now = Date.now()): string[] {
    return this.db.transaction(() => {
      const retired = this.keys().filter((k) => k.state !== 'retired' && k.keyId !== keyId).map((k) => k.keyId);
      this.db.prepare('INSERT INTO keysets (version, envelope, created_at) VALUES (?, ?, ?)').run(version, JSON.stringify(envelope), now);
      this.db.prepare("UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE state = 'active'").run(now);
      // Other pending keys (an abandoned offline ceremony) are retired too: only one key signs.
      this.db.prepare("UPDATE signing_keys SET state = 'retired', retired_at = ?, pending_keyset = NULL WHERE state = 'pending' AND key_id != ?").run(now, keyId);
      this.db.prepare("UPDATE signing_keys SET state = 'active', activated_at = ?, pending_keyset = NULL WHERE key_id = ?").run(now, keyId);
      return retired;
    })();
  }
}
