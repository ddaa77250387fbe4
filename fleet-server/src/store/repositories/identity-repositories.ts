/**
 * @module store/repositories/identity-repositories
 * Device credentials, enrollment tokens and admin tokens. Secrets arrive here as sha256 digests
 * only (identity/secrets.ts); what a token or credential means is decided in identity/.
 */
import type { Selectable } from 'kysely';
import type { AdminRole, AdminTokenSummary } from '@edgeloop/protocol';
import type {
  AdminTokenRepository,
  CredentialRepository,
  EnrollmentTokenRepository,
  EnrollmentTokenRow,
} from '../fleet-store.js';
import type { AdminTokensTable, EnrollmentTokensTable } from '../schema.js';
import { count, parseJson, type RepositoryContext } from './context.js';

export class KyselyCredentialRepository implements CredentialRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async put(deviceId: string, secretHash: string, issuedAt: number, enrolledWith: string | null): Promise<void> {
    await this.ctx
      .db()
      .insertInto('device_credentials')
      .values({ device_id: deviceId, secret_hash: secretHash, issued_at: issuedAt, enrolled_with: enrolledWith })
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet((eb) => ({
          secret_hash: eb.ref('excluded.secret_hash'),
          issued_at: eb.ref('excluded.issued_at'),
          enrolled_with: eb.ref('excluded.enrolled_with'),
        })),
      )
      .execute();
  }

  async get(deviceId: string) {
    const r = await this.ctx
      .db()
      .selectFrom('device_credentials')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return r && { secretHash: r.secret_hash, issuedAt: r.issued_at, enrolledWith: r.enrolled_with };
  }

  async remove(deviceId: string): Promise<boolean> {
    return (
      count(
        (await this.ctx.db().deleteFrom('device_credentials').where('device_id', '=', deviceId).executeTakeFirst())
          .numDeletedRows,
      ) > 0
    );
  }
}

const toToken = (r: Selectable<EnrollmentTokensTable>): EnrollmentTokenRow => ({
  id: r.id,
  uses: r.uses,
  usesLeft: r.uses_left,
  expiresAt: r.expires_at,
  group: r.device_group,
  tags: parseJson<Record<string, string>>(r.tags, {}),
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});

export class KyselyEnrollmentTokenRepository implements EnrollmentTokenRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insert(t: EnrollmentTokenRow & { tokenHash: string }): Promise<void> {
    await this.ctx
      .db()
      .insertInto('enrollment_tokens')
      .values({
        id: t.id,
        token_hash: t.tokenHash,
        uses: t.uses,
        uses_left: t.usesLeft,
        expires_at: t.expiresAt,
        device_group: t.group,
        tags: JSON.stringify(t.tags),
        created_at: t.createdAt,
        created_by: t.createdBy,
        revoked_at: t.revokedAt,
      })
      .execute();
  }

  async get(id: string) {
    const r = await this.ctx.db().selectFrom('enrollment_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toToken(r);
  }

  async byHash(tokenHash: string) {
    const r = await this.ctx
      .db()
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return r && toToken(r);
  }

  async list() {
    return (
      await this.ctx.db().selectFrom('enrollment_tokens').selectAll().orderBy('created_at').orderBy('id').execute()
    ).map(toToken);
  }

  async revoke(id: string, now = Date.now()): Promise<boolean> {
    const r = await this.ctx
      .db()
      .updateTable('enrollment_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }

  async takeUse(id: string): Promise<boolean> {
    // The conditional update is the atomic decrement: two racing for the last use cannot both get it.
    const r = await this.ctx
      .db()
      .updateTable('enrollment_tokens')
      .set((eb) => ({ uses_left: eb('uses_left', '-', 1) }))
      .where('id', '=', id)
      .where('uses_left', '>', 0)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }
}

const toAdmin = (r: Selectable<AdminTokensTable>): AdminTokenSummary => ({
  id: r.id,
  name: r.name,
  role: r.role as AdminRole,
  createdAt: r.created_at,
  createdBy: r.created_by,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class KyselyAdminTokenRepository implements AdminTokenRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insert(t: Omit<AdminTokenSummary, 'lastUsedAt' | 'revokedAt'> & { tokenHash: string }): Promise<void> {
    await this.ctx
      .db()
      .insertInto('admin_tokens')
      .values({
        id: t.id,
        name: t.name,
        role: t.role,
        token_hash: t.tokenHash,
        created_at: t.createdAt,
        created_by: t.createdBy,
      })
      .execute();
  }

  async get(id: string) {
    const r = await this.ctx.db().selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toAdmin(r);
  }

  async byHash(tokenHash: string) {
    const r = await this.ctx
      .db()
      .selectFrom('admin_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return r && toAdmin(r);
  }

  async list() {
    return (
      await this.ctx.db().selectFrom('admin_tokens').selectAll().orderBy('created_at').orderBy('id').execute()
    ).map(toAdmin);
  }

  async revoke(id: string, now = Date.now()): Promise<boolean> {
    const r = await this.ctx
      .db()
      .updateTable('admin_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }

  async setLastUsed(id: string, now: number): Promise<void> {
    await this.ctx.db().updateTable('admin_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  async activeCount(role?: AdminRole): Promise<number> {
    let q = this.ctx
      .db()
      .selectFrom('admin_tokens')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('revoked_at', 'is', null);
    if (role !== undefined) q = q.where('role', '=', role);
    const r = await q.executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
