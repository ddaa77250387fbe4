/**
 * @module api/fleet-routes
 * Devices, deployments and telemetry: POST /api/v1/deployments,
 * GET /api/v1/devices[?filters, sort, order, limit, cursor] (devices/device-directory.ts),
 * GET /api/v1/devices/facets, GET /api/v1/devices/{id},
 * GET /api/v1/telemetry[?shadow=true|false], GET /api/v1/telemetry/error?model=M[&version=V&shadow=…]
 * (live error per version, served or shadow, from the rollups). (Device labels, disable/enable/revoke: identity-routes.ts.)
 */
import { Hono } from 'hono';
import type { AuditLog } from '../audit/audit-log.js';
import type { DeviceCredentials } from '../identity/device-credentials.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';
import { describeZodError } from '@edgeloop/protocol';
import {
  deploymentRequestSchema,
  deviceListQuerySchema,
  liveErrorQuerySchema,
  removeShadowRequestSchema,
  telemetryQuerySchema,
} from '@edgeloop/protocol/rest';
import type { Deployments } from '../deploy/deployments.js';
import type { DeviceDirectory } from '../devices/device-directory.js';
import { DeviceCursorError } from '../devices/device-cursor.js';
import type { LiveErrorQuery, TelemetryRepository } from '../store/fleet-store.js';
import type { LiveError } from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';

export function fleetRoutes(deps: {
  deployments: Deployments;
  devices: DeviceDirectory;
  telemetry: TelemetryRepository;
  /** Live error from the rollups (rollups/live-error.ts), as the rollout gates compute it. */
  liveError: (q: LiveErrorQuery) => Promise<LiveError[]>;
  audit: AuditLog;
  identity: { credentials: DeviceCredentials };
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/deployments', async (c) => {
    const parsed = deploymentRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"model": "distance", "version": 3, "devices": ["pi-1"]}' }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { model, version, devices, role } = parsed.data;
    await deps.deployments.assign(model, version, devices, role ? { role } : {});
    await deps.audit.record(actorOf(c), 'deployment.create', `${model}@${version}`, {
      devices,
      ...(role ? { role } : {}),
    });
    return c.json({ deployment: { model, version, devices, ...(role ? { role } : {}) } });
  });

  // Stops a shadow on these devices (they unload it); the serving assignment is untouched.
  app.delete('/deployments/shadow/:model', async (c) => {
    const parsed = removeShadowRequestSchema.safeParse(await readJsonObject(c, { example: '{"devices": ["pi-1"]}' }));
    if (!parsed.success)
      return c.json({ error: `body must be JSON {"devices": ["..."]}: ${describeZodError(parsed.error)}` }, 400);
    const removed = await deps.deployments.removeShadow(c.req.param('model'), parsed.data.devices);
    await deps.audit.record(actorOf(c), 'deployment.shadow-remove', c.req.param('model'), { devices: removed });
    return c.json({ removed });
  });

  app.get('/devices', async (c) => {
    const parsed = deviceListQuerySchema.safeParse({ ...c.req.query(), tag: c.req.queries('tag') });
    if (!parsed.success)
      return c.json(
        { error: `${describeZodError(parsed.error)}; GET /api/v1/devices/facets lists the values filters can take` },
        400,
      );
    const { tag, q, model, version, versionOf, ...rest } = parsed.data;
    const tags = tag
      ? Object.fromEntries(tag.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]))
      : undefined;
    try {
      return c.json(
        await deps.devices.page({
          ...rest,
          ...(tags ? { tags } : {}),
          ...(q !== undefined ? { idContains: q } : {}),
          ...(model !== undefined
            ? {
                model: {
                  name: model,
                  ...(version !== undefined ? { version } : {}),
                  ...(versionOf ? { of: versionOf } : {}),
                },
              }
            : {}),
        }),
      );
    } catch (e) {
      if (e instanceof DeviceCursorError) return c.json({ error: e.message }, 400);
      throw e;
    }
  });

  // Before /devices/:id, which would take "facets" for a device id.
  app.get('/devices/facets', async (c) => c.json(await deps.devices.facets()));

  app.get('/devices/:id', async (c) => {
    const device = await deps.devices.get(c.req.param('id'));
    if (!device) throw new RegistryError(404, `no device "${c.req.param('id')}"`);
    const issuedAt = await deps.identity.credentials.issuedAt(device.id);
    return c.json({
      device,
      events: await deps.devices.events(device.id),
      desired: (await deps.deployments.desiredState(device.id)) ?? null,
      credential: issuedAt === undefined ? null : { username: device.id, issuedAt },
    });
  });

  app.get('/telemetry', async (c) => {
    const parsed = telemetryQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    return c.json({ records: await deps.telemetry.query(parsed.data) });
  });

  // Live error vs reference values per (version, shadow): how a shadow candidate compares with the serving version.
  app.get('/telemetry/error', async (c) => {
    const parsed = liveErrorQuerySchema.safeParse(c.req.query());
    if (!parsed.success)
      return c.json({ error: `${describeZodError(parsed.error)}; e.g. ?model=distance&version=2&shadow=true` }, 400);
    const { device, ...q } = parsed.data;
    return c.json({ errors: await deps.liveError({ ...q, ...(device ? { devices: [device] } : {}) }) });
  });

  return app;
}
