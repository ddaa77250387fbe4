/**
 * @module rollouts/rollout-params
 * The create-rollout request and its parameters, validated with zod, with every default in one
 * place. Defaults (documented in ARCHITECTURE.md, "Rollouts"):
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
import { tagsSchema } from '../identity/device-labels.js';
import { z } from 'zod';
import { describeZodError, isValidId, ROLLOUT_STRATEGIES, type CreateRolloutRequest } from '@edgeloop/protocol';

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');
const ms = z.number().int().min(0).max(30 * 86_400_000);
const share = z.number().min(0).max(1);
const action = z.enum(['pause', 'rollback']);

export const waveSpecSchema = z
  .object({
    percent: z.number().gt(0).max(100).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    waitMs: ms.optional(),
  })
  .strict()
  .refine((w) => (w.percent === undefined) !== (w.count === undefined), { message: 'give a wave either percent or count' });

const canarySchema = z
  .object({ percent: z.number().gt(0).max(100).optional(), count: z.number().int().min(1).optional() })
  .strict()
  .refine((c) => !(c.percent !== undefined && c.count !== undefined), { message: 'give the canary either percent or count' });

export const rolloutParametersSchema = z
  .object({
    waves: z.array(waveSpecSchema).min(1).max(20).optional(),
    canary: canarySchema.optional(),
    abPercent: z.number().gt(0).max(100).default(50),
    waitMs: ms.optional(),
    successThreshold: share.default(0.8),
    errorThreshold: share.default(0.2),
    errorAction: action.default('rollback'),
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
        action: action.optional(),
      })
      .strict()
      .prefault({}),
    drift: z
      .object({
        maxPsi: z.number().gt(0).max(100).optional(),
        minRecords: z.number().int().min(10).max(1_000_000).default(100),
        action: action.optional(),
      })
      .strict()
      .prefault({}),
    promoteTo: z
      .object({ strategy: z.enum(['direct', 'staged', 'canary']), waves: z.array(waveSpecSchema).min(1).max(20).optional(), canary: canarySchema.optional() })
      .strict()
      .optional(),
  })
  .strict();
export type RolloutParams = z.infer<typeof rolloutParametersSchema>;

export const rolloutTargetSchema = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z.object({ group: id }).strict(),
  z.object({ tags: tagsSchema.refine((t) => Object.keys(t).length > 0, 'give at least one tag') }).strict(),
  z.object({ devices: z.array(id).min(1).max(100_000) }).strict(),
]);

export const createRolloutSchema = z
  .object({
    model: id,
    version: z.number().int().min(1),
    strategy: z.enum(ROLLOUT_STRATEGIES),
    target: rolloutTargetSchema,
    parameters: rolloutParametersSchema.prefault({}),
    reason: z.string().max(500).optional(),
  })
  .strict();
export type CreateRollout = z.infer<typeof createRolloutSchema>;

// The wire type in protocol/ and this schema must agree (compile-time check, no runtime cost).
const _wireMatches = (r: CreateRolloutRequest): z.input<typeof createRolloutSchema> => r;
void _wireMatches;

export function parseCreateRollout(body: unknown): { ok: true; value: CreateRollout } | { ok: false; reason: string } {
  const parsed = createRolloutSchema.safeParse(body);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: describeZodError(parsed.error) };
}

/** Parameters as stored: defaults applied (stored rollouts keep the defaults they started with). */
/** Stored parameters (JSON as read back), checked and with defaults of newer settings filled in. */
export function parseStoredParams(stored: unknown): RolloutParams {
  return rolloutParametersSchema.parse(stored);
}

/** Default soak time per wave: none for direct (one wave, nothing to compare against yet). */
export function defaultWaitMs(strategy: string): number {
  return strategy === 'direct' ? 0 : 5 * 60_000;
}

export function liveErrorAction(p: RolloutParams): 'pause' | 'rollback' {
  return p.liveError.action ?? p.errorAction;
}

export function driftAction(p: RolloutParams): 'pause' | 'rollback' {
  return p.drift.action ?? p.errorAction;
}
