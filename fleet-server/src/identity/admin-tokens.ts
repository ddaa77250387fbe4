/**
 * @module identity/admin-tokens
 * Admin API tokens: bearer secrets for the REST API, each with a name that the audit log records
 * as "who" and a role saying what it may do (viewer < operator < admin, protocol rest/roles.ts;
 * `admin` unless chosen). Stored as sha256 digests only (see secrets.ts); the plaintext is shown
 * once. Revoking a token also ends the console sessions opened with it.
 *
 * Bootstrap: a server without any active admin token creates one named "admin" at start and
 * writes it to `<dataDir>/admin.token` (0600), so the first operator can log in; or the setting
 * `adminToken` (env EDGELOOP_ADMIN_TOKEN) names the bootstrap token explicitly (tests, scripts).
 * The bootstrap token is an admin.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AdminRole, AdminTokenSummary } from '@edgeloop/protocol';
import { DEFAULT_ADMIN_ROLE } from '@edgeloop/protocol/rest';
import type { FleetStore } from '../store/fleet-store.js';
import { hashSecret, newId, newSecret } from './secrets.js';

export const ADMIN_TOKEN_FILE = 'admin.token';
/** Operator-chosen tokens shorter than this are refused: the store keeps a fast hash (secrets.ts). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
const TOKEN_PREFIX = 'ela_';

export type AdminTokenView = AdminTokenSummary;

/** last_used_at is written at most this often per token: a busy console must not mean a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class AdminTokens {
  constructor(private readonly store: FleetStore) {}

  /** A new random token (an admin unless `role` says otherwise); the plaintext is returned here only. */
  async create(
    name: string,
    createdBy: string,
    opts: { role?: AdminRole | undefined; now?: number } = {},
  ): Promise<{ token: string; adminToken: AdminTokenView }> {
    const token = `${TOKEN_PREFIX}${newSecret(32)}`;
    const role = opts.role ?? DEFAULT_ADMIN_ROLE;
    return { token, adminToken: await this.insert(name, role, token, createdBy, opts.now ?? Date.now()) };
  }

  private async insert(
    name: string,
    role: AdminRole,
    token: string,
    createdBy: string,
    now: number,
  ): Promise<AdminTokenView> {
    const id = newId('adm');
    await this.store.adminTokens.insert({ id, name, role, tokenHash: hashSecret(token), createdAt: now, createdBy });
    return (await this.get(id))!;
  }

  /**
   * The active token with this plaintext, or undefined. Lookup is by digest: the digest of a
   * random secret reveals nothing, so an index lookup leaks no useful timing.
   */
  async verify(token: string, now = Date.now()): Promise<AdminTokenView | undefined> {
    const row = await this.store.adminTokens.byHash(hashSecret(token));
    if (!row || row.revokedAt !== null) return undefined;
    await this.noteUse(row, now);
    return row;
  }

  /** Records that the token was used (by itself or through a console session), at most once a minute. */
  async noteUse(token: AdminTokenView, now = Date.now()): Promise<void> {
    if (token.lastUsedAt === null || now - token.lastUsedAt > LAST_USED_RESOLUTION_MS)
      await this.store.adminTokens.setLastUsed(token.id, now);
  }

  /** Why a token is not accepted, for the 401 message (revoked vs unknown). */
  async isRevoked(token: string): Promise<boolean> {
    return ((await this.store.adminTokens.byHash(hashSecret(token)))?.revokedAt ?? null) !== null;
  }

  get(id: string): Promise<AdminTokenView | undefined> {
    return this.store.adminTokens.get(id);
  }

  list(): Promise<AdminTokenView[]> {
    return this.store.adminTokens.list();
  }

  /** false if there is no such token or it was already revoked. Its console sessions end with it. */
  revoke(id: string, now = Date.now()): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const revoked = await tx.adminTokens.revoke(id, now);
      await tx.consoleSessions.removeForToken(id);
      return revoked;
    });
  }

  /** Active tokens, of one role when given. */
  activeCount(role?: AdminRole): Promise<number> {
    return this.store.adminTokens.activeCount(role);
  }

  /**
   * Makes sure an operator can get in. With `configured`, that token is active (created as
   * "admin" the first time; a configured token that was revoked stays revoked, with a warning).
   * Without it and without any active token, creates "admin" and writes it to
   * `<dataDir>/admin.token` (0600). Returns the bootstrap token's plaintext where known — the
   * configured one, or the one in the file while it is still active — for `edgeloop serve` to
   * hand to the CLI and to print the console's login link.
   */
  async bootstrap(opts: {
    dataDir: string;
    configured?: string | undefined;
    log: Logger;
  }): Promise<{ token?: string; file: string }> {
    const file = join(opts.dataDir, ADMIN_TOKEN_FILE);
    if (opts.configured !== undefined) {
      const token = opts.configured;
      if (await this.isRevoked(token)) {
        opts.log.warn(
          'the configured adminToken (EDGELOOP_ADMIN_TOKEN) was revoked and stays revoked; use another admin token',
        );
        return { file };
      }
      if (!(await this.verify(token))) {
        try {
          await this.insert('admin', 'admin', token, 'system', Date.now());
          opts.log.info('admin token "admin" set from the adminToken setting');
        } catch (err) {
          // Servers sharing one database start together: another one stored this token first.
          if (!(await this.verify(token))) throw err;
        }
      }
      return { token, file };
    }
    if ((await this.activeCount()) === 0) {
      const { token } = await this.create('admin', 'system', { role: 'admin' });
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      chmodSync(file, 0o600); // an existing file keeps its mode on write
      opts.log.info(
        { file },
        `created the admin token "admin"; it is in ${file} (send it as "Authorization: Bearer <token>"; the CLI reads it from there)`,
      );
      return { token, file };
    }
    let fromFile: string | undefined;
    try {
      fromFile = readFileSync(file, 'utf8').trim();
    } catch {
      fromFile = undefined;
    }
    return fromFile && (await this.verify(fromFile)) ? { token: fromFile, file } : { file };
  }
}
