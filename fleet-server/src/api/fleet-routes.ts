/**
 * @module api/fleet-routes
 * Devices, deployments and telemetry: POST /api/v1/deployments,
 * GET /api/v1/devices[?group=G&tag=k=v&disabled=true|false], GET /api/v1/devices/{id},
 * GET /api/v1/telemetry[?shadow=true|false], GET /api/v1/telemetry/error?model=M[&version=V&shadow=…]
 * (live error per version, served or shadow). (Device labels, disable/enable/revoke: identity-routes.ts.)
 */
import { Hono } from 'hono';
import type { AuditLog } from '../audit/audit-log.js';
import type { DeviceCredentials } from '../identity/device-credentials.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';
import { z } from 'zod';
import { describeZodError, isValidId, modelVersionSchema } from '@edgeloop/protocol';
import type { Deployments } from '../deploy/deployments.js';
import type { DeviceDirectory } from '../devices/device-directory.js';
import type { TelemetryRepository } from '../store/fleet-store.js';
import { RegistryError } from '../registry/model-registry.js';

const deploymentSchema = z.object({
  model: z.string().refine(isValidId, 'invalid model name'),
  version: modelVersionSchema,
  devices: z.array(z.string().refine(isValidId, 'invalid device id')).min(1).max(10_000),
  /** shadow: the devices run it beside the version they serve, recording its outputs, never answering with it. */
  role: z.enum(['serve', 'shadow']).optional(),
});

/** Plain decimal digits, like every version the API takes ("1e3" is not 1000). */
const versionQuery = z.string().regex(/^[1-9][0-9]{0,9}$/, 'version must be plain decimal digits').transform(Number).pipe(modelVersionSchema);

const telemetryQuerySchema = z.object({
  device: z.string().refine(isValidId, 'invalid device id').optional(),
  model: z.string().refine(isValidId, 'invalid model name').optional(),
  version: versionQuery.optional(),
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  order: z.enum(['newest', 'oldest']).optional(),
  /** true: only shadow records (a candidate run beside the serving model); false: only served ones. */
  shadow: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

const liveErrorQuerySchema = z.object({
  model: z.string().refine(isValidId, 'invalid model name'),
  version: versionQuery.optional(),
  shadow: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  device: z.string().refine(isValidId, 'invalid device id').optional(),
  since: z.coerce.number().int().min(0).optional(),
});

const deviceListSchema = z.object({
  group: z.string().refine(isValidId, 'invalid group').optional(),
  tag: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}=.{1,128}$/, 'tag filters look like key=value')).optional(),
  disabled: z.enum(['true', 'false']).optional(),
});

export function fleetRoutes(deps: { deployments: Deployments; devices: DeviceDirectory; telemetry: TelemetryRepository; audit: AuditLog; identity: { credentials: DeviceCredentials } }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/deployments', async (c) => {
    const parsed = deploymentSchema.safeParse(await readJsonObject(c, { example: '{"model": "distance", "version": 3, "devices": ["pi-1"]}' }));
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { model, version, devices, role } = parsed.data;
    await deps.deployments.assign(model, version, devices, role ? { role } : {});
    await deps.audit.record(actorOf(c), 'deployment.create', `${model}@${version}`, { devices, ...(role ? { role } : {}) });
    return c.json({ deployment: { model, version, devices, ...(role ? { role } : {}) } });
  });

  // Stops a shadow on these devices (they unload it); the serving assignment is untouched.
  app.delete('/deployments/shadow/:model', async (c) => {
    const parsed = z.object({ devices: z.array(z.string().refine(isValidId, 'invalid device id')).min(1).max(10_000) }).safeParse(await readJsonObject(c, { example: '{"devices": ["pi-1"]}' }));
    if (!parsed.success) return c.json({ error: `body must be JSON {"devices": ["..."]}: ${describeZodError(parsed.error)}` }, 400);
    const removed = await deps.deployments.removeShadow(c.req.param('model'), parsed.data.devices);
    await deps.audit.record(actorOf(c), 'deployment.shadow-remove', c.req.param('model'), { devices: removed });
    return c.json({ removed });
  });

  app.get('/devices', async (c) => {
    const parsed = deviceListSchema.safeParse({ ...c.req.query(), tag: c.req.queries('tag') });
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { group, tag, disabled } = parsed.data;
    const tags = tag ? Object.fromEntries(tag.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)])) : undefined;
    return c.json({ devices: await deps.devices.list({ ...(group ? { group } : {}), ...(tags ? { tags } : {}), ...(disabled ? { disabled: disabled === 'true' } : {}) }) });
  });

  app.get('/devices/:id', async (c) => {
    const device = await deps.devices.get(c.req.param('id'));
    if (!device) throw new RegistryError(404, `no device "${c.req.param('id')}"`);
    const issuedAt = await deps.identity.credentials.issuedAt(device.id);
    return c.json({
      device, events: await deps.devices.events(device.id), desired: (await deps.deployments.desiredState(device.id)) ?? null,
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
    if (!parsed.success) return c.json({ error: `${describeZodError(parsed.error)}; e.g. ?model=distance&version=2&shadow=true` }, 400);
    const { device, ...q } = parsed.data;
    return c.json({ errors: await deps.telemetry.liveError({ ...q, ...(device ? { devices: [device] } : {}) }) });
  });

  return app;
}
