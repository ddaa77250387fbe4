/**
 * @module monitoring/device-monitoring
 * What the fleet tells an agent about monitoring on the device, inside its signed desired state:
 * the device rules it evaluates on its own windows (also while offline), whether it sends edge
 * summaries instead of every record (bandwidth mode), the label-free detector's settings and
 * what it does while an alert fires. Until the fleet sends a block, the agent uses its local
 * config, whose defaults are DEFAULT_DEVICE_RULES and PAGE_HINKLEY_DEFAULTS.
 */
import { z } from 'zod';
import { MINUTE_MS, WINDOW_MS } from './windows.js';
import { ruleSchema, type Rule } from './rules.js';

/**
 * Page-Hinkley on each record's distance from the training baseline (mean over monitoring
 * features of |x − μ| / σ), as the TinyLCM prototype runs it on a Pi Zero. The distance of a
 * record from its own training distribution averages ~0.8 (|z| of a normal variable), so:
 * - delta 0.5: the allowance per record (a CUSUM's slack). Consecutive camera frames are
 *   correlated: a whole parking run keeps its light, and on the simulator's stable frames the
 *   mean distance over 30 s (120 frames) ranged 0.50–1.16 around an overall 0.72. An allowance
 *   of 0.5 lets no such run accumulate; 0.1 false-alarmed 1–5 times per 30 minutes on them;
 * - lambda 40: alarm when the cumulative excess passes 40 σ-units: ~45 records (11 s at 4
 *   frames/s) of a beige-to-green floor change, which moves the distance from 0.72 to ~2.4;
 * - minInstances 30: no verdict before the running mean has settled;
 * - alpha 1: no fading of the cumulative sum. River fades it (0.9999) but keeps the minimum
 *   unfaded, so the statistic's noise grows to ~σ/√(2(1−α)); on autocorrelated camera frames
 *   (ρ ≈ 0.9) that alone crossed lambda within 30 stable minutes at α = 0.999. Unfaded, the
 *   slack delta keeps the statistic a reflected walk near 0 on stable data;
 * - cooldownMs 60 s: after an alarm no new one, and no resolution, for a minute;
 * - resolveMargin 0.3: a firing alarm resolves once the distance's moving average is back within
 *   0.3 of its level before the alarm.
 */
export const PAGE_HINKLEY_DEFAULTS = {
  delta: 0.5,
  lambda: 40,
  minInstances: 30,
  alpha: 1,
  cooldownMs: MINUTE_MS,
  resolveMargin: 0.3,
} as const;

export const pageHinkleySettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    delta: z.number().min(0).default(PAGE_HINKLEY_DEFAULTS.delta),
    lambda: z.number().positive().default(PAGE_HINKLEY_DEFAULTS.lambda),
    minInstances: z.number().int().min(1).default(PAGE_HINKLEY_DEFAULTS.minInstances),
    alpha: z.number().gt(0).max(1).default(PAGE_HINKLEY_DEFAULTS.alpha),
    cooldownMs: z.number().int().min(0).default(PAGE_HINKLEY_DEFAULTS.cooldownMs),
    resolveMargin: z.number().min(0).default(PAGE_HINKLEY_DEFAULTS.resolveMargin),
  })
  .strict();
export type PageHinkleySettings = z.infer<typeof pageHinkleySettingsSchema>;

/**
 * The default device rules, for every model: the largest drift of any monitoring feature from the
 * training baseline over the last 2 minutes (features.max.psi) and the live error against
 * reference values relative to the validation error. The feature rule fires above a PSI of 3,
 * held for 15 s. One device's 2-minute window is a few parking runs, each keeping its light, so
 * it covers only part of the training range: on the simulator's stable frames a car's largest
 * feature PSI reached 1.2-1.8 (30 minutes, two cars; a lower bound such as 0.5 fired on 7 of 10
 * cars within 80 s), while a floor turning green passes 3 once ~40 % of the window shows it
 * (~45 s). The label-free Page-Hinkley detector (PAGE_HINKLEY_DEFAULTS) is the device's fast
 * covariate alarm (~11 s); this rule is the slower, per-feature confirmation.
 * Both rules need the version's baseline (features) or validation MAE (error) in its manifest:
 * without, the metric has no value and the rule no verdict.
 */
export const DEFAULT_DEVICE_RULES: readonly Rule[] = [
  ruleSchema.parse({
    name: 'device-feature-drift',
    metric: 'features.max.psi',
    scope: 'device',
    onDevice: true,
    condition: { op: 'above', threshold: 3, clear: 1 },
    windowMs: 2 * MINUTE_MS,
    forMs: 15_000,
    // A nearly full window (4 frames/s): a shorter one holds one or two runs, and PSI against the
    // whole training range then looks like drift.
    minSamples: 400,
    description: 'a monitoring feature drifted far from the training baseline (PSI > 3)',
  }),
  ruleSchema.parse({
    name: 'device-live-error',
    metric: 'error.mae_ratio',
    scope: 'device',
    onDevice: true,
    condition: { op: 'above', threshold: 2, clear: 1.5 },
    windowMs: 5 * MINUTE_MS,
    forMs: MINUTE_MS,
    minSamples: 50,
    description: 'live MAE against reference values is more than twice the validation MAE',
  }),
];

/**
 * Fallback while a local alert fires: none, or flag the answers (`drift: true`), so the
 * application can distrust them. Serving a previous version instead is not offered: an agent
 * keeps one model per slot, and the version that drifted is usually the newest, trained on the
 * most recent data; a fleet rollback is the fleet's decision.
 */
export const FALLBACK_MODES = ['none', 'flag'] as const;
export type FallbackMode = (typeof FALLBACK_MODES)[number];

export const deviceMonitoringSchema = z
  .object({
    /** Device rules (scope device, onDevice); replaces the defaults when given. */
    rules: z
      .array(ruleSchema)
      .max(64)
      .refine((rules) => rules.every((r) => r.onDevice), 'device rules must have onDevice: true')
      .optional(),
    /** Bandwidth mode: per-window edge summaries instead of every telemetry record. */
    summaries: z.boolean().default(false),
    /** Window of an edge summary (≥ 1 minute, divides a day); default the device window of the fleet's rollups. */
    summaryWindowMs: z
      .number()
      .int()
      .min(MINUTE_MS)
      .max(WINDOW_MS.device)
      .refine((ms) => 86_400_000 % ms === 0, 'must divide a day (e.g. 60000, 300000, 600000)')
      .default(WINDOW_MS.device),
    pageHinkley: pageHinkleySettingsSchema.prefault({}),
    fallback: z.enum(FALLBACK_MODES).default('flag'),
  })
  .strict();
export type DeviceMonitoring = z.infer<typeof deviceMonitoringSchema>;
export type DeviceMonitoringInput = z.input<typeof deviceMonitoringSchema>;
