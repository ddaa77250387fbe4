/**
 * @module monitoring/rules
 * A monitoring rule and the state machine that decides when it fires, shared by the fleet
 * server (rules over rollups of any scope) and the agent (its device rules, on its own windows
 * while it may be offline), so both mean the same by "firing".
 *
 * A rule compares one metric (monitoring/metric-catalogue.ts names them) over a trailing window
 * with a threshold or a band. It must breach for `forMs` before it fires (pending meanwhile), is
 * judged only on windows with at least `minSamples` values (fewer: no verdict, the state holds),
 * and once firing clears only when the value is back past the hysteresis bound, so a value
 * hovering at the threshold does not flap.
 *
 * The origin's rule, "the 5-minute mean of saturation outside [40, 60] % for more than a
 * minute", reads: metric `feature.saturation.mean`, condition outside [0.40, 0.60], windowMs
 * 300000, forMs 60000.
 */
import { z } from 'zod';
import { metricNameSchema } from './metric-catalogue.js';

export const RULE_SCOPES = ['device', 'group', 'version', 'fleet', 'rollout-arm'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * above: value > threshold; below: value < threshold; outside: value < low or > high;
 * `clear` is where a firing rule resolves (default: the threshold/band itself): for above a
 * value ≤ clear, for below ≥ clear, for outside a band [clearLow, clearHigh] inside which it clears.
 */
export const conditionSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('above'), threshold: z.number(), clear: z.number().optional() }),
  z.object({ op: z.literal('below'), threshold: z.number(), clear: z.number().optional() }),
  z.object({
    op: z.literal('outside'),
    low: z.number(),
    high: z.number(),
    clearLow: z.number().optional(),
    clearHigh: z.number().optional(),
  }),
]);
export type RuleCondition = z.infer<typeof conditionSchema>;

/**
 * merged: the metric of the whole window merged into one rollup (the default: exact, and what
 * distribution metrics need); mean / max / min: of the metric per minute step over the window.
 */
export const AGGREGATIONS = ['merged', 'mean', 'max', 'min'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'use letters, digits and _ . : -');

export const ruleSchema = z
  .object({
    name,
    /** A metric name (monitoring/metric-catalogue.ts), e.g. "feature.saturation.mean" or "error.mae_ratio". */
    metric: metricNameSchema,
    /** The model whose versions the rule watches; absent = every model. */
    model: z.string().min(1).max(64).optional(),
    /** One version only; absent = every version (each judged on its own). */
    version: z.number().int().min(1).optional(),
    /** What one judgement covers: each device, each group, each version fleet-wide, each rollout arm, the fleet. */
    scope: z.enum(RULE_SCOPES),
    /** scope group: only this group (absent = every group). */
    group: z.string().min(1).max(64).optional(),
    condition: conditionSchema,
    /** Trailing window the metric is computed over. */
    windowMs: z
      .number()
      .int()
      .min(1000)
      .max(30 * 86_400_000),
    aggregation: z.enum(AGGREGATIONS).default('merged'),
    /** How long the condition must hold before the rule fires (0 = at once). */
    forMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .default(0),
    /** Fewer values in the window than this: no verdict. */
    minSamples: z.number().int().min(1).default(100),
    severity: z.enum(SEVERITIES).default('warning'),
    /** Also evaluated on devices, by the agent, on its own windows (scope must be device). */
    onDevice: z.boolean().default(false),
    enabled: z.boolean().default(true),
    description: z.string().max(1024).optional(),
  })
  .strict()
  .refine((r) => !r.onDevice || r.scope === 'device', {
    message: 'only a rule with scope "device" can run on devices',
    path: ['onDevice'],
  })
  .refine((r) => r.condition.op !== 'outside' || r.condition.low < r.condition.high, {
    message: 'low must be below high',
    path: ['condition'],
  });
export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

/** inactive → pending → firing → (resolved, which is inactive again with a history entry). */
export type RulePhase = 'inactive' | 'pending' | 'firing';

export interface RuleState {
  phase: RulePhase;
  /** When the current breach began (pending or firing). */
  since: number | null;
  /** When it fired (firing only). */
  firedAt: number | null;
  /** The last value judged, and its sample count. */
  value: number | null;
  samples: number;
}

export const INITIAL_RULE_STATE: RuleState = { phase: 'inactive', since: null, firedAt: null, value: null, samples: 0 };

export interface RuleReading {
  /** null: the metric has no value for this window (e.g. no reference values). */
  value: number | null;
  samples: number;
  /** The time the window ends at (device/data time). */
  ts: number;
}

export type RuleTransition = 'pending' | 'firing' | 'resolved' | 'cancelled';

export interface RuleStep {
  state: RuleState;
  /** Set when this reading changed the phase. */
  transition?: RuleTransition;
}

/** Whether `value` breaches the condition. */
export function breaches(c: RuleCondition, value: number): boolean {
  switch (c.op) {
    case 'above':
      return value > c.threshold;
    case 'below':
      return value < c.threshold;
    case 'outside':
      return value < c.low || value > c.high;
  }
}

/** Whether `value` is far enough back for a firing rule to resolve (hysteresis). */
export function clears(c: RuleCondition, value: number): boolean {
  switch (c.op) {
    case 'above':
      return value <= (c.clear ?? c.threshold);
    case 'below':
      return value >= (c.clear ?? c.threshold);
    case 'outside':
      return value >= (c.clearLow ?? c.low) && value <= (c.clearHigh ?? c.high);
  }
}

/** The threshold a breach is reported against (the nearer band edge for outside). */
export function thresholdOf(c: RuleCondition, value: number | null): number {
  if (c.op !== 'outside') return c.threshold;
  return value !== null && value > c.high ? c.high : c.low;
}

/**
 * One judgement. Too few samples or no value: nothing changes (a quiet device neither fires nor
 * resolves a rule). The phase only moves forward in time: a reading older than the state's
 * `since` is ignored.
 */
export function stepRule(
  rule: Pick<Rule, 'condition' | 'forMs' | 'minSamples'>,
  state: RuleState,
  r: RuleReading,
): RuleStep {
  if (r.value === null || r.samples < rule.minSamples) return { state };
  const judged = { ...state, value: r.value, samples: r.samples };
  if (state.since !== null && r.ts < state.since) return { state };
  switch (state.phase) {
    case 'inactive':
      if (!breaches(rule.condition, r.value)) return { state: judged };
      if (rule.forMs === 0)
        return { state: { ...judged, phase: 'firing', since: r.ts, firedAt: r.ts }, transition: 'firing' };
      return { state: { ...judged, phase: 'pending', since: r.ts }, transition: 'pending' };
    case 'pending':
      if (!breaches(rule.condition, r.value))
        return { state: { ...judged, phase: 'inactive', since: null }, transition: 'cancelled' };
      if (r.ts - state.since! >= rule.forMs)
        return { state: { ...judged, phase: 'firing', firedAt: r.ts }, transition: 'firing' };
      return { state: judged };
    case 'firing':
      if (clears(rule.condition, r.value))
        return { state: { ...judged, phase: 'inactive', since: null, firedAt: null }, transition: 'resolved' };
      return { state: judged };
  }
}
