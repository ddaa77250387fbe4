/**
 * @module identity/enrollment-tokens
 * Provisioning tokens an admin creates and a device trades for its credentials
 * (POST /api/v1/enroll). Limited uses (default 1), an expiry (default 24 h), and optionally a
 * group and tags given to every device that enrolls with it. Stored as sha256 digests only
 * (high-entropy random secrets, see secrets.ts); the plaintext is shown once, at creation.
 */
import type { EnrollmentTokenSummary } from '@edgeloop/protocol';
import type { EnrollmentTokenRow, FleetStore } from '../store/fleet-store.js';
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

function view(r: EnrollmentTokenRow, now: number): EnrollmentTokenView {
  const status =
    r.revokedAt !== null ? 'revoked' : r.usesLeft <= 0 ? 'used-up' : r.expiresAt <= now ? 'expired' : 'active';
  return { ...r, status };
}

export type ConsumeResult = { ok: true; token: EnrollmentTokenView } | { ok: false; reason: string };

export class EnrollmentTokens {
  constructor(private readonly store: FleetStore) {}

  async create(
    opts: NewEnrollmentToken,
    createdBy: string,
    now = Date.now(),
  ): Promise<{ token: string; enrollmentToken: EnrollmentTokenView }> {
    const token = `${TOKEN_PREFIX}${newSecret(24)}`;
    const uses = opts.uses ?? DEFAULT_TOKEN_USES;
    const row: EnrollmentTokenRow = {
      id: newId('enr'),
      uses,
      usesLeft: uses,
      expiresAt: now + (opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS),
      group: opts.group ?? null,
      tags: opts.tags ?? {},
      createdAt: now,
      createdBy,
      revokedAt: null,
    };
    await this.store.enrollmentTokens.insert({ ...row, tokenHash: hashSecret(token) });
    return { token, enrollmentToken: view(row, now) };
  }

  async get(id: string, now = Date.now()): Promise<EnrollmentTokenView | undefined> {
    const row = await this.store.enrollmentTokens.get(id);
    return row && view(row, now);
  }

  async list(now = Date.now()): Promise<EnrollmentTokenView[]> {
    return (await this.store.enrollmentTokens.list()).map((r) => view(r, now));
  }

  revoke(id: string, now = Date.now()): Promise<boolean> {
    return this.store.enrollmentTokens.revoke(id, now);
  }

  /**
   * Takes one use of the token. Call inside the unit of work that issues the credential: the
   * store's conditional decrement is atomic, so two devices racing for the last use cannot both
   * get it, and a failed credential write gives the use back (rollback).
   */
  async consume(token: string, now = Date.now()): Promise<ConsumeResult> {
    const row = await this.store.enrollmentTokens.byHash(hashSecret(token));
    // One message for unknown tokens, so the endpoint does not tell guessers which tokens exist.
    if (!row)
      return {
        ok: false,
        reason: 'unknown enrollment token; ask the fleet operator for a new one (edgeloop tokens create)',
      };
    if (row.revokedAt !== null)
      return {
        ok: false,
        reason: 'this enrollment token was revoked; ask the fleet operator for a new one (edgeloop tokens create)',
      };
    if (row.expiresAt <= now)
      return {
        ok: false,
        reason: `this enrollment token expired at ${new Date(row.expiresAt).toISOString()}; ask the fleet operator for a new one (edgeloop tokens create)`,
      };
    if (!(await this.store.enrollmentTokens.takeUse(row.id))) {
      return {
        ok: false,
        reason: `this enrollment token has been used up (${row.uses} use${row.uses === 1 ? '' : 's'}); ask the fleet operator for a new one (edgeloop tokens create --uses N)`,
      };
    }
    return { ok: true, token: (await this.get(row.id, now))! };
  }
}
