/**
 * @module rest/loop-lineage
 * The parts of a loop run the lineage walk shows beside it (the gate's comparison, the trigger),
 * apart from rest/loop.ts so that the training schemas can name them without a cycle.
 */
import { z } from 'zod';
import { epochMsSchema } from './shared.js';

const holdoutComparisonSchema = z.object({
  /** Items of this holdout both models were run on. */
  count: z.number().int(),
  champion: z.object({ mae: z.number(), rmse: z.number() }),
  challenger: z.object({ mae: z.number(), rmse: z.number() }),
  /** challenger MAE ÷ champion MAE. */
  ratio: z.number(),
  /** Whether this side's condition held (null: too few items to judge, so it did not count). */
  passed: z.boolean().nullable(),
});
export type HoldoutComparison = z.infer<typeof holdoutComparisonSchema>;

/** The gate's comparison of the challenger with the serving champion, with its verdict. */
export const gateComparisonSchema = z
  .object({
    champion: z.object({ model: z.string(), version: z.number().int() }),
    challenger: z.object({ trainingRunId: z.string(), modelSha256: z.string() }),
    /** Holdout drawn from recent data (the drifted window): where the challenger must be better. */
    recent: holdoutComparisonSchema.nullable(),
    /** The champion's own training holdout: where the challenger must not be much worse. */
    original: holdoutComparisonSchema.nullable(),
    minImprovement: z.number(),
    originalTolerance: z.number(),
    verdict: z.enum(['accepted', 'rejected']),
    /** Why, in sentences (every failed condition, or what held). */
    reasons: z.array(z.string()),
    evaluatedAt: epochMsSchema,
  })
  .meta({ id: 'GateComparison' });
export type GateComparison = z.infer<typeof gateComparisonSchema>;

export const loopRunTriggerSchema = z.object({
  kind: z.enum(['incident', 'schedule', 'data', 'manual']),
  /** Who started it: `system` for automatic triggers, else the operator's token name. */
  actor: z.string(),
  at: epochMsSchema,
  incidentId: z.string().nullable(),
  rule: z.string().nullable(),
  /** The data time the drift began (the incident's first member), when there is one. */
  onset: epochMsSchema.nullable(),
  /** The devices the incident named. */
  devices: z.array(z.string()),
  reason: z.string().nullable(),
});
export type LoopRunTrigger = z.infer<typeof loopRunTriggerSchema>;

/** What the lineage walk shows of the loop run that made a version. */
export const loopLineageSchema = z.object({
  runId: z.string(),
  state: z.string(),
  trigger: loopRunTriggerSchema,
  /** The triggering incident as it is now (null: the run had none, or it is gone). */
  incident: z
    .object({
      id: z.string(),
      rule: z.string(),
      state: z.string(),
      openedAt: epochMsSchema,
      resolvedAt: epochMsSchema.nullable(),
      devices: z.array(z.string()),
    })
    .nullable(),
  gate: gateComparisonSchema.nullable(),
  /** Every run of the loop's training job (the sweep), with its parameters and metrics. */
  runs: z.array(
    z.object({
      id: z.string(),
      params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
      status: z.string(),
      metrics: z.record(z.string(), z.unknown()).nullable(),
      best: z.boolean(),
    }),
  ),
});
export type LoopLineage = z.infer<typeof loopLineageSchema>;
