/**
 * @module api/model-routes
 * POST /api/v1/models (multipart: file, name, version?, metadata?), GET /api/v1/models,
 * GET /api/v1/models/{name}/versions/{version}, GET /api/v1/artifacts/{sha256}.
 *
 * The artifact route honours a single `Range: bytes=a-b` (206 + Content-Range; 416 when it starts
 * beyond the end), so agents on flaky or metered links fetch in chunks and resume where they
 * stopped. Artifacts are content-addressed and immutable, so no If-Range/ETag dance is needed.
 */
import { Hono } from 'hono';
import { createReadStream, statSync } from 'node:fs';
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

/** Bytes the artifact route has sent, for /api/v1/health (and tests proving a download resumed). */
export interface ArtifactStats {
  requests: number;
  bytesServed: number;
}

/**
 * One `bytes=` range (RFC 9110 §14.1.2) against an artifact of `size` bytes. `undefined` means
 * "ignore the header and send everything": the RFC's answer to malformed or multi-range headers.
 */
export function parseByteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{0,20})-(\d{0,20})$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // Suffix range: the last n bytes.
    const n = Number(m[2]);
    return n === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  // An explicit last byte before the first makes the header invalid (ignored), not unsatisfiable.
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** Counts bytes as they leave, so aborted downloads count what was actually sent. */
function counted(stream: ReadableStream<Uint8Array>, stats: ArtifactStats | undefined): ReadableStream<Uint8Array> {
  if (!stats) return stream;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        stats.bytesServed += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
}

export function modelRoutes(deps: { registry: ModelRegistry; models: ModelStore; artifacts: ArtifactStore; artifactStats?: ArtifactStats }): Hono {
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
    // Only registered artifacts are served, under a name that must be a sha256 (no path tricks).
    const path = /^[0-9a-f]{64}$/.test(sha) && deps.models.hasArtifact(sha) ? deps.artifacts.path(sha) : undefined;
    const size = path === undefined ? undefined : fileSize(path);
    if (path === undefined || size === undefined) return c.json({ error: `no artifact ${sha}: register the model first (edgeloop models push)` }, 404);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'public, max-age=31536000, immutable',
    };
    const range = parseByteRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') {
      return c.json({ error: `range ${c.req.header('range')} starts beyond the artifact's ${size} bytes` }, 416, { 'content-range': `bytes */${size}` });
    }
    if (deps.artifactStats) deps.artifactStats.requests++;
    const { start, end } = range ?? { start: 0, end: size - 1 };
    const body = counted(Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>, deps.artifactStats);
    headers['content-length'] = String(end - start + 1);
    if (!range) return new Response(body, { status: 200, headers });
    return new Response(body, { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` } });
  });

  return app;
}
