/**
 * @module api/identity-routes
 * Device identity and admin access over REST:
 *   POST /api/v1/enroll                          {token, deviceId, arch?, hardware?} → credentials (no admin token)
 *   POST /api/v1/enrollment-tokens               {uses?, ttlSeconds?, group?, tags?} → {token, enrollmentToken}
 *   GET  /api/v1/enrollment-tokens               (no secrets)
 *   POST /api/v1/enrollment-tokens/{id}/revoke
 *   POST /api/v1/admin-tokens                    {name, role?} → {token, adminToken} (role: admin when absent)
 *   GET  /api/v1/admin-tokens
 *   POST /api/v1/admin-tokens/{id}/revoke
 *   PUT  /api/v1/devices/{id}                    {group?, tags?}
 *   POST /api/v1/devices/{id}/disable | enable | revoke
 * Every change is audited; plaintext secrets appear only in the answer that creates them.
 */
import { Hono, type Context } from 'hono';
import { describeZodError, type EnrollResponse } from '@edgeloop/protocol';
import {
  adminTokenRequestSchema,
  deviceLabelsRequestSchema,
  enrollmentTokenRequestSchema,
  enrollRequestSchema,
} from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import { IdentityError, type IdentityService } from '../identity/identity-service.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

/** `caFingerprint`: with TLS, the CA devices pin at enrollment; token answers carry it. */
export function identityRoutes(deps: {
  identity: IdentityService;
  audit: AuditLog;
  caFingerprint?: string;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { identity, audit } = deps;

  app.post('/enroll', async (c) => {
    const parsed = enrollRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"token": "...", "deviceId": "pi-kitchen"}' }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    let result;
    try {
      result = await identity.enroll(parsed.data);
    } catch (err) {
      if (err instanceof IdentityError) return c.json({ error: err.message }, err.status);
      throw err;
    }
    await audit.record(
      `device:${result.deviceId}`,
      result.reenrolled ? 'device.reenroll' : 'device.enroll',
      result.deviceId,
      {
        tokenId: result.tokenId,
        ...(parsed.data.arch ? { arch: parsed.data.arch } : {}),
        ...(parsed.data.hardware ? { hardware: parsed.data.hardware } : {}),
      },
    );
    const body: EnrollResponse = {
      deviceId: result.deviceId,
      username: result.username,
      password: result.password,
      mqttUrl: result.mqttUrl,
      httpUrl: result.httpUrl,
      trustedKeys: result.trustedKeys,
    };
    return c.json(body);
  });

  app.post('/enrollment-tokens', async (c) => {
    const parsed = enrollmentTokenRequestSchema.safeParse(
      await readJsonObject(c, {
        example: '{"uses": 5, "ttlSeconds": 86400, "group": "site-a", "tags": {"hw": "pi4"}}',
        optional: true,
      }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { uses, ttlSeconds, group, tags } = parsed.data;
    const created = await identity.enrollmentTokens.create(
      { ...(uses ? { uses } : {}), ...(ttlSeconds ? { ttlMs: ttlSeconds * 1000 } : {}), group, tags },
      actorOf(c),
    );
    const t = created.enrollmentToken;
    await audit.record(actorOf(c), 'enrollment-token.create', t.id, {
      uses: t.uses,
      expiresAt: t.expiresAt,
      group: t.group,
      tags: t.tags,
    });
    return c.json(deps.caFingerprint ? { ...created, caFingerprint: deps.caFingerprint } : created, 201);
  });

  app.get('/enrollment-tokens', async (c) => c.json({ enrollmentTokens: await identity.enrollmentTokens.list() }));

  app.post('/enrollment-tokens/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await identity.enrollmentTokens.revoke(id))) {
      const known = await identity.enrollmentTokens.get(id);
      return c.json(
        {
          error: known
            ? `enrollment token ${id} is already revoked`
            : `no enrollment token ${id}; list them with: edgeloop tokens list`,
        },
        known ? 409 : 404,
      );
    }
    await audit.record(actorOf(c), 'enrollment-token.revoke', id);
    return c.json({ enrollmentToken: await identity.enrollmentTokens.get(id) });
  });

  app.post('/admin-tokens', async (c) => {
    const parsed = adminTokenRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"name": "ci-pipeline", "role": "operator"}' }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const created = await identity.adminTokens.create(parsed.data.name, actorOf(c), { role: parsed.data.role });
    await audit.record(actorOf(c), 'admin-token.create', created.adminToken.id, {
      name: created.adminToken.name,
      role: created.adminToken.role,
    });
    return c.json(created, 201);
  });

  app.get('/admin-tokens', async (c) => c.json({ adminTokens: await identity.adminTokens.list() }));

  app.post('/admin-tokens/:id/revoke', async (c) => {
    const id = c.req.param('id');
    const token = await identity.adminTokens.get(id);
    if (!token) return c.json({ error: `no admin token ${id}; list them with: edgeloop admin-tokens list` }, 404);
    if (token.revokedAt !== null) return c.json({ error: `admin token ${id} is already revoked` }, 409);
    // Revoking the last admin would leave nobody able to make tokens or rotate keys; revoking the
    // last token of all would lock everyone out until a restart makes a new bootstrap token.
    if (token.role === 'admin' && (await identity.adminTokens.activeCount('admin')) <= 1)
      return c.json(
        {
          error: `admin token ${id} is the last active one with the admin role; create another admin first (edgeloop admin-tokens create --name NAME --role admin)`,
        },
        409,
      );
    await identity.adminTokens.revoke(id);
    await audit.record(actorOf(c), 'admin-token.revoke', id, { name: token.name });
    return c.json({ adminToken: await identity.adminTokens.get(id) });
  });

  const noDevice = (c: Context<ApiEnv>, id: string) =>
    c.json({ error: `no device "${id}"; list them with: edgeloop devices` }, 404);

  app.put('/devices/:id', async (c) => {
    const id = c.req.param('id');
    const parsed = deviceLabelsRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"group": "site-a", "tags": {"hw": "pi4"}}' }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const labels = {
      ...(parsed.data.group !== undefined ? { group: parsed.data.group } : {}),
      ...(parsed.data.tags ? { tags: parsed.data.tags } : {}),
    };
    if (!(await identity.setLabels(id, labels))) return noDevice(c, id);
    await audit.record(actorOf(c), 'device.label', id, labels);
    return c.json({ device: await identity.device(id) });
  });

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(`/devices/:id/${verb}`, async (c) => {
      const id = c.req.param('id');
      if (!(await identity.setDisabled(id, disabled))) return noDevice(c, id);
      await audit.record(actorOf(c), `device.${verb}`, id);
      return c.json({ device: await identity.device(id) });
    });
  }

  app.post('/devices/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await identity.revokeCredential(id))) {
      return (await identity.device(id))
        ? c.json({ error: `device "${id}" has no credential to revoke (never enrolled, or already revoked)` }, 409)
        : noDevice(c, id);
    }
    await audit.record(actorOf(c), 'device.revoke', id);
    return c.json({ device: await identity.device(id), credential: null });
  });

  return app;
}
