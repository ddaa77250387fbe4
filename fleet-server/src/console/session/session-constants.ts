/**
 * @module console/session/session-constants
 * Names shared by the API's session routes, the console's pages and its browser script.
 */
export const SESSION_COOKIE = 'edgeloop_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
export type ConsoleRole = 'viewer' | 'operator' | 'admin';
const RANK: Record<ConsoleRole, number> = { viewer: 0, operator: 1, admin: 2 };
export function roleAllows(role: ConsoleRole, needed: ConsoleRole): boolean {
  return RANK[role] >= RANK[needed];
}
