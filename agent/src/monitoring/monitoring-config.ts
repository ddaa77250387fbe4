/**
 * @module monitoring/monitoring-config
 * The agent config's `monitoring` block: on-device detection while the fleet has not sent its
 * own monitoring settings (desired state `monitoring`, which then wins), plus what only the
 * device decides: how often rules are judged, how many minutes of windows it keeps, and how hard
 * it samples inputs while a local alert fires.
 */
import { z } from 'zod';
import { DEFAULT_DEVICE_RULES, deviceMonitoringSchema, MINUTE_MS } from '@edgeloop/protocol';

export const monitoringConfigSchema = z
  .object({
    /** Off: no local windows, rules, detector, alerts or summaries (the predict path is untouched). */
    enabled: z.boolean().default(true),
    /** Device rules are judged this often (wall clock), on device time. */
    evaluateEveryMs: z.number().int().min(100).max(MINUTE_MS).default(5000),
    /** Minutes of per-minute local windows kept in memory (the longest rule window it can judge). */
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(60),
    /** While a local alert fires, and this long after, keep every Nth input (when sampling is on). */
    captureEveryN: z.number().int().min(1).max(100_000).default(1),
    captureForMs: z
      .number()
      .int()
      .min(0)
      .default(10 * MINUTE_MS),
    /** Rules, bandwidth mode, detector and fallback until the fleet sends its own (desired state). */
    device: deviceMonitoringSchema.prefault({}),
  })
  .prefault({});
export type MonitoringConfig = z.infer<typeof monitoringConfigSchema>;

/** The device rules in force: the block's own, else the protocol defaults. */
export function deviceRulesOf(m: MonitoringConfig['device']) {
  return m.rules ?? DEFAULT_DEVICE_RULES;
}
