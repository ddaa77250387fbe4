/**
 * @module api/fleet-routes
 * Devices, deployments and telemetry: POST /api/v1/deployments, GET /api/v1/devices[/{id}],
 * GET /api/v1/telemetry.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { describeZodError, isValidId } from '@edgeloop/protocol';
import type { Deployments } from '../deploy/deployments.js';
import type { DeviceStore } from '../store/device-store.js';
import type { TelemetryStore } from '../store/telemetry-store.js';
import { RegistryError } from '../registry/model-registry.js';

const deploymentSchema = z.object({
  model: z.string().refine(isValidId, 'invalid model name'),
  version: z.number().int().min(1),
  devices: z.array(z.string().refine(isValidId, 'invalid device id')).min(1).max(10_000),
});

const telemetryQuerySchema = z.object({
  device: z.string().refine(isValidId, 'invalid device id').optional(),
  model: z.string().refine(isValidId, 'invalid model name').optional(),
  version: z.coerce.number().int().min(1).optional(),
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  order: z.enum(['newest', 'oldest']).optional(),
});

export function fleetRoutes(deps: { deployments: Deployments; devices: DeviceStore; telemetry: TelemetryStore }): Hono {
  const app = new Hono();

  app.post('/deployments', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON: {"model": "...", "version": N, "devices": ["..."]}' }, 400);
    }
    const parsed = deploymentSchema.safeParse(body);
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { model, version, devices } = parsed.data;
    await deps.deployments.assign(model, version, devices);
    return c.json({ deployment: { model, version, devices } });
  });

  app.get('/devices', (c) => c.json({ devices: deps.devices.list() }));

  app.get('/devices/:id', (c) => {
    const device = deps.devices.get(c.req.param('id'));
    if (!device) throw new RegistryError(404, `no device "${c.req.param('id')}"`);
    return c.json({ device, events: deps.devices.events(device.id), desired: deps.deployments.desiredState(device.id) });
  });

  app.get('/telemetry', (c) => {
    const parsed = telemetryQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    return c.json({ records: deps.telemetry.query(parsed.data) });
  });

  return app;
}
