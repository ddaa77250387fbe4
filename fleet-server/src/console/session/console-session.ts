/**
 * @module console/session/console-session
 * Who is looking at the console. The console holds no credentials of its own: the browser keeps an
 * HttpOnly, SameSite=Strict session cookie that the REST API issued (POST /api/v1/sessions), and
 * every page asks the API, in-process, who that cookie belongs to. So the console can never see or
 * do more than the API allows the same caller, and roles are enforced in one place (the API).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { SESSION_COOKIE, type ConsoleRole } from './session-constants.js';

export interface ConsoleCaller {
  name: string;
  role: ConsoleRole;
  csrfToken: string;
  expiresAt: number;
  /** The session cookie, forwarded on every in-process API call made for this request. */
  sessionId: string;
}

export interface ConsoleEnv {
  Variables: { caller: ConsoleCaller };
}

/**
 * Calls the fleet API in-process (no socket): the same app, the same auth and role checks.
 * `env` passes the browser's connection along (the API limits failed logins per address).
 */
export type InProcessFetch = (url: string, init: RequestInit, env?: unknown) => Promise<Response>;

export const INTERNAL_ORIGIN = 'http://console.internal';

/** Resolves the caller of a session id, or undefined when the API does not know it (expired, revoked, unknown). */
export async function resolveCaller(apiFetch: InProcessFetch, sessionId: string): Promise<ConsoleCaller | undefined> {
  const res = await apiFetch(`${INTERNAL_ORIGIN}/api/v1/sessions/current`, {
    method: 'GET',
    headers: { cookie: `${SESSION_COOKIE}=${sessionId}` },
  });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as Omit<ConsoleCaller, 'sessionId'>;
  return { ...body, sessionId };
}

function loginRedirect(c: Context): Response {
  const next = c.req.path + (new URL(c.req.url).search || '');
  return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
}

/**
 * Pages need a session: without one a browser is sent to /login (and back afterwards); a script
 * (fetch, SSE) gets a 401 it can act on. Sets `caller` for the page.
 */
export function requireSession(apiFetch: InProcessFetch): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    const caller = sessionId ? await resolveCaller(apiFetch, sessionId) : undefined;
    if (!caller) {
      const wantsHtml = (c.req.header('accept') ?? '').includes('text/html') && !c.req.header('hx-request');
      if (wantsHtml && c.req.method === 'GET') return loginRedirect(c);
      return c.text('your console session ended: log in again at /login', 401);
    }
    c.set('caller', caller);
    return next();
  };
}
