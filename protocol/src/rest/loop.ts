/**
 * @module rest/loop
 * The retraining loop over REST: a policy per model (what triggers a retraining, how its dataset
 * is built, which trainer and sweep, the gate, the rollout, the guards) and the loop runs, one
 * record per retraining from trigger to resolution with every step's times and outcome.
 *
 * Defaults (ARCHITECTURE.md, "The retraining loop"):
 *
 * | field | default | why |
 * | --- | --- | --- |
 * | triggers | one incident trigger on every rule | drift and live-error incidents are what the loop heals |
 * | dataset.devices | affected | the devices the breach is seen on (all, when the incident names none) |
 * | dataset.lookbackMs | 0 | recent data starts at the incident's onset |
 * | dataset.replayShare | 0.3 | the champion's training data makes up 30 % of the new set, so nothing is forgotten |
 * | dataset.minSamples | 600 | recent samples with a reference value before training |
 * | dataset.waitMs | 15 min | how long to wait (capturing) for them before the run fails |
 * | dataset.capture | every input, 10 min | opened on the source devices when samples are short |
 * | gate.minImprovement | 0.1 | challenger MAE ≤ 90 % of the champion's on the recent holdout |
 * | gate.originalTolerance | 0.1 | and ≤ 110 % of the champion's on the original holdout |
 * | gate.minHoldout | 30 | holdout items per side before a verdict |
 * | rollout.strategy | canary | |
 * | guards.cooldownMs | 30 min | after a run ends, before the next automatic one |
 * | guards.maxRunsPerDay | 6 | automatic runs per model per 24 h |
 * | settleMs | 2 min | data time the drift rule must stay clear on the new version before the incident resolves |
 */
import { z } from 'zod';
import { rolloutParametersSchema, rolloutTargetSchema } from './rollouts.js';
import { sweepSchema } from './training.js';
import { epochMsSchema, integerText, restIdSchema } from './shared.js';
import { gateComparisonSchema, loopRunTriggerSchema } from './loop-lineage.js';

export * from './loop-lineage.js';

const ms = (max: number) => z.number().int().min(0).max(max);
const DAY = 86_400_000;

/** What starts a loop run; a manual trigger (API, CLI, console) is always allowed. */
export const loopTriggerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('incident'),
      /** Rules whose incidents start a run; every rule when left out. */
      rules: z.array(z.string().min(1).max(128)).max(32).optional(),
      severities: z.array(z.enum(['info', 'warning', 'critical'])).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('schedule'),
      /** One run every this long (at least a minute). */
      everyMs: z
        .number()
        .int()
        .min(60_000)
        .max(30 * DAY),
    })
    .strict(),
  z
    .object({
      kind: z.literal('data'),
      /** New samples with a reference value since the last run (or the champion's registration). */
      minNewSamples: z.number().int().min(1).max(10_000_000),
    })
    .strict(),
]);
export type LoopTrigger = z.infer<typeof loopTriggerSchema>;

export const loopDatasetSpecSchema = z
  .object({
    /** affected: the incident's devices (all when it names none); all; or one group. */
    devices: z
      .union([z.literal('affected'), z.literal('all'), z.object({ group: restIdSchema }).strict()])
      .default('affected'),
    /** Recent data starts this long before the trigger's onset. */
    lookbackMs: ms(30 * DAY).default(0),
    /** Without an incident (schedule, data, manual): recent data is this last stretch. */
    windowMs: ms(30 * DAY)
      .min(60_000)
      .default(60 * 60_000),
    /** Share of the new dataset drawn from the champion's training data (0: none). */
    replayShare: z.number().min(0).max(0.9).default(0.3),
    /** Recent samples (with a reference value) needed before training. */
    minSamples: z.number().int().min(1).max(10_000_000).default(600),
    /** At most this many recent samples (a deterministic pick by hash). */
    maxSamples: z.number().int().min(1).max(10_000_000).optional(),
    /** How long to wait for minSamples before the run fails. */
    waitMs: ms(7 * DAY).default(15 * 60_000),
    /** Capture window opened on the source devices when samples are short (null: never). */
    capture: z
      .object({
        everyN: z.number().int().min(1).max(100_000).default(1),
        forMs: ms(7 * DAY)
          .min(1000)
          .default(10 * 60_000),
      })
      .strict()
      .nullable()
      .prefault({}),
  })
  .strict();

export const loopTrainingSpecSchema = z
  .object({
    trainer: restIdSchema.default('builtin'),
    /** Default: one run with the trainer's own defaults (a sweep needs runs, a grid or a base). */
    sweep: sweepSchema.default({ base: {} }),
    timeoutMs: z.number().int().min(1000).max(DAY).optional(),
  })
  .strict();

export const loopGateSpecSchema = z
  .object({
    /** Relative: the challenger's recent-holdout MAE must be ≤ (1 − minImprovement) × the champion's. */
    minImprovement: z.number().min(0).max(0.99).default(0.1),
    /** Relative: the challenger's original-holdout MAE must be ≤ (1 + originalTolerance) × the champion's. */
    originalTolerance: z.number().min(0).max(10).default(0.1),
    /** Holdout items needed on a side for its comparison to count. */
    minHoldout: z.number().int().min(1).max(1_000_000).default(30),
  })
  .strict();

export const loopRolloutSpecSchema = z
  .object({
    strategy: z.enum(['shadow', 'canary', 'staged', 'direct']).default('canary'),
    target: rolloutTargetSchema.default({ all: true }),
    parameters: rolloutParametersSchema.prefault({}),
    /**
     * shadow: the loop promotes the shadow once it has this many reference-joined records and
     * its live error is within the rollout's liveError.maxErrorRatio of the serving version's;
     * past timeoutMs without that, the shadow is aborted and the run fails.
     */
    shadow: z
      .object({
        minRecords: z.number().int().min(1).max(1_000_000).default(100),
        timeoutMs: ms(7 * DAY)
          .min(1000)
          .default(30 * 60_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const loopGuardsSchema = z
  .object({
    cooldownMs: ms(30 * DAY).default(30 * 60_000),
    maxRunsPerDay: z.number().int().min(1).max(1000).default(6),
  })
  .strict();

export const loopPolicySchema = z
  .object({
    model: restIdSchema,
    enabled: z.boolean().default(true),
    triggers: z
      .array(loopTriggerSchema)
      .max(8)
      .default([{ kind: 'incident' }]),
    dataset: loopDatasetSpecSchema.prefault({}),
    training: loopTrainingSpecSchema.prefault({}),
    gate: loopGateSpecSchema.prefault({}),
    rollout: loopRolloutSpecSchema.prefault({}),
    guards: loopGuardsSchema.prefault({}),
    /** Data time the triggering rule must stay clear on the new version before the incident resolves. */
    settleMs: ms(DAY).default(2 * 60_000),
  })
  .strict()
  .meta({ id: 'LoopPolicy' });
/** A policy as written (defaults may be left out). */
export type LoopPolicyInput = z.input<typeof loopPolicySchema>;
/** A policy with every default applied, as the server keeps it. */
export type LoopPolicy = z.output<typeof loopPolicySchema>;

export const loopPolicyViewSchema = z.object({
  policy: loopPolicySchema,
  updatedAt: epochMsSchema,
  updatedBy: z.string(),
});
export type LoopPolicyView = z.infer<typeof loopPolicyViewSchema>;

export const LOOP_STEP_NAMES = ['trigger', 'data', 'train', 'gate', 'register', 'rollout', 'resolve'] as const;
export type LoopStepName = (typeof LOOP_STEP_NAMES)[number];
export const LOOP_STEP_STATUSES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped'] as const;
export type LoopStepStatus = (typeof LOOP_STEP_STATUSES)[number];

/**
 * running: between steps or in one (`step` says which). succeeded: the version is active
 * everywhere and the triggering rule cleared. rejected: the gate refused the challenger.
 * rolled-back: the rollout's gates rolled the new version back. failed: a step could not finish
 * (the reason says why). cancelled: an operator stopped it.
 */
export const LOOP_RUN_STATES = ['running', 'succeeded', 'rejected', 'rolled-back', 'failed', 'cancelled'] as const;
export type LoopRunState = (typeof LOOP_RUN_STATES)[number];

export const loopStepSchema = z.object({
  name: z.enum(LOOP_STEP_NAMES),
  status: z.enum(LOOP_STEP_STATUSES),
  startedAt: epochMsSchema.nullable(),
  finishedAt: epochMsSchema.nullable(),
  /** One sentence: what happened, or why it failed. */
  outcome: z.string().nullable(),
  /** The step's ids and numbers (dataset id, job id, rollout id, counts…). */
  detail: z.record(z.string(), z.unknown()),
});
export type LoopStep = z.infer<typeof loopStepSchema>;

export const loopRunSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    state: z.enum(LOOP_RUN_STATES),
    /** The step running now, or the last one (finished runs). */
    step: z.enum(LOOP_STEP_NAMES),
    trigger: loopRunTriggerSchema,
    /** The policy as it was when the run started. */
    policy: loopPolicySchema,
    /** The version serving when the run started (null: none serves yet). */
    champion: z.number().int().nullable(),
    datasetId: z.string().nullable(),
    trainingJobId: z.string().nullable(),
    trainingRunId: z.string().nullable(),
    gate: gateComparisonSchema.nullable(),
    /** The version the accepted challenger was registered as. */
    version: z.number().int().nullable(),
    rolloutId: z.string().nullable(),
    steps: z.array(loopStepSchema),
    /** Why the run ended as it did (null while running, or when it succeeded). */
    reason: z.string().nullable(),
    createdAt: epochMsSchema,
    updatedAt: epochMsSchema,
    finishedAt: epochMsSchema.nullable(),
  })
  .meta({ id: 'LoopRun' });
export type LoopRun = z.infer<typeof loopRunSchema>;

export const loopPolicyListResponseSchema = z.object({ policies: z.array(loopPolicyViewSchema) });
export const loopPolicyResponseSchema = z.object({ policy: loopPolicyViewSchema });
export const loopPolicyPathSchema = z.object({ model: restIdSchema });

export const loopRunListQuerySchema = z.object({
  model: restIdSchema.optional(),
  state: z.enum(LOOP_RUN_STATES).optional(),
  /** Runs created before this (the `next` of the previous page). */
  before: integerText(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: integerText(1, 500).optional(),
});
export const loopRunListResponseSchema = z.object({
  runs: z.array(loopRunSchema),
  /** Pass as `before` for the next page; null: this was the last. */
  next: z.number().int().nullable(),
});
export const loopRunResponseSchema = z.object({ run: loopRunSchema });
export const loopRunPathSchema = z.object({
  id: z.string().regex(/^lr-[0-9a-f]{10}$/, 'must be a loop run id: lr- and 10 hex digits'),
});

/** POST /api/v1/loop/policies/{model}/trigger: retrain now. */
export const loopTriggerRequestSchema = z
  .object({
    reason: z.string().min(1).max(500).optional(),
    /** Start even inside the cool-down or over the daily budget (still one run per model at a time). */
    force: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'LoopTriggerRequest' });
export const loopCancelRequestSchema = z.object({ reason: z.string().min(1).max(500).optional() }).strict();
