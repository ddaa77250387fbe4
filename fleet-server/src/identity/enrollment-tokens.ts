/**
 * @module identity/enrollment-tokens
 * Provisioning tokens an admin creates and a device trades for its credentials
 * (POST /api/v1/enroll). Limited uses (default 1), an expiry (default 24 h), and optionally a
 * group and tags given to every device that enrolls with it. Stored as sha256 digests only
 * (high-entropy random secrets, see secrets.ts); the plaintext is shown once, at creation.
 */
import type { EnrollmentTokenSummary } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';
import { hashSecret, newId, newSecret } from './secrets.js';

export const DEFAULT_TOKEN_USES = 1;
export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;
const TOKEN_PREFIX = 'ele_';

export type EnrollmentTokenView = EnrollmentTokenSummary;

export interface NewEnrollmentToken {
  uses?: number;
  ttlMs?: number;
  group?: string | undefined;
  tags?: Record<string, string> | undefined;
}

interface Row {
  id: string; uses: number; uses_left: number; expires_at: number; device_group: string | null; tags: string;
  created_at: number; created_by: string; revoked_at: number | null;
}

function view(r: Row, now: number): EnrollmentTokenView {
  const status = r.revoked_at !== null ? 'revoked' : r.uses_left <= 0 ? 'used-up' : r.expires_at <= now ? 'expired' : 'active';
  return {
    id: r.id, uses: r.uses, usesLeft: r.uses_left, expiresAt: r.expires_at, group: r.device_group,
    tags: JSON.parse(r.tags) as Record<string, string>, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at, status,
  };
}

export type ConsumeResult = { ok: true; token: EnrollmentTokenView } | { ok: false; reason: string };

export class EnrollmentTokens {
  constructor(private readonly db: FleetDb) {}

  create(opts: NewEnrollmentToken, createdBy: string, now = Date.now()): { token: string; enrollmentToken: EnrollmentTokenView } {
    const token = `${TOKEN_PREFIX}${newSecret(24)}`;
    const id = newId('enr');
    const uses = opts.uses ?? DEFAULT_TOKEN_USES;
    this.db
      .prepare('INSERT INTO enrollment_tokens (id, token_hash, uses, uses_left, expires_at, device_group, tags, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, hashSecret(token), uses, uses, now + (opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS), opts.group ?? null, JSON.stringify(opts.tags ?? {}), now, createdBy);
    return { token, enrollmentToken: this.get(id, now)! };
  }

  get(id: string, now = Date.now()): EnrollmentTokenView | undefined {
    const row = this.db.prepare('SELECT * FROM enrollment_tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? view(row, now) : undefined;
  }

  list(now = Date.now()): EnrollmentTokenView[] {
    return (this.db.prepare('SELECT * FROM enrollment_tokens ORDER BY created_at, id').all() as Row[]).map((r) => view(r, now));
  }

  revoke(id: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }

  /**
   * Takes one use of the token. Call inside the transaction that issues the credential: the
   * conditional UPDATE is the atomic decrement, so two devices racing for the last use cannot
   * both get it, and a failed credential write gives the use back (rollback).
   */
  consume(token: string, now = Date.now()): ConsumeResult {
    const row = this.db.prepare('SELECT * FROM enrollment_tokens WHERE token_hash = ?').get(hashSecret(token)) as Row | undefined;
    // One message for unknown tokens, so the endpoint does not tell guessers which tokens exist.
    if (!row) return { ok: false, reason: 'unknown enrollment token; ask the fleet operator for a new one (edgeloop tokens create)' };
    if (row.revoked_at !== null) return { ok: false, reason: 'this enrollment token was revoked; ask the fleet operator for a new one (edgeloop tokens create)' };
    if (row.expires_at <= now) return { ok: false, reason: `this enrollment token expired at ${new Date(row.expires_at).toISOString()}; ask the fleet operator for a new one (edgeloop tokens create)` };
    const taken = this.db.prepare('UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0').run(row.id).changes > 0;
    if (!taken) return { ok: false, reason: `this enrollment token has been used up (${row.uses} use${row.uses === 1 ? '' : 's'}); ask the fleet operator for a new one (edgeloop tokens create --uses N)` };
    return { ok: true, token: this.get(row.id, now)! };
  }
}
