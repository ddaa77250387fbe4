/**
 * @module rest/telemetry
 * Synced predictions (GET /api/v1/telemetry) and the live error against reference values
 * (GET /api/v1/telemetry/error), with their query strings.
 */
import { z } from 'zod';
import { booleanTextSchema, epochMsSchema, integerText, restIdSchema, versionTextSchema } from './shared.js';

export const telemetryRowSchema = z
  .object({
    id: z.number().int(),
    deviceId: z.string(),
    stream: z.string(),
    seq: z.number().int(),
    ts: epochMsSchema,
    receivedAt: epochMsSchema,
    model: z.string(),
    version: z.number().int(),
    requestId: z.string().nullable(),
    output: z.array(z.number()),
    prediction: z.number().nullable(),
    latencyMs: z.number(),
    features: z.record(z.string(), z.number()),
    reference: z.number().nullable(),
    /** Made while the device was offline, forwarded after the outage. */
    historical: z.boolean(),
    /** Made by a shadow model beside the serving one; the device never answered with it. */
    shadow: z.boolean(),
  })
  .meta({ id: 'TelemetryRow' });
export type TelemetryRow = z.infer<typeof telemetryRowSchema>;

/** Live error of one model version against reference values (records with both a prediction and a reference). */
export const liveErrorSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    /** Whether these are the version's shadow records (it ran beside another version) or served ones. */
    shadow: z.boolean(),
    /** Records with a prediction and a reference. */
    n: z.number().int().describe('records with both a prediction and a reference'),
    /** Mean absolute error and root mean squared error, in the model's output unit; null when n = 0. */
    mae: z.number().nullable(),
    rmse: z.number().nullable(),
  })
  .meta({ id: 'LiveError' });
export type LiveError = z.infer<typeof liveErrorSchema>;

export const telemetryQuerySchema = z.object({
  device: restIdSchema.optional(),
  model: restIdSchema.optional(),
  version: versionTextSchema.optional(),
  afterId: integerText(0).optional().describe('only records with a larger id (page forwards)'),
  limit: integerText(1, 10_000).optional(),
  order: z.enum(['newest', 'oldest']).optional(),
  /** true: only shadow records (a candidate run beside the serving model); false: only served ones. */
  shadow: booleanTextSchema.optional().describe('only shadow (true) or only served (false) records'),
});
export type TelemetryQuery = z.output<typeof telemetryQuerySchema>;

export const liveErrorQuerySchema = z.object({
  model: restIdSchema,
  version: versionTextSchema.optional(),
  shadow: booleanTextSchema.optional(),
  device: restIdSchema.optional(),
  since: integerText(0).optional().describe('only records made after this time (ms since epoch)'),
});
export type LiveErrorQuery = z.output<typeof liveErrorQuerySchema>;

export const telemetryResponseSchema = z.object({ records: z.array(telemetryRowSchema) });
export const liveErrorResponseSchema = z.object({ errors: z.array(liveErrorSchema) });
