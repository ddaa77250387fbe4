/**
 * @module api/session-routes
 * The console's login over REST (identity/console-sessions.ts):
 *   POST   /api/v1/sessions          {token} → 201 {name, role, csrfToken, expiresAt} + the session cookie
 *   GET    /api/v1/sessions/current  the caller's session (by its cookie)
 *   DELETE /api/v1/sessions/current  204, ends the session and expires the cookie
 *
 * The cookie is `edgeloop_session=<id>; Path=/; Max-Age=<s>; HttpOnly; SameSite=Strict` (and
 * `Secure` when the request came over TLS, or the server says its cookies must be): no script can
 * read it and no other site's page makes the browser send it. Logins and logouts are audited.
 * Failed logins are limited per remote address, so the login cannot be used to guess tokens fast
 * (a random token cannot be guessed anyway; this keeps the log and the store quiet). The address
 * is the socket's, from the Node request in the hono env: an in-process call (app.request) must
 * pass the original request's env along to be limited; without an address nothing is limited,
 * since one shared bucket would let anyone lock everybody out.
 */
import type { IncomingMessage } from 'node:http';
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { describeZodError } from '@edgeloop/protocol';
import { SESSION_COOKIE, sessionRequestSchema, type SessionResponse } from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { IdentityService } from '../identity/identity-service.js';
import { callerOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

/** At most this many failed logins per remote address per window. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered at most (oldest forgotten first): the limiter's memory stays bounded. */
const MAX_ADDRESSES = 10_000;

export interface SessionRouteDeps {
  identity: IdentityService;
  audit: AuditLog;
  /** Mark the cookie Secure even when the request arrived over plain HTTP (TLS ends at a proxy). */
  secureCookies?: boolean;
}

/** Failed logins per remote address in a fixed window. */
export class LoginThrottle {
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly max = MAX_FAILURES,
    private readonly windowMs = FAILURE_WINDOW_MS,
  ) {}

  /** Milliseconds until this address may try again, or 0. */
  blockedFor(address: string, now = Date.now()): number {
    const f = this.failures.get(address);
    if (!f || now - f.since >= this.windowMs) return 0;
    return f.count >= this.max ? f.since + this.windowMs - now : 0;
  }

  fail(address: string, now = Date.now()): void {
    const f = this.failures.get(address);
    if (f && now - f.since < this.windowMs) {
      f.count += 1;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { since: now, count: 1 });
  }
}

function remoteAddress(c: Context<ApiEnv>): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

function sessionCookie(c: Context<ApiEnv>, value: string, maxAgeSeconds: number, secure: boolean): string {
  const tls = secure || new URL(c.req.url).protocol === 'https:';
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}`;
}

const NO_SESSION =
  'this request carries no console session (it was authenticated by a bearer token); open one with POST /api/v1/sessions {"token": "..."}';

export function sessionRoutes(deps: SessionRouteDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const throttle = new LoginThrottle();
  const secure = deps.secureCookies === true;

  app.post('/sessions', async (c) => {
    const address = remoteAddress(c);
    const wait = address === undefined ? 0 : throttle.blockedFor(address);
    if (wait > 0)
      return c.json(
        { error: `too many failed logins from this address; try again in ${Math.ceil(wait / 1000)} s` },
        429,
        { 'retry-after': String(Math.ceil(wait / 1000)) },
      );
    const parsed = sessionRequestSchema.safeParse(await readJsonObject(c, { example: '{"token": "ela_..."}' }));
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const now = Date.now();
    const created = await deps.identity.consoleSessions.create(parsed.data.token, now);
    if (!created.ok) {
      if (address !== undefined) throttle.fail(address, now);
      return c.json({ error: created.reason }, 401, { 'www-authenticate': 'Bearer realm="edgeloop"' });
    }
    await deps.audit.record(created.admin.name, 'session.login', created.admin.id, { role: created.admin.role });
    const maxAge = Math.max(0, Math.floor((created.expiresAt - now) / 1000));
    c.header('set-cookie', sessionCookie(c, created.sessionId, maxAge, secure));
    c.header('cache-control', 'no-store');
    const body: SessionResponse = {
      name: created.admin.name,
      role: created.admin.role,
      csrfToken: created.csrfToken,
      expiresAt: created.expiresAt,
    };
    return c.json(body, 201);
  });

  app.get('/sessions/current', (c) => {
    const caller = callerOf(c);
    if (caller?.via !== 'session') return c.json({ error: NO_SESSION }, 404);
    c.header('cache-control', 'no-store');
    const body: SessionResponse = {
      name: caller.name,
      role: caller.role,
      csrfToken: caller.csrfToken!,
      expiresAt: caller.expiresAt!,
    };
    return c.json(body);
  });

  app.delete('/sessions/current', async (c) => {
    const caller = callerOf(c);
    if (caller?.via !== 'session') return c.json({ error: NO_SESSION }, 404);
    await deps.identity.consoleSessions.destroy(getCookie(c, SESSION_COOKIE) ?? '');
    await deps.audit.record(caller.name, 'session.logout', caller.tokenId);
    c.header('set-cookie', sessionCookie(c, '', 0, secure));
    return c.body(null, 204);
  });

  return app;
}
