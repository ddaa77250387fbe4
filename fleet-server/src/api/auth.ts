/**
 * @module api/auth
 * Who may call the REST API, and what. Every /api/v1 route needs an admin token, except:
 *   GET  /api/v1/health        (liveness, the public key devices trust)
 *   POST /api/v1/enroll        (the enrollment token in the body is the credential)
 *   POST /api/v1/sessions      (the console's login: the admin token in the body is the credential)
 *   GET  /api/v1/openapi.json  (the API description)
 *   GET  /api/v1/artifacts/*   device credentials (HTTP Basic deviceId:password) or an admin token
 *
 * An admin caller comes with `Authorization: Bearer <token>`, or, from the console, with its
 * session cookie (identity/console-sessions.ts); a session acts as the token it was opened with.
 * A request that changes something (any method but GET/HEAD/OPTIONS) and is authenticated by the
 * cookie must carry the session's CSRF token in `x-csrf-token`: a browser sends the cookie along
 * with requests other sites make it send, never that header. Bearer requests need none.
 *
 * Then the role: each route names the least role that may call it (protocol rest/roles.ts,
 * `routeRole`); a token below it gets a 403 saying which role is needed and how to get one.
 *
 * Sets the `actor` the audit log records (the admin token's name, or `device:<id>`) and, for
 * admin callers, `caller`. A 401 says what to send and how an operator gets a token, without
 * naming server paths: anyone may call, and the answer must not map the server's file system.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AdminRole } from '@edgeloop/protocol';
import { CSRF_HEADER, roleAllows, routeRole, SESSION_COOKIE } from '@edgeloop/protocol/rest';
import type { AdminTokenView } from '../identity/admin-tokens.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ApiEnv, Caller } from './api-env.js';
import { findRoute } from './response-contract.js';

export { roleAllows };

const PUBLIC_ROUTES: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/api\/v1\/health\/?$/ },
  { method: 'POST', path: /^\/api\/v1\/enroll\/?$/ },
  { method: 'POST', path: /^\/api\/v1\/sessions\/?$/ },
  { method: 'GET', path: /^\/api\/v1\/openapi\.json$/ },
];
const ARTIFACT_ROUTE = /^\/api\/v1\/artifacts\//;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthDeps {
  identity: IdentityService;
}

export type AuthResult =
  | { ok: true; caller: Caller }
  | { ok: false; status: 401 | 403; error: string; /** www-authenticate, with 401 */ challenge?: string };

const HOW_TO_AUTHENTICATE =
  'send "Authorization: Bearer <admin token>"; the operator finds the bootstrap token where the fleet server printed it at its first start, ' +
  'or creates one with "edgeloop admin-tokens create --name NAME" (the edgeloop CLI takes it from --token or EDGELOOP_TOKEN)';
const BEARER_CHALLENGE = 'Bearer realm="edgeloop"';

function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

function basic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header ? /^Basic[ \t]+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const bearerCaller = (admin: AdminTokenView): Caller => ({
  tokenId: admin.id,
  name: admin.name,
  role: admin.role,
  via: 'bearer',
});

/**
 * Authenticates an admin caller by bearer token (preferred when both are sent) or console
 * session cookie, and checks the CSRF token of a state-changing cookie request. No role check:
 * see `requiredRoleError`. `formCsrf`: a CSRF token the caller sent another way than the header
 * (the console's plain HTML form posts, field `_csrf`); the header wins when both are present.
 */
export async function authenticateRequest(
  deps: AuthDeps,
  // Any hono context: the console's routes call this with their own environment.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  c: Context<any>,
  opts: { formCsrf?: string | undefined } = {},
): Promise<AuthResult> {
  const token = bearer(c.req.header('authorization'));
  if (token) {
    const admin = await deps.identity.adminTokens.verify(token);
    if (admin) return { ok: true, caller: bearerCaller(admin) };
    const revoked = await deps.identity.adminTokens.isRevoked(token);
    return {
      ok: false,
      status: 401,
      error: revoked
        ? `this admin token was revoked; use another one (an admin can create one: edgeloop admin-tokens create --name NAME)`
        : `admin token not recognised; ${HOW_TO_AUTHENTICATE}`,
      challenge: `${BEARER_CHALLENGE}, error="invalid_token"`,
    };
  }
  const sessionId = getCookie(c, SESSION_COOKIE);
  if (sessionId === undefined)
    return {
      ok: false,
      status: 401,
      error: `this route needs an admin token: ${HOW_TO_AUTHENTICATE}`,
      challenge: BEARER_CHALLENGE,
    };
  const session = await deps.identity.consoleSessions.resolve(sessionId);
  if (!session)
    return {
      ok: false,
      status: 401,
      error:
        'your console session ended (it expired, you logged out, or its admin token was revoked): log in again with an admin token',
      challenge: BEARER_CHALLENGE,
    };
  if (!SAFE_METHODS.has(c.req.method)) {
    const sent = c.req.header(CSRF_HEADER) ?? opts.formCsrf;
    if (sent === undefined || !sameSecret(sent, session.csrfToken))
      return {
        ok: false,
        status: 403,
        error: `missing or wrong CSRF token (header ${CSRF_HEADER}): reload the page`,
      };
  }
  return {
    ok: true,
    caller: {
      tokenId: session.admin.id,
      name: session.admin.name,
      role: session.admin.role,
      via: 'session',
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    },
  };
}

const withArticle = (role: AdminRole) => `${role === 'viewer' ? 'a' : 'an'} ${role}`;

/** Why the caller may not do what needs `needed` (`what`: e.g. "POST /api/v1/rollouts"), or undefined when it may. */
export function requiredRoleError(caller: Caller, needed: AdminRole, what: string): string | undefined {
  if (roleAllows(caller.role, needed)) return undefined;
  return (
    `${what} needs the ${needed} role; the token "${caller.name}" is ${withArticle(caller.role)}: ` +
    `ask an admin for ${withArticle(needed)} token (edgeloop admin-tokens create --name N --role ${needed})`
  );
}

function refuse(c: Context<ApiEnv>, status: 401 | 403, error: string, challenge?: string): Response {
  return c.json({ error }, status, challenge ? { 'www-authenticate': challenge } : undefined);
}

export function apiAuth(deps: AuthDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const path = c.req.path;
    if (PUBLIC_ROUTES.some((r) => r.method === method && r.path.test(path))) return next();
    const header = c.req.header('authorization');
    const artifact = method === 'GET' && ARTIFACT_ROUTE.test(path);

    if (artifact) {
      const creds = basic(header);
      if (creds) {
        const result = await deps.identity.authenticateDevice(creds.user, creds.password);
        if (!result.ok)
          return refuse(
            c,
            401,
            `device credentials refused (${result.reason}); re-enroll the device (edgeloop-agent enroll) or ask the operator`,
            'Basic realm="edgeloop artifacts"',
          );
        c.set('actor', `device:${creds.user}`);
        return next();
      }
      if (!bearer(header) && getCookie(c, SESSION_COOKIE) === undefined)
        return refuse(
          c,
          401,
          `artifact downloads need device credentials (HTTP Basic deviceId:password from enrollment) or an admin token: ${HOW_TO_AUTHENTICATE}`,
          `Basic realm="edgeloop artifacts", ${BEARER_CHALLENGE}`,
        );
    }

    const auth = await authenticateRequest(deps, c);
    if (!auth.ok) return refuse(c, auth.status, auth.error, auth.challenge);
    const route = findRoute(method, path);
    const needed = route ? routeRole(route.spec) : undefined;
    const refusal = needed && requiredRoleError(auth.caller, needed, `${method} ${route!.spec.path}`);
    if (refusal) return refuse(c, 403, refusal);
    c.set('actor', auth.caller.name);
    c.set('caller', auth.caller);
    return next();
  };
}
