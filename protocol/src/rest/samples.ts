/**
 * @module rest/samples
 * Raw inputs devices kept for retraining (GET /api/v1/samples, bytes at …/{id}/content) and the
 * requests that make devices keep or upload them (POST /api/v1/devices/{id}/samples/…).
 */
import { z } from 'zod';
import { sampleCaptureSchema } from '../messages.js';
import { epochMsSchema, integerText, restIdSchema } from './shared.js';

/** A raw input a device kept for retraining. */
export const sampleSummarySchema = z
  .object({
    id: z.number().int(),
    deviceId: z.string(),
    stream: z.string(),
    seq: z.number().int(),
    model: z.string(),
    version: z.number().int(),
    ts: epochMsSchema,
    reason: z.string(),
    prediction: z.number().nullable(),
    reference: z.number().nullable(),
    contentType: z.string(),
    sha256: z.string(),
    bytes: z.number().int(),
    receivedAt: epochMsSchema,
  })
  .meta({ id: 'Sample' });
export type SampleSummary = z.infer<typeof sampleSummarySchema>;

export const sampleListQuerySchema = z.object({
  device: restIdSchema.optional(),
  model: restIdSchema.optional(),
  limit: integerText(1, 10_000).optional(),
});
export const sampleListResponseSchema = z.object({ samples: z.array(sampleSummarySchema) });

/** POST /api/v1/devices/{id}/samples/request: upload kept samples for this many minutes. */
export const sampleUploadRequestSchema = z.object({
  minutes: z
    .number()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
});
export const sampleUploadResponseSchema = z.object({ deviceId: z.string(), uploadUntil: epochMsSchema });

/** POST /api/v1/devices/{id}/samples/capture: keep (and upload) inputs for a while, whatever the local policies say. */
export const sampleCaptureRequestSchema = z.object({
  minutes: z
    .number()
    .min(1)
    .max(7 * 24 * 60)
    .default(30),
  models: z.array(restIdSchema).min(1).max(16).optional(),
  everyN: z.number().int().min(1).max(100_000).default(1),
});
export type SampleCaptureRequest = z.input<typeof sampleCaptureRequestSchema>;
export const sampleCaptureResponseSchema = z.object({
  deviceId: z.string(),
  capture: sampleCaptureSchema,
  uploadUntil: epochMsSchema,
});
export const sampleCaptureStopResponseSchema = z.object({ deviceId: z.string(), stopped: z.boolean() });
