/**
 * @module api/api-env
 * Hono context variables every route may read. `actor` is set by the admin-auth middleware
 * (the admin token's name) or the device-auth middleware (`device:<id>`); routes pass it to the
 * audit log. Use `new Hono<ApiEnv>()` for route groups.
 */
import type { Context } from 'hono';

export interface ApiEnv {
  Variables: { actor: string };
}

export function actorOf(c: Context<ApiEnv>): string {
  return c.get('actor') ?? 'anonymous';
}
