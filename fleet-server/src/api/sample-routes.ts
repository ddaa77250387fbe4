/**
 * @module api/sample-routes
 * GET /api/v1/samples, GET /api/v1/samples/{id}/content, and
 * POST /api/v1/devices/{id}/samples/request {"minutes": N}: ask a device to upload its samples;
 * POST /api/v1/devices/{id}/samples/capture {"minutes", "models"?, "everyN"?}: ask it to keep its
 * inputs for a while (and upload them), whatever its local policies say; DELETE closes it early.
 */
import { Hono } from 'hono';
import type { AuditLog } from '../audit/audit-log.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';
import { Readable } from 'node:stream';
import { describeZodError } from '@edgeloop/protocol';
import { sampleCaptureRequestSchema, sampleListQuerySchema, sampleUploadRequestSchema } from '@edgeloop/protocol/rest';
import type { BlobStore } from '../store/blobs/blob-store.js';
import { RegistryError } from '../registry/model-registry.js';
import type { Deployments } from '../deploy/deployments.js';
import type { ModelVersionRepository } from '../store/fleet-store.js';
import type { SampleStore } from '../samples/sample-store.js';

export function sampleRoutes(deps: {
  samples: SampleStore;
  sampleFiles: BlobStore;
  devices: { exists(deviceId: string): Promise<boolean> };
  models: ModelVersionRepository;
  deployments: Deployments;
  audit: AuditLog;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/samples', async (c) => {
    const q = sampleListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    return c.json({ samples: await deps.samples.list(q.data) });
  });

  app.get('/samples/:id/content', async (c) => {
    const row = await deps.samples.get(Number(c.req.param('id')));
    const size = row ? await deps.sampleFiles.size(row.sha256) : undefined;
    const stream = row && size !== undefined ? await deps.sampleFiles.stream(row.sha256) : undefined;
    if (!row || !stream) throw new RegistryError(404, `no sample ${c.req.param('id')}`);
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: { 'content-type': row.contentType, 'content-length': String(size) },
    });
  });

  app.post('/devices/:id/samples/request', async (c) => {
    const deviceId = await knownDevice(c.req.param('id'));
    const parsed = sampleUploadRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"minutes": 30}', optional: true }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    // Whole milliseconds: the desired state's schema takes integers only, and a device drops a
    // desired state that does not parse (with its models and keys).
    const until = Math.round(Date.now() + parsed.data.minutes * 60_000);
    await deps.samples.setUploadUntil(deviceId, until);
    await deps.audit.record(actorOf(c), 'samples.request', deviceId, { minutes: parsed.data.minutes, until });
    await deps.deployments.publishDesired(deviceId);
    return c.json({ deviceId, uploadUntil: until });
  });

  app.post('/devices/:id/samples/capture', async (c) => {
    const deviceId = await knownDevice(c.req.param('id'));
    const parsed = sampleCaptureRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"minutes": 30}', optional: true }),
    );
    if (!parsed.success) return c.json({ error: describeZodError(parsed.error) }, 400);
    const { minutes, models, everyN } = parsed.data;
    // A misspelt model would capture nothing while the call reports success.
    const unknown: string[] = [];
    for (const m of models ?? []) if ((await deps.models.latestVersion(m)) === 0) unknown.push(m);
    if (unknown.length)
      throw new RegistryError(
        404,
        `no model named ${unknown.map((m) => `"${m}"`).join(', ')} is registered (edgeloop models list)`,
      );
    const capture = { until: Math.round(Date.now() + minutes * 60_000), everyN, ...(models ? { models } : {}) };
    await deps.samples.setCapture(deviceId, capture);
    // What is captured is wanted here: upload through the window and a little after it.
    const uploadUntil = Math.max(
      (await deps.samples.uploadUntil(deviceId)) ?? 0,
      capture.until + CAPTURE_UPLOAD_GRACE_MS,
    );
    await deps.samples.setUploadUntil(deviceId, uploadUntil);
    await deps.audit.record(actorOf(c), 'samples.capture', deviceId, { minutes, everyN, models, until: capture.until });
    await deps.deployments.publishDesired(deviceId);
    return c.json({ deviceId, capture, uploadUntil });
  });

  /** Closes a capture window early; what was kept still uploads within the upload window. */
  app.delete('/devices/:id/samples/capture', async (c) => {
    const deviceId = await knownDevice(c.req.param('id'));
    const open = await deps.samples.capture(deviceId);
    await deps.samples.clearCapture(deviceId);
    await deps.audit.record(actorOf(c), 'samples.capture.stop', deviceId, { wasOpenUntil: open?.until ?? null });
    await deps.deployments.publishDesired(deviceId);
    return c.json({ deviceId, stopped: open !== undefined && open.until > Date.now() });
  });

  async function knownDevice(deviceId: string): Promise<string> {
    if (!(await deps.devices.exists(deviceId))) throw new RegistryError(404, `no device "${deviceId}"`);
    return deviceId;
  }

  return app;
}

/** Samples kept at the end of a capture window still get this long to reach the fleet. */
const CAPTURE_UPLOAD_GRACE_MS = 15 * 60_000;
