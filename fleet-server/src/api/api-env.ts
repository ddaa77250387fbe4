/**
 * @module api/api-env
 * Hono context variables every route may read. `actor` is set by the admin-auth middleware
 * (the admin token's name) or the device-auth middleware (`device:<id>`); routes pass it to the
 * audit log. `caller` is set for admin callers (by bearer token or console session): who, with
 * which role, and how they authenticated. Use `new Hono<ApiEnv>()` for route groups.
 */
import type { Context } from 'hono';
import type { AdminRole } from '@edgeloop/protocol';

/** An authenticated admin caller: a bearer token, or a console session acting as its token. */
export interface Caller {
  tokenId: string;
  /** The admin token's name (the audit log's actor). */
  name: string;
  role: AdminRole;
  via: 'bearer' | 'session';
  /** With `via: 'session'`: the token every state-changing request must carry in x-csrf-token. */
  csrfToken?: string;
  /** With `via: 'session'`: when the session ends (epoch ms). */
  expiresAt?: number;
}

export interface ApiEnv {
  Variables: { actor: string; caller: Caller };
}

export function actorOf(c: Context<ApiEnv>): string {
  return c.get('actor') ?? 'anonymous';
}

/** The admin caller, or undefined (public routes, devices). */
export function callerOf(c: Context<ApiEnv>): Caller | undefined {
  return c.get('caller') as Caller | undefined;
}
