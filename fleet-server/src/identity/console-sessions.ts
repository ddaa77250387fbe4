/**
 * @module identity/console-sessions
 * Browser sessions of the console. A person logs in once with an admin token; the browser then
 * holds only a random session id in an HttpOnly cookie (api/session-routes.ts), so no script in
 * the page can read a credential. A session acts as its admin token: same name in the audit log,
 * same role, and it ends when the token is revoked. It lasts 12 hours from login (no sliding).
 *
 * Sessions live in the store, not in memory: servers sharing one PostgreSQL all know them, and a
 * restart logs nobody out. The store keeps sha256(session id) only, like every other secret here.
 *
 * The CSRF token is derived, not stored: hex sha256("csrf:" + session id). Only the holder of the
 * session id (the browser, which got it in the cookie together with the CSRF token in the login
 * answer) and the server (which reads the id from the cookie on each request) can compute it; a
 * copy of the database cannot, since it holds a different digest of the id. Being a function of
 * the id, it needs no column and no lookup, and it changes with every login.
 */
import { createHash } from 'node:crypto';
import { SESSION_LIFETIME_MS } from '@edgeloop/protocol/rest';
import type { FleetStore } from '../store/fleet-store.js';
import type { AdminTokens, AdminTokenView } from './admin-tokens.js';
import { hashSecret, newSecret } from './secrets.js';

/** Session ids are 32 random bytes in base64url (43 characters); anything far longer is not one. */
const MAX_SESSION_ID_LENGTH = 128;

export type CreatedSession =
  | { ok: true; sessionId: string; csrfToken: string; expiresAt: number; admin: AdminTokenView }
  | { ok: false; reason: string };

export interface ResolvedSession {
  admin: AdminTokenView;
  csrfToken: string;
  expiresAt: number;
}

/** The CSRF token of a session: hex sha256("csrf:" + id), a digest the store never holds. */
export function csrfTokenOf(sessionId: string): string {
  return createHash('sha256').update(`csrf:${sessionId}`, 'utf8').digest('hex');
}

export class ConsoleSessions {
  constructor(
    private readonly store: FleetStore,
    private readonly adminTokens: AdminTokens,
    private readonly lifetimeMs = SESSION_LIFETIME_MS,
  ) {}

  /** Logs in with an admin token; sweeps expired sessions on the way (logins are rare, the sweep is one indexed delete). */
  async create(token: string, now = Date.now()): Promise<CreatedSession> {
    const admin = await this.adminTokens.verify(token, now);
    if (!admin) {
      return {
        ok: false,
        reason: (await this.adminTokens.isRevoked(token))
          ? 'this admin token was revoked; ask an admin for another one (edgeloop admin-tokens create --name NAME)'
          : 'admin token not recognised; use the token the fleet server printed at its first start, or one from "edgeloop admin-tokens create --name NAME"',
      };
    }
    await this.sweep(now);
    const sessionId = newSecret(32);
    const expiresAt = now + this.lifetimeMs;
    await this.store.consoleSessions.insert({
      idHash: hashSecret(sessionId),
      tokenId: admin.id,
      createdAt: now,
      expiresAt,
    });
    return { ok: true, sessionId, csrfToken: csrfTokenOf(sessionId), expiresAt, admin };
  }

  /** The live session with this id: undefined when unknown, expired, or its admin token was revoked. */
  async resolve(sessionId: string, now = Date.now()): Promise<ResolvedSession | undefined> {
    if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_LENGTH) return undefined;
    const row = await this.store.consoleSessions.get(hashSecret(sessionId));
    if (!row || row.expiresAt <= now) return undefined;
    const admin = await this.adminTokens.get(row.tokenId);
    if (!admin || admin.revokedAt !== null) return undefined;
    await this.adminTokens.noteUse(admin, now);
    return { admin, csrfToken: csrfTokenOf(sessionId), expiresAt: row.expiresAt };
  }

  /** Logs out; an unknown id is no error (the cookie may outlive the session). */
  async destroy(sessionId: string): Promise<void> {
    if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_LENGTH) return;
    await this.store.consoleSessions.remove(hashSecret(sessionId));
  }

  /** Deletes expired sessions; how many. */
  sweep(now = Date.now()): Promise<number> {
    return this.store.consoleSessions.removeExpired(now);
  }
}
