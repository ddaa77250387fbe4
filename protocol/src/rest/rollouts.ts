/**
 * @module rest/rollouts
 * The rollout API (/api/v1/rollouts): the create request with every parameter and its default,
 * and the progress views the server answers with.
 *
 * Defaults (ARCHITECTURE.md, "Rollouts"):
 *
 * | parameter | default | why |
 * | --- | --- | --- |
 * | waves (staged) | 10 %, 50 %, 100 % | cumulative shares of the target devices |
 * | canary | 5 % (at least 1 device), then 100 % | |
 * | abPercent | 50 | |
 * | waitMs | 5 min per wave (direct: 0) | soak time before a wave may advance |
 * | successThreshold | 0.8 | share of a wave's devices active before it advances (hawkBit: 0.5; a model swap is cheap, so ask more) |
 * | errorThreshold | 0.2 | more than this share of a wave's decided devices failed → errorAction (hawkBit: 0.5) |
 * | errorAction | rollback | |
 * | minDevices | 3 | decided devices (active or failed) before the error threshold is judged (the whole wave if smaller) |
 * | deviceTimeoutMs | 30 min | assigned/downloading/verified longer than this → timed-out |
 * | offlineGraceMs | 10 min | an unfinished wave device offline longer than this counts as a failure |
 * | healthyAfterMs | 60 s | active this long (and online) → healthy; matches the agent's probation |
 * | maxConcurrentDownloads | 50 | devices of one rollout in assigned/downloading at once |
 * | liveError.maxErrorRatio | 1.2 | candidate MAE above 1.2 × baseline MAE → action |
 * | liveError.minDelta | 0 | and at least this much worse in absolute terms (units of the prediction) |
 * | liveError.minRecords | 30 | reference-joined records per arm before judging |
 * | liveError.required | auto | auto: a wave waits for candidate data if the baseline has reference values |
 * | liveError.baselineLookbackMs | 1 h | baseline records of wave devices before their switch |
 * | drift.maxPsi | off | PSI of the candidate's predictions vs the baseline's (report only unless set; 0.1 slight, 0.25 major) |
 */
import { z } from 'zod';
import { modelVersionSchema } from '../manifest.js';
import { ROLLOUT_DEVICE_STATES, ROLLOUT_STATES, ROLLOUT_STRATEGIES } from './constants.js';
import { tagsSchema } from './devices.js';
import { epochMsSchema, integerText, restIdSchema } from './shared.js';

const ms = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400_000);
const share = z.number().min(0).max(1);
const gateAction = z.enum(['pause', 'rollback']);

/** One wave as requested: a cumulative share of the target devices (percent or count). */
export const waveSpecSchema = z
  .object({
    percent: z.number().gt(0).max(100).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    /** Soak time after the wave started before it may advance (ms). */
    waitMs: ms.optional(),
  })
  .strict()
  .refine((w) => (w.percent === undefined) !== (w.count === undefined), {
    message: 'give a wave either percent or count',
  });
export type WaveSpec = z.input<typeof waveSpecSchema>;

const canarySchema = z
  .object({ percent: z.number().gt(0).max(100).optional(), count: z.number().int().min(1).optional() })
  .strict()
  .refine((c) => !(c.percent !== undefined && c.count !== undefined), {
    message: 'give the canary either percent or count',
  });

/** Tunables; every field has a default (table above), applied when the rollout is created. */
export const rolloutParametersSchema = z
  .object({
    waves: z.array(waveSpecSchema).min(1).max(20).optional(),
    canary: canarySchema.optional(),
    abPercent: z.number().gt(0).max(100).default(50),
    waitMs: ms.optional(),
    successThreshold: share.default(0.8),
    errorThreshold: share.default(0.2),
    errorAction: gateAction.default('rollback'),
    minDevices: z.number().int().min(1).max(100_000).default(3),
    deviceTimeoutMs: ms.min(1000).default(30 * 60_000),
    offlineGraceMs: ms.default(10 * 60_000),
    healthyAfterMs: ms.default(60_000),
    maxConcurrentDownloads: z.number().int().min(1).max(100_000).default(50),
    liveError: z
      .object({
        maxErrorRatio: z.number().min(1).max(1000).default(1.2),
        minDelta: z.number().min(0).default(0),
        minRecords: z.number().int().min(1).max(1_000_000).default(30),
        required: z.enum(['auto', 'always', 'never']).default('auto'),
        baselineLookbackMs: ms.default(3_600_000),
        action: gateAction.optional(),
      })
      .strict()
      .prefault({}),
    drift: z
      .object({
        maxPsi: z.number().gt(0).max(100).optional(),
        minRecords: z.number().int().min(10).max(1_000_000).default(100),
        action: gateAction.optional(),
      })
      .strict()
      .prefault({}),
    /** Shadow only: what `promote` turns the rollout into. */
    promoteTo: z
      .object({
        strategy: z.enum(['direct', 'staged', 'canary']),
        waves: z.array(waveSpecSchema).min(1).max(20).optional(),
        canary: canarySchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .meta({ id: 'RolloutParameters' });
/** The parameters as a request may give them (everything optional). */
export type RolloutParameters = z.input<typeof rolloutParametersSchema>;
/** The parameters with every default applied, as a rollout keeps them. */
export type RolloutParams = z.output<typeof rolloutParametersSchema>;

/** Which devices a rollout covers; fixed when it is created. */
export const rolloutTargetSchema = z
  .union([
    z.object({ all: z.literal(true) }).strict(),
    z.object({ group: restIdSchema }).strict(),
    z.object({ tags: tagsSchema.refine((t) => Object.keys(t).length > 0, 'give at least one tag') }).strict(),
    z.object({ devices: z.array(restIdSchema).min(1).max(100_000) }).strict(),
  ])
  .meta({ id: 'RolloutTarget' });
export type RolloutTarget = z.infer<typeof rolloutTargetSchema>;

export const createRolloutSchema = z
  .object({
    model: restIdSchema,
    version: modelVersionSchema,
    strategy: z.enum(ROLLOUT_STRATEGIES),
    target: rolloutTargetSchema,
    parameters: rolloutParametersSchema.prefault({}),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .meta({ id: 'CreateRollout' });
export type CreateRolloutRequest = z.input<typeof createRolloutSchema>;
export type CreateRollout = z.output<typeof createRolloutSchema>;

export const rolloutListQuerySchema = z.object({
  model: z.string().min(1).max(64).optional(),
  state: z.enum(ROLLOUT_STATES).optional(),
  limit: integerText(1, 1000).optional(),
});

/** POST /api/v1/rollouts/{id}/{action}: an optional reason, recorded in the audit log. */
export const rolloutActionRequestSchema = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

const countsByState = z.partialRecord(z.enum(ROLLOUT_DEVICE_STATES), z.number().int());
const timesByState = z.partialRecord(z.enum(ROLLOUT_DEVICE_STATES), epochMsSchema);

export const rolloutSummarySchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.number().int(),
    /** What most target devices served when the rollout was created (null: nothing). */
    baselineVersion: z.number().int().nullable(),
    strategy: z.enum(ROLLOUT_STRATEGIES),
    /** The device role the candidate is assigned with: serve, or shadow (never answers). */
    role: z.enum(['serve', 'shadow']),
    target: rolloutTargetSchema,
    state: z.enum(ROLLOUT_STATES),
    reason: z.string().nullable(),
    createdBy: z.string(),
    createdAt: epochMsSchema,
    updatedAt: epochMsSchema,
    finishedAt: epochMsSchema.nullable(),
    currentWave: z.number().int(),
    waveCount: z.number().int(),
    /** ab/shadow: the candidate reached its share and waits for promote or abort. */
    holding: z.boolean(),
    /** Rollback: baseline version → the new version its artifact was re-released as. */
    rollbackVersions: z.record(z.string(), z.number().int()),
    devices: z.number().int(),
    counts: countsByState,
  })
  .meta({ id: 'RolloutSummary' });
export type RolloutSummary = z.infer<typeof rolloutSummarySchema>;

export const errorArmSchema = z.object({
  /** Which version this arm measures. */
  version: z.number().int().nullable(),
  /** Reference-joined records (prediction and reference both present). */
  records: z.number().int(),
  /** Mean absolute error of prediction vs reference; null without records. */
  mae: z.number().nullable(),
});
export type ErrorArm = z.infer<typeof errorArmSchema>;

export const gateReadingSchema = z.object({
  gate: z.enum(['failures', 'success', 'wait', 'live-error', 'drift', 'devices']),
  status: z.enum(['pass', 'fail', 'waiting', 'insufficient', 'off']),
  /** The measured value (a rate, a ratio, ms waited, PSI). */
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  detail: z.string(),
});
export type GateReading = z.infer<typeof gateReadingSchema>;

export const waveProgressSchema = z.object({
  index: z.number().int(),
  /** Devices in this wave and the cumulative count reached when it is done. */
  size: z.number().int(),
  cumulative: z.number().int(),
  waitMs: z.number().int(),
  startedAt: epochMsSchema.nullable(),
  passedAt: epochMsSchema.nullable(),
  counts: countsByState,
  /** Devices offline longer than offlineGraceMs that have not finished (counted as failures). */
  offline: z.number().int(),
});
export type WaveProgress = z.infer<typeof waveProgressSchema>;

export const rolloutDeviceViewSchema = z.object({
  deviceId: z.string(),
  wave: z.number().int(),
  state: z.enum(ROLLOUT_DEVICE_STATES),
  previousVersion: z.number().int().nullable(),
  assignedAt: epochMsSchema.nullable(),
  stateAt: epochMsSchema,
  /** When each state was first entered. */
  times: timesByState,
  reason: z.string().nullable(),
});
export type RolloutDeviceView = z.infer<typeof rolloutDeviceViewSchema>;

/** GET /api/v1/rollouts/{id}: progress per wave, the gates with their readings, live error per arm, drift, every device. */
export const rolloutDetailSchema = z
  .object({
    rollout: rolloutSummarySchema,
    parameters: rolloutParametersSchema,
    waves: z.array(waveProgressSchema),
    gates: z.array(gateReadingSchema),
    liveError: z.object({ candidate: errorArmSchema, baseline: errorArmSchema, ratio: z.number().nullable() }),
    drift: z.object({
      psi: z.number().nullable(),
      records: z.object({ candidate: z.number().int(), baseline: z.number().int() }),
    }),
    devices: z.array(rolloutDeviceViewSchema),
  })
  .meta({ id: 'RolloutDetail' });
export type RolloutDetail = z.infer<typeof rolloutDetailSchema>;

export const rolloutResponseSchema = z.object({ rollout: rolloutSummarySchema });
export const rolloutListResponseSchema = z.object({ rollouts: z.array(rolloutSummarySchema) });

/**
 * POST /api/v1/rollouts/preview (same body as create): the waves create would start with and the
 * devices each gets, creating nothing. `blocked` says why create would refuse right now (another
 * rollout of the model is active); the plan is shown anyway.
 */
export const rolloutPreviewSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    strategy: z.enum(ROLLOUT_STRATEGIES),
    role: z.enum(['serve', 'shadow']),
    baselineVersion: z.number().int().nullable(),
    /** Devices that get the candidate (the target less the skipped). */
    devices: z.number().int(),
    waves: z.array(
      z.object({
        index: z.number().int(),
        size: z.number().int(),
        cumulative: z.number().int(),
        waitMs: z.number().int(),
        /** Device ids in rollout order (online devices first). */
        devices: z.array(z.string()),
      }),
    ),
    skipped: z.array(
      z.object({ deviceId: z.string(), previousVersion: z.number().int().nullable(), reason: z.string() }),
    ),
    /** ab and shadow hold after their waves until promoted or aborted. */
    holds: z.boolean(),
    blocked: z.string().nullable(),
  })
  .meta({ id: 'RolloutPreview' });
export type RolloutPreview = z.infer<typeof rolloutPreviewSchema>;
