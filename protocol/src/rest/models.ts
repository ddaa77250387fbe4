/**
 * @module rest/models
 * The model registry over REST: versions with their manifest fields and registry metadata,
 * lineage, status changes, and what an uploader may declare beside the ONNX file.
 *
 * Metadata has two kinds of fields: those that shape the manifest devices verify (tensor specs,
 * pre/post-processing, targets, health check) and registry metadata kept server-side only
 * (description, labels, metrics, training-data summary, lineage). The latter is not signed into
 * the manifest: devices do not need it, and editing it must not force a re-sign.
 */
import { z } from 'zod';
import { trainingSummarySchema } from '../baseline.js';
import { ARCHES, healthCheckSchema } from '../manifest.js';
import { postprocessingSchema, preprocessingSchema, tensorSpecSchema } from '../tensors.js';
import { MODEL_STATUSES } from './constants.js';
import { epochMsSchema, restEnvelopeSchema, restIdSchema, stringMapSchema } from './shared.js';

const shortText = z.string().min(1).max(256);

/** Where a version came from. `parent` is an earlier version of the same model name. */
export const lineageSchema = z
  .object({
    /** An earlier version of the same model name this one was derived from. */
    parent: z.number().int().min(1).optional(),
    datasetId: shortText.optional(),
    trainingRunId: shortText.optional(),
    /** Why it was made: "manual", "drift", "schedule", "rollback"… */
    trigger: z.string().min(1).max(64).optional(),
    /** The retraining loop run that made it, and the incident that started that run. */
    loopRunId: z.string().min(1).max(64).optional(),
    incidentId: z.string().min(1).max(64).optional(),
    notes: z.string().max(4096).optional(),
  })
  .strict()
  .meta({ id: 'Lineage' });
export type ModelLineage = z.infer<typeof lineageSchema>;

/** The `metadata` field of a model upload (`edgeloop models push --meta FILE`). */
export const modelMetadataSchema = z
  .object({
    inputs: z.array(tensorSpecSchema).min(1).optional(),
    outputs: z.array(tensorSpecSchema).min(1).optional(),
    preprocessing: preprocessingSchema.optional(),
    postprocessing: postprocessingSchema.optional(),
    targets: z
      .object({
        arch: z.array(z.enum(ARCHES)).min(1).optional(),
        hardware: z.array(z.string().min(1).max(64)).optional(),
      })
      .optional(),
    /** Golden input → output pairs the device checks before the version serves. */
    healthCheck: healthCheckSchema.optional(),
    description: z.string().max(4096).optional(),
    labels: z
      .record(z.string().min(1).max(64), z.string().max(256))
      .refine((r) => Object.keys(r).length <= 64, 'at most 64 labels')
      .optional(),
    metrics: z
      .record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'must be a finite number'))
      .refine((r) => Object.keys(r).length <= 64, 'at most 64 metrics')
      .optional(),
    /** Baseline feature histograms of the training data (drift detection compares against them). */
    trainingSummary: trainingSummarySchema.optional(),
    lineage: lineageSchema.optional(),
  })
  .strict()
  .meta({ id: 'ModelMetadata' });
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;

/**
 * The model file of an upload. Any Blob will do (a browser File, Node's fs.openAsBlob); it is
 * streamed as it is sent. A File's name is the name the server records.
 */
export const uploadFileSchema = z.custom<Blob>(
  (v) => typeof Blob !== 'undefined' && v instanceof Blob,
  'must be a file (Blob)',
);

/** POST /api/v1/models, multipart/form-data: the ONNX file and the fields beside it. */
export const modelUploadSchema = z.object({
  file: uploadFileSchema,
  name: restIdSchema,
  version: z
    .string()
    .regex(/^[1-9][0-9]*$/, 'version must be plain decimal digits')
    .optional(),
  /** JSON text of {@link ModelMetadata}; sent as written so the server reports its own positions. */
  metadata: z.string().optional(),
  /** "true": accept a version far above the latest (the registry's max version jump). */
  force: z.enum(['true', 'false']).optional(),
});
export type ModelUpload = z.input<typeof modelUploadSchema>;

export const modelVersionSummarySchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    sha256: z.string(),
    size: z.number().int(),
    createdAt: z.string(),
    expiresAt: z.string(),
    keyId: z.string(),
    inputs: z.array(tensorSpecSchema),
    outputs: z.array(tensorSpecSchema),
    preprocessing: preprocessingSchema,
    postprocessing: postprocessingSchema,
    targets: z.object({ arch: z.array(z.string()), hardware: z.array(z.string()) }),
    /** registered → approved | deprecated | revoked (final). Revoked versions are on no device. */
    status: z.enum(MODEL_STATUSES),
    statusReason: z.string().nullable(),
    description: z.string().nullable(),
    /** Free-form key → value tags (team, dataset, use case…). */
    labels: stringMapSchema,
    /** Evaluation metrics the uploader reported, e.g. {"mae_mm": 12.5}. */
    metrics: z.record(z.string(), z.number()),
    lineage: lineageSchema,
    /** Whether a training-data summary (drift baseline) is stored; fetched with the version. */
    hasTrainingSummary: z.boolean(),
  })
  .meta({ id: 'ModelVersion' });
export type ModelVersionSummary = z.infer<typeof modelVersionSummarySchema>;

export const modelResponseSchema = z.object({ model: modelVersionSummarySchema });
export const modelListResponseSchema = z.object({ models: z.array(modelVersionSummarySchema) });

/** GET /api/v1/models/{name}/versions/{version}: the signed envelope, training summary and ancestors (newest first). */
export const modelDetailSchema = z.object({
  model: modelVersionSummarySchema,
  envelope: restEnvelopeSchema,
  trainingSummary: trainingSummarySchema.nullable(),
  ancestry: z.array(modelVersionSummarySchema),
});
export type ModelDetail = z.infer<typeof modelDetailSchema>;

/** PUT /api/v1/models/{name}/versions/{version}/status. */
export const statusChangeSchema = z
  .object({
    status: z.enum(['approved', 'deprecated', 'revoked']),
    reason: z.string().min(1).max(1024).optional(),
  })
  .strict()
  .meta({ id: 'ModelStatusChange' });
export type StatusChange = z.infer<typeof statusChangeSchema>;

export const statusChangeResponseSchema = z.object({
  model: modelVersionSummarySchema,
  changed: z.boolean(),
  /** Devices a revoked version was removed from. */
  removedFrom: z.array(z.string()),
});
export type StatusChangeResponse = z.infer<typeof statusChangeResponseSchema>;

/** GET /api/v1/models/{name}/lineage: every version, newest first, with its parent link. */
export const lineageResponseSchema = z
  .object({
    name: z.string(),
    versions: z.array(
      z.object({
        version: z.number().int(),
        sha256: z.string(),
        createdAt: epochMsSchema,
        status: z.enum(MODEL_STATUSES),
        lineage: lineageSchema,
      }),
    ),
  })
  .meta({ id: 'LineageResponse' });
export type LineageResponse = z.infer<typeof lineageResponseSchema>;
