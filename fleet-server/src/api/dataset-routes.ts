/**
 * @module api/dataset-routes
 * Dataset snapshots: POST /api/v1/datasets (from a selection of samples), GET …/datasets,
 * GET …/datasets/{id}, GET …/{id}/items (pages), GET …/{id}/files/{sha256} (an image),
 * POST …/datasets/blobs/missing, PUT …/datasets/blobs/{sha256} and POST …/datasets/import (an
 * import: the images the server lacks first, then the items), DELETE …/datasets/{id} (refused while a model version names it).
 *
 * The image upload and the import may be larger than a JSON request: body-limits lets them
 * through as uploads, the image streams to a staging file, the import's JSON is read up to
 * MAX_IMPORT_BODY_BYTES.
 */
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { describeZodError } from '@edgeloop/protocol';
import {
  datasetBlobPathSchema,
  datasetBlobsMissingRequestSchema,
  datasetCreateRequestSchema,
  datasetFilePathSchema,
  datasetImportRequestSchema,
  datasetItemsQuerySchema,
  datasetPathSchema,
} from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { DatasetOutcome, DatasetService } from '../datasets/dataset-service.js';
import { RegistryError } from '../registry/model-registry.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { BodyTooLargeError } from './body-limits.js';
import { readJsonObject } from './json-body.js';
import { receiveModelUpload, type UploadForm } from './model-upload.js';

/** An import of a million items with provenance fields fits; anything bigger is split up. */
export const MAX_IMPORT_BODY_BYTES = 256 * 1024 * 1024;

const IMAGE_FORM: UploadForm = {
  fields: ['file'],
  required: 'file (the image)',
  fileExample: 'file=@image.jpg',
  what: 'dataset images',
};

/** Requests of these routes may exceed the JSON body limit (body-limits' isUpload). */
export function isDatasetUpload(method: string, path: string): boolean {
  return (
    (method === 'PUT' && /^\/api\/v1\/datasets\/blobs\/[^/]+\/?$/.test(path)) ||
    (method === 'POST' && /^\/api\/v1\/datasets\/import\/?$/.test(path))
  );
}

function parsed<T>(
  result: { success: true; data: T } | { success: false; error: Parameters<typeof describeZodError>[0] },
  what: string,
): T {
  if (!result.success) throw new RegistryError(400, `${what}: ${describeZodError(result.error)}`);
  return result.data;
}

/** The body of an upload-sized JSON request, refused past `limit` (413) like any other body. */
async function readLargeJson(c: Context<ApiEnv>, limit: number, example: string): Promise<Record<string, unknown>> {
  const reader = c.req.raw.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.byteLength;
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(next.value);
    }
  } catch (err) {
    void reader?.cancel().catch(() => {});
    if (err instanceof BodyTooLargeError)
      throw new RegistryError(
        413,
        `the import exceeds ${err.limit} bytes; import the items in several datasets and include them`,
      );
    throw err;
  }
  // Parsed by the same rules as every JSON body (content type, object).
  c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
  return readJsonObject(c, { example });
}

export function datasetRoutes(deps: {
  datasets: DatasetService;
  sampleFiles: BlobStore;
  audit: AuditLog;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const answer = (c: Context<ApiEnv>, outcome: DatasetOutcome) => c.json(outcome, outcome.created ? 201 : 200);

  app.post('/datasets', async (c) => {
    const body = parsed(
      datasetCreateRequestSchema.safeParse(
        await readJsonObject(c, { example: '{"selection": {"model": "distance", "reasons": ["capture"]}}' }),
      ),
      'invalid dataset request',
    );
    const outcome = await deps.datasets.create(body.selection, body);
    if (outcome.created)
      await deps.audit.record(actorOf(c), 'dataset.create', outcome.dataset.id, {
        selection: body.selection,
        items: outcome.dataset.counts.total,
        skipped: outcome.skipped,
      });
    return answer(c, outcome);
  });

  app.get('/datasets', async (c) => c.json({ datasets: await deps.datasets.list() }));

  app.get('/datasets/:id', async (c) => {
    const { id } = parsed(datasetPathSchema.safeParse(c.req.param()), 'invalid dataset id');
    const dataset = await deps.datasets.get(id);
    if (!dataset) throw new RegistryError(404, `no dataset ${id}; see edgeloop datasets list`);
    return c.json({ dataset, usedBy: await deps.datasets.usedBy(id) });
  });

  app.get('/datasets/:id/items', async (c) => {
    const { id } = parsed(datasetPathSchema.safeParse(c.req.param()), 'invalid dataset id');
    const q = parsed(datasetItemsQuerySchema.safeParse(c.req.query()), 'invalid query');
    return c.json(await deps.datasets.items(id, q));
  });

  app.get('/datasets/:id/files/:sha256', async (c) => {
    const { id, sha256 } = parsed(datasetFilePathSchema.safeParse(c.req.param()), 'invalid path');
    const item = await deps.datasets.item(id, sha256);
    const size = item ? await deps.sampleFiles.size(sha256) : undefined;
    const stream = size !== undefined ? await deps.sampleFiles.stream(sha256) : undefined;
    if (!item || !stream) throw new RegistryError(404, `dataset ${id} has no image ${sha256}`);
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: { 'content-type': item.contentType, 'content-length': String(size) },
    });
  });

  app.put('/datasets/blobs/:sha256', async (c) => {
    const { sha256 } = parsed(datasetBlobPathSchema.safeParse(c.req.param()), 'invalid path');
    const type = c.req.header('content-type') ?? '';
    if (!/^multipart\/form-data/i.test(type))
      throw new RegistryError(
        415,
        'send the image as multipart/form-data with a "file" field (curl -F file=@image.jpg)',
      );
    const upload = await receiveModelUpload(c.req.raw.body, type, deps.sampleFiles, IMAGE_FORM);
    try {
      if (!upload.file) throw new RegistryError(400, 'the form has no "file" field; send the image as file');
      if (upload.file.sha256 !== sha256)
        throw new RegistryError(
          400,
          `the bytes hash to ${upload.file.sha256}, not ${sha256}; upload each image under the sha256 of its bytes`,
        );
      if (upload.file.size === 0) throw new RegistryError(400, 'the image is empty; send its bytes');
      const stored = await deps.sampleFiles.adopt(upload.file);
      return c.json({ sha256: stored.sha256, size: stored.size });
    } finally {
      await upload.discard();
    }
  });

  app.post('/datasets/blobs/missing', async (c) => {
    const { sha256 } = parsed(
      datasetBlobsMissingRequestSchema.safeParse(await readJsonObject(c, { example: '{"sha256": ["…"]}' })),
      'invalid request',
    );
    const missing: string[] = [];
    for (const hash of new Set(sha256)) if ((await deps.sampleFiles.size(hash)) === undefined) missing.push(hash);
    return c.json({ missing });
  });

  app.post('/datasets/import', async (c) => {
    const body = parsed(
      datasetImportRequestSchema.safeParse(
        await readLargeJson(
          c,
          MAX_IMPORT_BODY_BYTES,
          '{"items": [{"sha256": "…", "label": 12.5, "contentType": "image/jpeg"}]}',
        ),
      ),
      'invalid import',
    );
    const outcome = await deps.datasets.importItems(body.items, body);
    if (outcome.created)
      await deps.audit.record(actorOf(c), 'dataset.import', outcome.dataset.id, {
        items: outcome.dataset.counts.total,
        ...(body.from !== undefined ? { from: body.from } : {}),
      });
    return answer(c, outcome);
  });

  app.delete('/datasets/:id', async (c) => {
    const { id } = parsed(datasetPathSchema.safeParse(c.req.param()), 'invalid dataset id');
    await deps.datasets.delete(id);
    await deps.audit.record(actorOf(c), 'dataset.delete', id, {});
    return c.json({ id, deleted: true as const });
  });

  return app;
}
