/**
 * @module rest/roles
 * What an admin token may do. Three roles, ranked: `viewer` reads (auditors), `operator` also
 * changes what the fleet runs (rollouts, deployments, rules, models, datasets, training, the
 * loop, samples), `admin` also holds the keys to the fleet (signing keys, admin and enrollment
 * tokens, devices' access and credentials). Each route of the table names the least role that
 * may call it (`RouteSpec.role`), derived when absent: reading is for viewers, changing for
 * operators. The server enforces it; the console uses the same rule to hide what a role cannot do.
 */
import { z } from 'zod';

export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const adminRoleSchema = z.enum(ADMIN_ROLES);

/** Tokens made without a role are admins: scripts written before roles keep working. */
export const DEFAULT_ADMIN_ROLE: AdminRole = 'admin';

/** true when a token of `role` may do what needs `needed`. */
export function roleAllows(role: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(needed);
}

/** What each role is for, in a sentence (OpenAPI, CLI help, refusals). */
export const ROLE_PURPOSE: Readonly<Record<AdminRole, string>> = {
  viewer: 'reads everything, changes nothing',
  operator: 'also runs the fleet: rollouts, deployments, rules, models, datasets, training, the loop, samples',
  admin: "also keys, admin and enrollment tokens, devices' access and credentials",
};
