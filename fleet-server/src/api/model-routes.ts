/**
 * @module api/model-routes
 * POST /api/v1/models (multipart: file, name, version?, metadata?), GET /api/v1/models,
 * GET /api/v1/models/{name}/versions/{version}, GET /api/v1/artifacts/{sha256}.
 */
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import type { ModelVersionSummary } from '@edgeloop/protocol';
import type { ModelStore, ModelVersionRow } from '../store/model-store.js';
import type { ArtifactStore } from '../registry/artifact-store.js';
import { RegistryError, type ModelRegistry } from '../registry/model-registry.js';

export function modelView(row: ModelVersionRow): ModelVersionSummary {
  const m = row.manifest;
  return {
    name: row.name,
    version: row.version,
    sha256: row.sha256,
    size: row.size,
    createdAt: m.created,
    expiresAt: m.expires,
    keyId: row.keyId,
    inputs: m.inputs,
    outputs: m.outputs,
    preprocessing: m.preprocessing,
    postprocessing: m.postprocessing,
    targets: m.targets,
  };
}

export function modelRoutes(deps: { registry: ModelRegistry; models: ModelStore; artifacts: ArtifactStore }): Hono {
  const app = new Hono();

  app.post('/models', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('multipart/form-data')) {
      return c.json({ error: 'send multipart/form-data with fields file (the .onnx), name, and optionally version and metadata (JSON)' }, 415);
    }
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody();
    } catch (err) {
      return c.json({ error: `cannot read the multipart body: ${(err as Error).message}` }, 400);
    }
    const file = form.file;
    if (!(file instanceof File)) return c.json({ error: 'field "file" (the .onnx model) is missing' }, 400);
    const name = typeof form.name === 'string' ? form.name : '';
    if (!name) return c.json({ error: 'field "name" is missing' }, 400);
    let version: number | undefined;
    if (typeof form.version === 'string' && form.version !== '') {
      version = Number(form.version);
      if (!Number.isSafeInteger(version) || version < 1) return c.json({ error: `field "version" must be a positive integer, got "${form.version}"` }, 400);
    }
    let metadata: unknown;
    if (typeof form.metadata === 'string' && form.metadata !== '') {
      try {
        metadata = JSON.parse(form.metadata);
      } catch (err) {
        return c.json({ error: `field "metadata" is not valid JSON: ${(err as Error).message}` }, 400);
      }
    }
    const row = deps.registry.register({ name, ...(version ? { version } : {}), bytes: new Uint8Array(await file.arrayBuffer()), metadata });
    return c.json({ model: modelView(row) }, 201);
  });

  app.get('/models', (c) => c.json({ models: deps.models.list().map(modelView) }));

  app.get('/models/:name/versions/:version', (c) => {
    const row = deps.models.get(c.req.param('name'), Number(c.req.param('version')));
    if (!row) throw new RegistryError(404, `no model ${c.req.param('name')} v${c.req.param('version')}`);
    return c.json({ model: modelView(row), envelope: row.envelope });
  });

  app.get('/artifacts/:sha256', (c) => {
    const sha = c.req.param('sha256');
    const artifact = deps.models.hasArtifact(sha) ? deps.artifacts.open(sha) : undefined;
    if (!artifact) return c.json({ error: `no artifact ${sha}` }, 404);
    return new Response(Readable.toWeb(artifact.stream) as ReadableStream, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(artifact.size), 'cache-control': 'public, max-age=31536000, immutable' },
    });
  });

  return app;
}
