/**
 * @module sampling/sampling-config
 * Which raw inputs the agent keeps for retraining, under what byte budget, and when it uploads
 * them. Off unless a policy is set: raw inputs may be sensitive (camera images).
 */
import { z } from 'zod';

export const samplingConfigSchema = z
  .object({
    /** Keep every Nth input per model; 0 = off. */
    everyN: z.number().int().min(0).default(0),
    /** Keep inputs whose |prediction − reference| exceeds this (needs a reference binding); unset = off. */
    largeErrorAbove: z.number().min(0).optional(),
    /** Keep inputs whose confidence (argmax models: top output value) is below this; unset = off. */
    lowConfidenceBelow: z.number().optional(),
    /** Disk budget for kept inputs; oldest go first. */
    maxBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(64 * 1024 * 1024),
    /** with-sync: upload whenever connected; on-request: only while the fleet asks (edgeloop samples request). */
    upload: z.enum(['with-sync', 'on-request']).default('on-request'),
    /**
     * Honour the fleet's capture windows (edgeloop samples capture; the drift monitor): keep
     * inputs while one is open, whatever the policies above say. Off by default, like every
     * policy here, because raw inputs may be sensitive.
     */
    captureOnRequest: z.boolean().default(false),
    /** How long an input waits in memory for its reference value (large-error policy). */
    referenceWaitMs: z.number().int().min(100).default(120_000),
  })
  .prefault({});
export type SamplingConfig = z.infer<typeof samplingConfigSchema>;

export function samplingEnabled(c: SamplingConfig): boolean {
  return c.everyN > 0 || c.largeErrorAbove !== undefined || c.lowConfidenceBelow !== undefined || c.captureOnRequest;
}
