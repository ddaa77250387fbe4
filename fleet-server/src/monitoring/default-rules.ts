/**
 * @module monitoring/default-rules
 * The rule set every model gets without anyone writing it. It is evaluated implicitly (no
 * model on the rules, so every model's versions): nothing is copied into the store when a model
 * gets its first version, so improving a default reaches existing models, and the set cannot
 * drift apart per model. An operator overrides a default by storing a rule of the same name
 * (`edgeloop rules disable default.output-drift` stores a disabled copy; `rules remove` of it
 * returns to the default). `monitoring.defaultRules: false` in the config turns the set off.
 *
 * Thresholds follow the well-known tools (REFERENCE §4, monitoring/drift-defaults.ts):
 * - output drift: PSI of the prediction distribution against the training baseline, fires above
 *   0.25 (the conventional "significant shift"), clears below 0.1 (the "no shift" bound), so a
 *   value between the two never flaps.
 * - feature drift: the largest PSI of any monitoring feature, with the same bounds as output
 *   drift. Not the share of features whose per-feature test says drifted (Evidently's dataset
 *   drift, monitoring/drift-defaults.ts): camera frames are correlated (a parking run keeps its
 *   light), so a 2-minute window holds a few dozen runs, not thousands of independent frames, and
 *   Wasserstein at 0.1 of a σ flagged four of seven stable features on the simulator's baseline
 *   world (the reference's narrow features sit in 2-3 of their 0.05-wide bins). Their PSI stayed
 *   ≤ 0.06 there, while a floor changing colour puts values in bins the baseline never had.
 * - label shift: PSI of the sensor reference values, the same bounds as output drift; and label
 *   range: the share of reference values in bins the training labels never reached above 3 %
 *   (clears at 1 %). A range that widens (0–250 mm → 0–350 mm) shows there first: PSI averages
 *   the new values with the rest, while the sensor's outliers (0.2–0.5 % of readings) stay well
 *   under 3 %.
 * - live error: live MAE over the version's validation MAE (training metrics `validation_mae`),
 *   fires above 1.5×, clears at 1.2×. No validation MAE on the version: no value, no verdict.
 *
 * Each judges the version fleet-wide over a 2-minute window, needs at least 500 values and a
 * 15-second for-duration (three 5-second evaluations in a row, so one noisy evaluation never
 * fires). Why 2 minutes and not 5: a window dilutes a fresh shift by its length — 30 s after the
 * onset a 5-minute window is one tenth shifted, a 2-minute one a quarter — and in tests on the
 * real catalogue a 2σ label shift fired after 75 s with 5 minutes, 45 s with 2 (covariate 30 → 20 s,
 * concept 50 → 30 s). Fleet rollups are minute windows, and a window counts whole when any part
 * overlaps, so a 2-minute rule really reads 2–3 minutes. It still holds ~4,800 values at 10
 * devices × 4 frames/s, where PSI on ~32 bins of unchanged data is about bins/n ≈ 0.007, far
 * below 0.25; 500 values (≈ 0.06) is the least any verdict is given on. 30 simulated minutes of
 * stable data raise nothing (default-rules.test.ts).
 */
import { ruleSchema, type RuleInput } from '@edgeloop/protocol';
import type { RuleRecord } from '../store/fleet-store.js';

const common = { scope: 'version', windowMs: 120_000, forMs: 15_000, minSamples: 500 } as const;

export const DEFAULT_RULE_INPUTS: readonly RuleInput[] = [
  {
    ...common,
    name: 'default.output-drift',
    metric: 'output.psi',
    condition: { op: 'above', threshold: 0.25, clear: 0.1 },
    severity: 'warning',
    description: 'Prediction distribution drifted from the training baseline (PSI > 0.25)',
  },
  {
    ...common,
    name: 'default.feature-drift',
    metric: 'features.max.psi',
    condition: { op: 'above', threshold: 0.25, clear: 0.1 },
    severity: 'warning',
    description: 'An input feature drifted from the training baseline (largest feature PSI > 0.25)',
  },
  {
    ...common,
    name: 'default.label-shift',
    metric: 'reference.psi',
    condition: { op: 'above', threshold: 0.25, clear: 0.1 },
    severity: 'warning',
    description: 'Sensor reference values drifted from the training labels (PSI > 0.25)',
  },
  {
    ...common,
    name: 'default.label-range',
    metric: 'reference.out_of_range',
    condition: { op: 'above', threshold: 0.03, clear: 0.01 },
    severity: 'warning',
    description: 'More than 3 % of sensor reference values outside the range of the training labels',
  },
  {
    ...common,
    name: 'default.live-error',
    metric: 'error.mae_ratio',
    condition: { op: 'above', threshold: 1.5, clear: 1.2 },
    minSamples: 200,
    severity: 'critical',
    description: 'Live MAE against sensor reference values above 1.5× the validation MAE',
  },
];

/** The default set as rule records (source "default"), validated like any rule. */
export function defaultRules(): RuleRecord[] {
  return DEFAULT_RULE_INPUTS.map((input) => ({
    rule: ruleSchema.parse(input),
    actions: [{ type: 'log' }],
    source: 'default',
    createdAt: 0,
    updatedAt: 0,
  }));
}
