/**
 * @module trainer-contract
 * A trainer is any command run as
 *
 *   <trainer> <dataset-dir> <params.json> <out-dir>
 *
 * - `dataset-dir` is a dataset folder (dataset.ts); `params.json` holds one parameter set, always
 *   with an integer `seed`; `out-dir` exists and is empty.
 * - It writes into `out-dir`: `model.onnx`, `metrics.json` (trainerMetricsSchema), `baseline.json`
 *   (protocol's trainingSummarySchema: the training split's monitoring features, outputs and
 *   reference values on FEATURE_EDGES / valueEdges), `train.log`, and optionally `meta.json` (the
 *   registry's upload metadata: pre/postprocessing; without it the parent version's are used).
 * - It may print progress on stdout as JSON lines (trainerProgressSchema); any other line is log.
 * - It exits 0 on success; anything else is a failed run, whatever it wrote.
 * - `<trainer> --describe` prints a trainerDescriptionSchema object: the parameters it takes.
 *   A sweep is checked against it before anything runs, so a misspelt parameter is an error,
 *   not a silently ignored default.
 *
 * Same dataset, same params, same seed → same metrics: trainers must be deterministic.
 */
import { z } from 'zod';

export const TRAINER_OUTPUTS = {
  model: 'model.onnx',
  metrics: 'metrics.json',
  baseline: 'baseline.json',
  log: 'train.log',
  meta: 'meta.json',
} as const;

export const paramSpecSchema = z
  .object({
    type: z.enum(['number', 'integer', 'boolean', 'string']),
    default: z.union([z.number(), z.boolean(), z.string()]).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    /** Allowed values of a string parameter. */
    values: z.array(z.string()).min(1).optional(),
    description: z.string().max(512).optional(),
  })
  .strict();
export type ParamSpec = z.infer<typeof paramSpecSchema>;

export const trainerDescriptionSchema = z
  .object({
    name: z.string().min(1).max(64),
    version: z.string().max(64).optional(),
    description: z.string().max(1024).optional(),
    params: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), paramSpecSchema),
  })
  .strict();
export type TrainerDescription = z.infer<typeof trainerDescriptionSchema>;

export type ParamValue = number | boolean | string;
export type TrainerParams = Record<string, ParamValue>;

const errorMetrics = z
  .object({
    mae: z.number().min(0),
    rmse: z.number().min(0),
    count: z.number().int().min(0),
  })
  .strict();
export type ErrorMetrics = z.infer<typeof errorMetrics>;

export const trainerMetricsSchema = z
  .object({
    validation: errorMetrics,
    holdout: errorMetrics.optional(),
    train: errorMetrics.optional(),
    /** MAE on the holdout of always predicting the training mean: what "learned something" beats. */
    meanBaselineMae: z.number().min(0).optional(),
    epochs: z.number().int().min(0).optional(),
    durationMs: z.number().min(0).optional(),
    /** Anything else the trainer measured, by name. */
    extra: z.record(z.string().max(64), z.number()).optional(),
  })
  .strict();
export type TrainerMetrics = z.infer<typeof trainerMetricsSchema>;

/** A progress line on the trainer's stdout. */
export const trainerProgressSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('epoch'),
      epoch: z.number().int().min(1),
      epochs: z.number().int().min(1),
      loss: z.number(),
      valMae: z.number().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('phase'),
      /** e.g. "loading", "training", "exporting", "evaluating". */
      phase: z.string().min(1).max(64),
      done: z.number().int().min(0).optional(),
      total: z.number().int().min(0).optional(),
    })
    .strict(),
]);
export type TrainerProgress = z.infer<typeof trainerProgressSchema>;

/** The progress a stdout line carries, or undefined for a plain log line. */
export function parseProgressLine(line: string): TrainerProgress | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = trainerProgressSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `params` checked against a trainer's description, with its defaults filled in. Every problem is
 * named (unknown parameter, wrong type, out of range), so a sweep file can be fixed in one go.
 */
export function resolveParams(
  description: TrainerDescription,
  params: Record<string, unknown>,
): { ok: true; params: TrainerParams } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const out: TrainerParams = {};
  const known = Object.keys(description.params);
  for (const [name, value] of Object.entries(params)) {
    const spec = description.params[name];
    if (name === 'seed') {
      if (!Number.isInteger(value)) errors.push(`seed must be an integer, got ${JSON.stringify(value)}`);
      else out.seed = value as number;
      continue;
    }
    if (!spec) {
      errors.push(
        `unknown parameter "${name}" for trainer ${description.name} (it takes: ${known.join(', ') || 'none'})`,
      );
      continue;
    }
    const problem = checkParam(name, spec, value);
    if (problem) errors.push(problem);
    else out[name] = value as ParamValue;
  }
  for (const [name, spec] of Object.entries(description.params)) {
    if (!(name in out) && spec.default !== undefined) out[name] = spec.default;
  }
  return errors.length ? { ok: false, errors } : { ok: true, params: out };
}

function checkParam(name: string, spec: ParamSpec, value: unknown): string | undefined {
  const got = JSON.stringify(value);
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${name} must be true or false, got ${got}`;
    case 'string':
      if (typeof value !== 'string') return `${name} must be a string, got ${got}`;
      return spec.values && !spec.values.includes(value)
        ? `${name} must be one of ${spec.values.join(', ')}, got ${got}`
        : undefined;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number, got ${got}`;
      if (spec.type === 'integer' && !Number.isInteger(value)) return `${name} must be an integer, got ${got}`;
      if (spec.min !== undefined && value < spec.min) return `${name} must be ≥ ${spec.min}, got ${got}`;
      if (spec.max !== undefined && value > spec.max) return `${name} must be ≤ ${spec.max}, got ${got}`;
      return undefined;
    }
  }
}

/** `{validation: {mae: 3}}` → `{validation_mae: 3}`: a model version's flat metrics (the registry's `metrics`). */
export function flatMetrics(m: TrainerMetrics | null): Record<string, number> {
  if (!m) return {};
  const out: Record<string, number> = {};
  for (const split of ['validation', 'holdout', 'train'] as const) {
    const e = m[split];
    if (e) {
      out[`${split}_mae`] = e.mae;
      out[`${split}_rmse`] = e.rmse;
    }
  }
  if (m.meanBaselineMae !== undefined) out.mean_baseline_mae = m.meanBaselineMae;
  return out;
}
