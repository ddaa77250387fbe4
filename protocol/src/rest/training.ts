/**
 * @module rest/training
 * Training jobs, their runs, and the lineage walk over REST.
 *
 * A job trains one dataset snapshot with one server-side trainer over a sweep of parameter sets.
 * The sweep file (`edgeloop train --params sweep.json`) is the `sweep` field as written:
 *
 *   { "seed": 1, "runs": [ { "learningRate": 0.01 }, { "learningRate": 0.003, "hidden": 32 } ] }
 *   { "seed": 1, "base": { "epochs": 40 }, "grid": { "learningRate": [0.01, 0.003], "hidden": [16, 32] } }
 *
 * `runs` lists parameter sets; `grid` adds every combination of its values (in key order, the
 * last key varying fastest) after them; `base` is merged under each. A run's seed is its own
 * `seed`, else the sweep's, else 1. `parallel` (default 1) bounds how many runs train at once;
 * the best run is picked by `metric` (default validation.mae) towards `goal` (default min).
 *
 * Trainers are named, never given as commands: the server maps names to commands it was
 * configured with, so a REST body cannot make it run anything else.
 */
import { z } from 'zod';
import { trainerMetricsSchema } from '../trainer-contract.js';
import { loopLineageSchema } from './loop-lineage.js';
import { modelVersionSummarySchema } from './models.js';
import { epochMsSchema, integerText, restIdSchema } from './shared.js';

export const TRAINING_RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TrainingRunStatus = (typeof TRAINING_RUN_STATUSES)[number];
/** A job is finished when every run is; it succeeded when at least one run did. */
export const TRAINING_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TrainingJobStatus = (typeof TRAINING_JOB_STATUSES)[number];

/** Runs one sweep may hold (a grid multiplies quickly). */
export const MAX_SWEEP_RUNS = 64;
/** Runs that may train at once in one job. */
export const MAX_SWEEP_PARALLEL = 8;

const paramValueSchema = z.union([z.number().finite(), z.boolean(), z.string().max(256)]);
const paramSetSchema = z
  .record(z.string().min(1).max(64), paramValueSchema)
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 parameters');

/** `validation.mae`, `holdout.rmse`, `train.mae`, or a trainer's own `extra.<name>`. */
export const sweepMetricSchema = z
  .string()
  .regex(
    /^((validation|holdout|train)\.(mae|rmse)|extra\.[A-Za-z0-9_.-]{1,64})$/,
    'must be validation.mae, validation.rmse, holdout.mae, holdout.rmse, train.mae, train.rmse or extra.<name>',
  );

export const sweepSchema = z
  .object({
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    parallel: z.number().int().min(1).max(MAX_SWEEP_PARALLEL).optional(),
    metric: sweepMetricSchema.optional(),
    goal: z.enum(['min', 'max']).optional(),
    base: paramSetSchema.optional(),
    runs: z.array(paramSetSchema).min(1).max(MAX_SWEEP_RUNS).optional(),
    grid: z
      .record(z.string().min(1).max(64), z.array(paramValueSchema).min(1).max(MAX_SWEEP_RUNS))
      .refine((g) => Object.keys(g).length >= 1, 'a grid needs at least one parameter')
      .optional(),
  })
  .strict()
  .refine((s) => s.runs !== undefined || s.grid !== undefined || s.base !== undefined, {
    message: 'give "runs" (a list of parameter sets), "grid" (parameter → values) or at least "base"',
  })
  .meta({ id: 'Sweep' });
export type Sweep = z.infer<typeof sweepSchema>;

const datasetIdSchema = z.string().regex(/^ds-[0-9a-f]{24}$/, 'must be a dataset id: ds- and 24 hex digits');

/** What happens to the best run when the job ends: registered as the next version of `model`. */
export const registerRunRequestSchema = z
  .object({
    model: restIdSchema,
    /** An earlier version of the same model this one derives from. */
    parent: z.number().int().min(1).optional(),
    trigger: z.string().min(1).max(64).optional(),
    /** Set by the retraining loop: its run, and the incident that started it. */
    loopRunId: z.string().min(1).max(64).optional(),
    incidentId: z.string().min(1).max(64).optional(),
  })
  .strict()
  .meta({ id: 'RegisterRun' });
export type RegisterRunRequest = z.infer<typeof registerRunRequestSchema>;

/** POST /api/v1/training/jobs. */
export const trainingJobRequestSchema = z
  .object({
    dataset: datasetIdSchema,
    /** A trainer name the server is configured with; "builtin" is the reference-family trainer. */
    trainer: restIdSchema.optional(),
    sweep: sweepSchema,
    /** Per run; the server's default applies when absent. */
    timeoutMs: z.number().int().min(1000).max(86_400_000).optional(),
    /** Register the best run when the job succeeds. */
    register: registerRunRequestSchema.optional(),
  })
  .strict()
  .meta({ id: 'TrainingJobRequest' });
export type TrainingJobRequest = z.infer<typeof trainingJobRequestSchema>;

/** Points a run's learning curve keeps at most; a longer run keeps every n-th epoch (and its last). */
export const MAX_CURVE_POINTS = 500;

/** The newest progress a run's trainer printed. */
export const runProgressSchema = z
  .object({
    epoch: z.number().int().optional(),
    epochs: z.number().int().optional(),
    loss: z.number().optional(),
    valMae: z.number().optional(),
    phase: z.string().optional(),
    /**
     * Every epoch's loss and validation MAE so far, oldest first: the run's learning curve (a run
     * of more epochs than MAX_CURVE_POINTS keeps every n-th, evenly spaced).
     */
    curve: z.array(z.object({ epoch: z.number().int(), loss: z.number(), valMae: z.number().optional() })).optional(),
  })
  .meta({ id: 'TrainingRunProgress' });
export type RunProgress = z.infer<typeof runProgressSchema>;

export const trainingRunSummarySchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    /** Its place in the sweep, from 0. */
    position: z.number().int(),
    datasetId: z.string(),
    trainer: z.string(),
    /** The parameters as the trainer got them (defaults filled in, seed included). */
    params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
    seed: z.number().int(),
    status: z.enum(TRAINING_RUN_STATUSES),
    metrics: trainerMetricsSchema.nullable(),
    error: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    startedAt: epochMsSchema.nullable(),
    finishedAt: epochMsSchema.nullable(),
    durationMs: z.number().nullable(),
    /** sha256 of model.onnx in the artifact store. */
    modelSha256: z.string().nullable(),
    hasBaseline: z.boolean(),
    progress: runProgressSchema.nullable(),
  })
  .meta({ id: 'TrainingRun' });
export type TrainingRunSummary = z.infer<typeof trainingRunSummarySchema>;

export const trainingJobSummarySchema = z
  .object({
    id: z.string(),
    datasetId: z.string(),
    trainer: z.string(),
    status: z.enum(TRAINING_JOB_STATUSES),
    metric: z.string(),
    goal: z.enum(['min', 'max']),
    parallel: z.number().int(),
    timeoutMs: z.number().int(),
    createdAt: epochMsSchema,
    createdBy: z.string(),
    startedAt: epochMsSchema.nullable(),
    finishedAt: epochMsSchema.nullable(),
    bestRunId: z.string().nullable(),
    error: z.string().nullable(),
    register: registerRunRequestSchema.nullable(),
    /** The version the best run became, when the job registered one. */
    registered: z.object({ name: z.string(), version: z.number().int() }).nullable(),
    /** Runs per status. */
    counts: z.record(z.string(), z.number().int()),
  })
  .meta({ id: 'TrainingJob' });
export type TrainingJobSummary = z.infer<typeof trainingJobSummarySchema>;

export const trainingJobResponseSchema = z.object({ job: trainingJobSummarySchema });
export const trainingJobDetailSchema = z
  .object({ job: trainingJobSummarySchema, runs: z.array(trainingRunSummarySchema) })
  .meta({ id: 'TrainingJobDetail' });
export type TrainingJobDetail = z.infer<typeof trainingJobDetailSchema>;
export const trainingJobListResponseSchema = z.object({ jobs: z.array(trainingJobSummarySchema) });

export const trainingRunListQuerySchema = z.object({
  job: z.string().min(1).max(64).optional(),
  dataset: datasetIdSchema.optional(),
  status: z.enum(TRAINING_RUN_STATUSES).optional(),
  limit: integerText(1, 1000).optional(),
});
export type TrainingRunListQuery = z.input<typeof trainingRunListQuerySchema>;
export const trainingRunListResponseSchema = z.object({ runs: z.array(trainingRunSummarySchema) });

/** GET /api/v1/training/runs/{id}: the run with its captured log (stdout, stderr; bounded). */
export const trainingRunDetailSchema = z
  .object({ run: trainingRunSummarySchema, log: z.string() })
  .meta({ id: 'TrainingRunDetail' });
export type TrainingRunDetail = z.infer<typeof trainingRunDetailSchema>;

export const registerRunResponseSchema = z.object({ model: modelVersionSummarySchema });

/**
 * GET /api/v1/lineage/…: telemetry record → model version → training run → dataset snapshot →
 * source devices and time windows. A link that does not exist (a version pushed by hand, a run
 * without a dataset the server still knows) is null, and `gaps` says why in words.
 */
export const lineageWalkSchema = z
  .object({
    record: z
      .object({
        id: z.number().int(),
        deviceId: z.string(),
        stream: z.string(),
        seq: z.number().int(),
        ts: epochMsSchema,
        prediction: z.number().nullable(),
        reference: z.number().nullable(),
        shadow: z.boolean(),
      })
      .nullable(),
    model: z.object({
      name: z.string(),
      version: z.number().int(),
      sha256: z.string(),
      createdAt: z.string(),
      status: z.string(),
      parent: z.number().int().nullable(),
      trigger: z.string().nullable(),
      /** The version whose artifact this one re-releases (a rollback): the walk goes on from its lineage. */
      rereleaseOf: z.number().int().nullable(),
    }),
    run: z
      .object({
        id: z.string(),
        jobId: z.string(),
        trainer: z.string(),
        params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
        seed: z.number().int(),
        status: z.string(),
        metrics: trainerMetricsSchema.nullable(),
        finishedAt: epochMsSchema.nullable(),
      })
      .nullable(),
    dataset: z
      .object({
        id: z.string(),
        name: z.string().nullable(),
        createdAt: epochMsSchema,
        origin: z.string(),
        counts: z.object({
          total: z.number().int(),
          train: z.number().int(),
          validation: z.number().int(),
          holdout: z.number().int(),
        }),
        label: z.object({ min: z.number(), max: z.number(), mean: z.number() }),
      })
      .nullable(),
    /** The dataset's source devices and their capture windows. */
    sources: z.array(
      z.object({
        deviceId: z.string().nullable(),
        count: z.number().int(),
        from: epochMsSchema.nullable(),
        to: epochMsSchema.nullable(),
      }),
    ),
    gaps: z.array(z.string()),
    /** The retraining loop run that made the version (null: it was not made by the loop). */
    loop: loopLineageSchema.nullable(),
  })
  .meta({ id: 'LineageWalk' });
export type LineageWalk = z.infer<typeof lineageWalkSchema>;
