/**
 * @module store/repositories/key-repository
 * The signing chain's tables: `signing_keys` (public halves and state of every online signing key;
 * secret halves are files) and `keysets` (every root-signed keyset, newest = highest version).
 */
import type { Selectable } from 'kysely';
import type { SignedEnvelope } from '@edgeloop/protocol';
import type { KeyRepository } from '../fleet-store.js';
import type { SigningKeysTable } from '../schema.js';
import type { KeysetRecord, SigningKeyRecord, SigningKeyState } from '../store-types.js';
import type { RepositoryContext } from './context.js';

const toKey = (r: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  keyId: r.key_id,
  publicKey: r.public_key,
  state: r.state as SigningKeyState,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  retiredAt: r.retired_at,
  pendingKeyset: r.pending_keyset,
});

export class KyselyKeyRepository implements KeyRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async keys(state?: SigningKeyState): Promise<SigningKeyRecord[]> {
    let q = this.ctx.db().selectFrom('signing_keys').selectAll();
    if (state) q = q.where('state', '=', state);
    return (await q.orderBy('created_at').execute()).map(toKey);
  }

  async addPending(keyId: string, publicKey: string, keysetPayload: string, now = Date.now()): Promise<void> {
    await this.ctx
      .db()
      .insertInto('signing_keys')
      .values({
        key_id: keyId,
        public_key: publicKey,
        state: 'pending',
        created_at: now,
        pending_keyset: keysetPayload,
      })
      .execute();
  }

  async setPendingKeyset(keyId: string, keysetPayload: string): Promise<void> {
    await this.ctx
      .db()
      .updateTable('signing_keys')
      .set({ pending_keyset: keysetPayload })
      .where('key_id', '=', keyId)
      .where('state', '=', 'pending')
      .execute();
  }

  async latestKeyset(): Promise<KeysetRecord | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom('keysets')
      .selectAll()
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r && { version: r.version, envelope: JSON.parse(r.envelope) as SignedEnvelope, createdAt: r.created_at };
  }

  activate(keyId: string, version: number, envelope: SignedEnvelope, now = Date.now()): Promise<string[]> {
    return this.ctx.atomic(async () => {
      const db = this.ctx.db();
      const retired = (await this.keys()).filter((k) => k.state !== 'retired' && k.keyId !== keyId).map((k) => k.keyId);
      await db
        .insertInto('keysets')
        .values({ version, envelope: JSON.stringify(envelope), created_at: now })
        .execute();
      await db
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: now })
        .where('state', '=', 'active')
        .execute();
      // Other pending keys (an abandoned offline ceremony) are retired too: only one key signs.
      await db
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: now, pending_keyset: null })
        .where('state', '=', 'pending')
        .where('key_id', '!=', keyId)
        .execute();
      await db
        .updateTable('signing_keys')
        .set({ state: 'active', activated_at: now, pending_keyset: null })
        .where('key_id', '=', keyId)
        .execute();
      return retired;
    });
  }
}
