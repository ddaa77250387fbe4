/**
 * @module store/repositories/console-session-repository
 * The console's browser sessions (table console_sessions). A session id is a bearer secret, so
 * the table holds its sha256 only: a copy of the database logs nobody in. What a session means
 * (lifetime, CSRF token, its admin token's role) is decided in identity/console-sessions.ts.
 */
import type { ConsoleSessionRepository, ConsoleSessionRow } from '../fleet-store.js';
import { count, type RepositoryContext } from './context.js';

export class KyselyConsoleSessionRepository implements ConsoleSessionRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insert(row: ConsoleSessionRow): Promise<void> {
    await this.ctx
      .db()
      .insertInto('console_sessions')
      .values({ id_hash: row.idHash, token_id: row.tokenId, created_at: row.createdAt, expires_at: row.expiresAt })
      .execute();
  }

  async get(idHash: string): Promise<ConsoleSessionRow | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom('console_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return r && { idHash: r.id_hash, tokenId: r.token_id, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  async remove(idHash: string): Promise<void> {
    await this.ctx.db().deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
  }

  async removeForToken(tokenId: string): Promise<number> {
    const r = await this.ctx.db().deleteFrom('console_sessions').where('token_id', '=', tokenId).executeTakeFirst();
    return count(r.numDeletedRows);
  }

  async removeExpired(now: number): Promise<number> {
    const r = await this.ctx.db().deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return count(r.numDeletedRows);
  }
}
