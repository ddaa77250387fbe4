/**
 * @module rest/sessions
 * Browser sessions of the console: an admin token is traded once for a session cookie
 * (HttpOnly, SameSite=Strict), so the token never sits in the page's storage. A request
 * authenticated by that cookie that changes something must also carry the session's CSRF token
 * in the `x-csrf-token` header (or, for a plain HTML form post to the console, the `_csrf` field).
 * Requests with `Authorization: Bearer` need no CSRF token: a browser never adds that header by itself.
 */
import { z } from 'zod';
import { adminRoleSchema } from './roles.js';
import { epochMsSchema } from './shared.js';

export const SESSION_COOKIE = 'edgeloop_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
/** A session ends this long after it began (it does not slide). */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;

/** POST /api/v1/sessions: log in with an admin token. */
export const sessionRequestSchema = z
  .object({ token: z.string().min(1).max(256).describe('an admin token') })
  .meta({ id: 'SessionRequest' });
export type SessionRequest = z.infer<typeof sessionRequestSchema>;

/** The session's identity and its CSRF token; the session id itself travels only in the cookie. */
export const sessionResponseSchema = z
  .object({
    /** The admin token's name; the audit log records it as the actor of every change made in this session. */
    name: z.string(),
    role: adminRoleSchema,
    csrfToken: z.string().describe(`send it as the x-csrf-token header with every POST, PUT and DELETE`),
    expiresAt: epochMsSchema,
  })
  .meta({ id: 'Session' });
export type SessionResponse = z.infer<typeof sessionResponseSchema>;
