/**
 * @module identity/admin-tokens
 * Admin API tokens: bearer secrets for the REST API, each with a name that the audit log records
 * as "who". Stored as sha256 digests only (see secrets.ts); the plaintext is shown once.
 *
 * Bootstrap: a server without any active admin token creates one named "admin" at start and
 * writes it to `<dataDir>/admin.token` (0600), so the first operator can log in; or the setting
 * `adminToken` (env EDGELOOP_ADMIN_TOKEN) names the bootstrap token explicitly (tests, scripts).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AdminTokenSummary } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';
import { hashSecret, newId, newSecret } from './secrets.js';

export const ADMIN_TOKEN_FILE = 'admin.token';
/** Operator-chosen tokens shorter than this are refused: the store keeps a fast hash (secrets.ts). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
const TOKEN_PREFIX = 'ela_';

export type AdminTokenView = AdminTokenSummary;

interface Row {
  id: string; name: string; token_hash: string; created_at: number; created_by: string; last_used_at: number | null; revoked_at: number | null;
}

const view = (r: Row): AdminTokenView => ({ id: r.id, name: r.name, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at });

/** last_used_at is written at most this often per token: a busy status page must not mean a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class AdminTokens {
  constructor(private readonly db: FleetDb) {}

  /** A new random token; the plaintext is returned here only. */
  create(name: string, createdBy: string, now = Date.now()): { token: string; adminToken: AdminTokenView } {
    const token = `${TOKEN_PREFIX}${newSecret(32)}`;
    return { token, adminToken: this.insert(name, token, createdBy, now) };
  }

  private insert(name: string, token: string, createdBy: string, now: number): AdminTokenView {
    const id = newId('adm');
    this.db.prepare('INSERT INTO admin_tokens (id, name, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run(id, name, hashSecret(token), now, createdBy);
    return this.get(id)!;
  }

  /**
   * The active token with this plaintext, or undefined. Lookup is by digest: the digest of a
   * random secret reveals nothing, so an index lookup leaks no useful timing.
   */
  verify(token: string, now = Date.now()): AdminTokenView | undefined {
    const row = this.db.prepare('SELECT * FROM admin_tokens WHERE token_hash = ?').get(hashSecret(token)) as Row | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    if (row.last_used_at === null || now - row.last_used_at > LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?').run(now, row.id);
    }
    return view(row);
  }

  /** Why a token is not accepted, for the 401 message (revoked vs unknown). */
  isRevoked(token: string): boolean {
    const row = this.db.prepare('SELECT revoked_at FROM admin_tokens WHERE token_hash = ?').get(hashSecret(token)) as { revoked_at: number | null } | undefined;
    return row?.revoked_at != null;
  }

  get(id: string): AdminTokenView | undefined {
    const row = this.db.prepare('SELECT * FROM admin_tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? view(row) : undefined;
  }

  list(): AdminTokenView[] {
    return (this.db.prepare('SELECT * FROM admin_tokens ORDER BY created_at, id').all() as Row[]).map(view);
  }

  /** false if there is no such token or it was already revoked. */
  revoke(id: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }

  activeCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM admin_tokens WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  /**
   * Makes sure an operator can get in. With `configured`, that token is active (created as
   * "admin" the first time; a configured token that was revoked stays revoked, with a warning).
   * Without it and without any active token, creates "admin" and writes it to
   * `<dataDir>/admin.token` (0600). Returns the bootstrap token's plaintext where known — the
   * configured one, or the one in the file while it is still active — for `edgeloop serve` to
   * hand to the CLI and to print the status page URL.
   */
  bootstrap(opts: { dataDir: string; configured?: string | undefined; log: Logger }): { token?: string; file: string } {
    const file = join(opts.dataDir, ADMIN_TOKEN_FILE);
    if (opts.configured !== undefined) {
      const token = opts.configured;
      if (this.isRevoked(token)) {
        opts.log.warn('the configured adminToken (EDGELOOP_ADMIN_TOKEN) was revoked and stays revoked; use another admin token');
        return { file };
      }
      if (!this.verify(token)) {
        this.insert('admin', token, 'system', Date.now());
        opts.log.info('admin token "admin" set from the adminToken setting');
      }
      return { token, file };
    }
    if (this.activeCount() === 0) {
      const { token } = this.create('admin', 'system');
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      chmodSync(file, 0o600); // an existing file keeps its mode on write
      opts.log.info({ file }, `created the admin token "admin"; it is in ${file} (send it as "Authorization: Bearer <token>"; the CLI reads it from there)`);
      return { token, file };
    }
    let fromFile: string | undefined;
    try {
      fromFile = readFileSync(file, 'utf8').trim();
    } catch {
      fromFile = undefined;
    }
    return fromFile && this.verify(fromFile) ? { token: fromFile, file } : { file };
  }
}
