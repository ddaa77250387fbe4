/**
 * @module registry/model-metadata
 * What an uploader may declare beside the ONNX file (`edgeloop models push --meta FILE`).
 *
 * Two kinds of fields: those that shape the manifest devices verify (tensor specs, pre/post-
 * processing, targets, health check) and registry metadata kept server-side only (description,
 * labels, metrics, training-data summary, lineage). The latter is not signed into the manifest:
 * devices do not need it, and editing it must not force a re-sign.
 */
import { z } from 'zod';
import { ARCHES, healthCheckSchema, postprocessingSchema, preprocessingSchema, tensorSpecSchema, trainingSummarySchema } from '@edgeloop/protocol';

const shortText = z.string().min(1).max(256);

export const lineageSchema = z
  .object({
    /** An earlier version of the same model name this one was derived from. */
    parent: z.number().int().min(1).optional(),
    datasetId: shortText.optional(),
    trainingRunId: shortText.optional(),
    /** Why it was made: "manual", "drift", "schedule", "rollback"… */
    trigger: z.string().min(1).max(64).optional(),
    notes: z.string().max(4096).optional(),
  })
  .strict();

export const modelMetadataSchema = z
  .object({
    inputs: z.array(tensorSpecSchema).min(1).optional(),
    outputs: z.array(tensorSpecSchema).min(1).optional(),
    preprocessing: preprocessingSchema.optional(),
    postprocessing: postprocessingSchema.optional(),
    targets: z.object({ arch: z.array(z.enum(ARCHES)).min(1).optional(), hardware: z.array(z.string().min(1).max(64)).optional() }).optional(),
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
  .strict();
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
