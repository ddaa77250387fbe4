/**
 * @module api/model-routes
 * POST /api/v1/models (multipart: file, name, version?, metadata?, force?; streamed to disk by
 * api/model-upload.ts), GET /api/v1/models,
 * GET /api/v1/models/{name}/versions/{version} (with training summary and ancestry),
 * PUT /api/v1/models/{name}/versions/{version}/status ({status, reason?}; revoking removes the
 * version from every device), GET /api/v1/models/{name}/lineage, GET /api/v1/artifacts/{sha256}.
 *
 * The artifact route honours a single `Range: bytes=a-b` (206 + Content-Range; 416 when it starts
 * beyond the end), so agents on flaky or metered links fetch in chunks and resume where they
 * stopped. Artifacts are content-addressed and immutable, so no If-Range/ETag dance is needed.
 */
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { describeZodError, parseModelVersion, type ModelVersionSummary } from '@edgeloop/protocol';
import { statusChangeSchema } from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { Deployments } from '../deploy/deployments.js';
import type { ModelVersionRepository } from '../store/fleet-store.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import {
  RegistryError,
  type ModelRegistry,
  type ModelVersionRow,
  type RegisterRequest,
} from '../registry/model-registry.js';
import { ancestry, changeStatus, lineageOf } from '../registry/model-status.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';
import { receiveModelUpload, type ReceivedUpload } from './model-upload.js';
import type { TransferService } from '../transfer/transfer-service.js';

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
    status: row.status,
    statusReason: row.statusReason,
    description: row.description,
    labels: row.labels,
    metrics: row.metrics,
    lineage: row.lineage,
    hasTrainingSummary: row.trainingSummary !== null,
  };
}

function versionParam(text: string): number {
  const parsed = parseModelVersion(text);
  if (!parsed.ok) throw new RegistryError(400, parsed.reason);
  return parsed.value;
}

/** The registry's request from the upload's fields: each one checked, with what was wrong. */
function uploadRequest(upload: ReceivedUpload): RegisterRequest {
  const { fields, file } = upload;
  if (!file) throw new RegistryError(400, 'field "file" (the .onnx model) is missing');
  if (!fields.name) throw new RegistryError(400, 'field "name" is missing');
  let version: number | undefined;
  if (fields.version !== undefined && fields.version !== '') {
    const parsed = parseModelVersion(fields.version);
    if (!parsed.ok) throw new RegistryError(400, `field "version": ${parsed.reason}`);
    version = parsed.value;
  }
  if (fields.force !== undefined && !['', 'true', 'false'].includes(fields.force)) {
    throw new RegistryError(400, `field "force" must be "true" or "false", got "${fields.force}"`);
  }
  let metadata: unknown;
  if (fields.metadata !== undefined && fields.metadata !== '') {
    try {
      metadata = JSON.parse(fields.metadata);
    } catch (err) {
      throw new RegistryError(400, `field "metadata" is not valid JSON: ${(err as Error).message}`);
    }
  }
  return {
    name: fields.name,
    ...(version !== undefined ? { version } : {}),
    bytes: file,
    metadata,
    force: fields.force === 'true',
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
export function parseByteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
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

/** Counts bytes as they leave, so aborted downloads count what was actually sent. */
function counted(
  stream: ReadableStream<Uint8Array>,
  stats: ArtifactStats | undefined,
  onBytes?: (n: number) => void,
): ReadableStream<Uint8Array> {
  if (!stats && !onBytes) return stream;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (stats) stats.bytesServed += chunk.byteLength;
        onBytes?.(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

export function modelRoutes(deps: {
  registry: ModelRegistry;
  models: ModelVersionRepository;
  artifacts: BlobStore;
  artifactStats?: ArtifactStats;
  deployments: Deployments;
  audit: AuditLog;
  /** Download slots and bytes per device for authenticated devices (transfer/transfer-service.ts). */
  transfer?: TransferService;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/models', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('multipart/form-data')) {
      return c.json(
        {
          error:
            'send multipart/form-data with fields file (the .onnx), name, and optionally version, metadata (JSON) and force ("true")',
        },
        415,
      );
    }
    const upload = await receiveModelUpload(c.req.raw.body, type, deps.artifacts);
    let row: ModelVersionRow;
    try {
      row = await deps.registry.register(uploadRequest(upload));
    } finally {
      await upload.discard();
    }
    await deps.audit.record(actorOf(c), 'model.push', `${row.name}@${row.version}`, {
      sha256: row.sha256,
      size: row.size,
      keyId: row.keyId,
      lineage: row.lineage,
    });
    return c.json({ model: modelView(row) }, 201);
  });

  app.get('/models', async (c) => c.json({ models: (await deps.models.list()).map(modelView) }));

  app.get('/models/:name/versions/:version', async (c) => {
    const row = await deps.models.get(c.req.param('name'), versionParam(c.req.param('version')));
    if (!row) throw new RegistryError(404, `no model ${c.req.param('name')} v${c.req.param('version')}`);
    const chain = (await ancestry(deps.models, row.name, row.version)).slice(1).map(modelView);
    return c.json({
      model: modelView(row),
      envelope: row.envelope,
      trainingSummary: row.trainingSummary,
      ancestry: chain,
    });
  });

  app.put('/models/:name/versions/:version/status', async (c) => {
    const name = c.req.param('name');
    const version = versionParam(c.req.param('version'));
    const parsed = statusChangeSchema.safeParse(
      await readJsonObject(c, { example: '{"status": "approved" | "deprecated" | "revoked", "reason": "…"}' }),
    );
    if (!parsed.success)
      throw new RegistryError(
        400,
        `invalid status change: ${describeZodError(parsed.error)}; send {"status": "approved" | "deprecated" | "revoked", "reason"?: "…"}`,
      );
    const { row, previous, changed } = await changeStatus(deps.models, name, version, parsed.data);
    let removedFrom: string[] = [];
    if (changed && row.status === 'revoked') removedFrom = await deps.deployments.removeVersion(name, version);
    if (changed) {
      await deps.audit.record(
        actorOf(c),
        `model.${row.status === 'approved' ? 'approve' : row.status === 'deprecated' ? 'deprecate' : 'revoke'}`,
        `${name}@${version}`,
        {
          from: previous,
          reason: row.statusReason,
          ...(row.status === 'revoked' ? { removedFrom } : {}),
        },
      );
    }
    return c.json({ model: modelView(row), changed, removedFrom });
  });

  app.get('/models/:name/lineage', async (c) => c.json(await lineageOf(deps.models, c.req.param('name'))));

  app.get('/artifacts/:sha256', async (c) => {
    const sha = c.req.param('sha256');
    // Only registered artifacts are served, under a name that must be a sha256 (no path tricks).
    const size =
      /^[0-9a-f]{64}$/.test(sha) && (await deps.models.withArtifact(sha)).length > 0
        ? await deps.artifacts.size(sha)
        : undefined;
    if (size === undefined)
      return c.json({ error: `no artifact ${sha}: register the model first (edgeloop models push)` }, 404);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'public, max-age=31536000, immutable',
    };
    const range = parseByteRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') {
      return c.json({ error: `range ${c.req.header('range')} starts beyond the artifact's ${size} bytes` }, 416, {
        'content-range': `bytes */${size}`,
      });
    }
    // A device (authenticated as device:<id>) gets only its assigned artifacts, within the download cap, counted.
    const actor = c.get('actor');
    const deviceId = actor?.startsWith('device:') ? actor.slice('device:'.length) : undefined;
    const transfer = deviceId !== undefined ? deps.transfer : undefined;
    if (transfer && deviceId !== undefined) {
      if ((await transfer.assignedSize(deviceId, sha)) === undefined)
        return c.json(
          {
            error: `artifact ${sha} is not assigned to device ${deviceId}; only artifacts in its desired state are served`,
          },
          403,
        );
      const admission = transfer.enter(deviceId);
      if (!admission.admitted) await admission.ready;
    }
    if (deps.artifactStats) deps.artifactStats.requests++;
    const { start, end } = range ?? { start: 0, end: size - 1 };
    let sent = 0;
    const onBytes =
      transfer && deviceId !== undefined
        ? (n: number) => {
            sent += n;
            transfer.sent(deviceId, sha, 'http', n, sent === n, start + sent === size);
          }
        : undefined;
    const stream = await deps.artifacts.stream(sha, start, end);
    if (!stream) return c.json({ error: `artifact ${sha} is registered but its bytes are missing` }, 500);
    const body = counted(Readable.toWeb(stream) as ReadableStream<Uint8Array>, deps.artifactStats, onBytes);
    headers['content-length'] = String(end - start + 1);
    if (!range) return new Response(body, { status: 200, headers });
    return new Response(body, {
      status: 206,
      headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` },
    });
  });

  return app;
}
