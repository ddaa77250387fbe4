/**
 * @module api/auth
 * Who may call the REST API. Every /api/v1 route needs an admin token
 * (`Authorization: Bearer <token>`), except:
 *   GET  /api/v1/health        (liveness, the public key devices trust)
 *   POST /api/v1/enroll        (the enrollment token in the body is the credential)
 *   GET  /api/v1/openapi.json  (the API description)
 *   GET  /api/v1/artifacts/*   device credentials (HTTP Basic deviceId:password) or an admin token
 * Sets the `actor` the audit log records: the admin token's name, or `device:<id>`.
 * A 401 says what to send and how an operator gets a token, without naming server paths: anyone
 * may call, and the answer must not map the server's file system for them.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { IdentityService } from '../identity/identity-service.js';
import type { ApiEnv } from './api-env.js';

const PUBLIC_ROUTES: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/api\/v1\/health\/?$/ },
  { method: 'POST', path: /^\/api\/v1\/enroll\/?$/ },
  { method: 'GET', path: /^\/api\/v1\/openapi\.json$/ },
];
const ARTIFACT_ROUTE = /^\/api\/v1\/artifacts\//;

export interface AuthDeps {
  identity: IdentityService;
}

const HOW_TO_AUTHENTICATE =
  'send "Authorization: Bearer <admin token>"; the operator finds the bootstrap token where the fleet server printed it at its first start, ' +
  'or creates one with "edgeloop admin-tokens create --name NAME" (the edgeloop CLI takes it from --token or EDGELOOP_TOKEN)';

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

function unauthorized(c: Context<ApiEnv>, error: string, challenge: string): Response {
  return c.json({ error }, 401, { 'www-authenticate': challenge });
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
          return unauthorized(
            c,
            `device credentials refused (${result.reason}); re-enroll the device (edgeloop-agent enroll) or ask the operator`,
            'Basic realm="edgeloop artifacts"',
          );
        c.set('actor', `device:${creds.user}`);
        return next();
      }
    }

    const token = bearer(header);
    if (!token) {
      const what = artifact
        ? 'artifact downloads need device credentials (HTTP Basic deviceId:password from enrollment) or an admin token'
        : 'this route needs an admin token';
      return unauthorized(
        c,
        `${what}: ${HOW_TO_AUTHENTICATE}`,
        artifact ? 'Basic realm="edgeloop artifacts", Bearer realm="edgeloop"' : 'Bearer realm="edgeloop"',
      );
    }
    const admin = await deps.identity.adminTokens.verify(token);
    if (!admin) {
      const revoked = await deps.identity.adminTokens.isRevoked(token);
      return unauthorized(
        c,
        revoked
          ? `this admin token was revoked; use another one (an admin can create one: edgeloop admin-tokens create --name NAME)`
          : `admin token not recognised; ${HOW_TO_AUTHENTICATE}`,
        'Bearer realm="edgeloop", error="invalid_token"',
      );
    }
    c.set('actor', admin.name);
    return next();
  };
}
