/**
 * @module evaluate/request
 * What the evaluator is asked and what it answers. A request names ONNX model files (each with
 * the image preprocessing its manifest declares) and labelled images; the answer is, per model,
 * the error of its predictions against the labels: overall and per item group (e.g. the gate's
 * two holdouts), and optionally every prediction. Paths may be relative to the request file.
 */
import { z } from 'zod';
import { imagePreprocessingSchema } from '@edgeloop/protocol';

/** Model keys and group names: short words, so they are safe as JSON keys and in messages. */
const keySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_" or "-" (e.g. "champion")');

export const evaluationModelSchema = z
  .object({
    /** The .onnx file. */
    path: z.string().min(1),
    /** How the device feeds an image to this model (the manifest's `preprocessing`). */
    preprocessing: imagePreprocessingSchema,
    /** The output read as the prediction (the manifest's regression `output`); default: the model's only output. */
    output: z.string().min(1).max(256).optional(),
  })
  .strict();
export type EvaluationModel = z.infer<typeof evaluationModelSchema>;

export const evaluationItemSchema = z
  .object({
    /** An encoded image (JPEG, PNG, …). */
    path: z.string().min(1),
    /** The true value (the reference reading). */
    label: z.number().refine(Number.isFinite, 'must be a finite number'),
    /** Items of a group are also scored on their own (e.g. "recent", "original"). */
    group: keySchema.optional(),
  })
  .strict();
export type EvaluationItem = z.infer<typeof evaluationItemSchema>;

export const evaluationRequestSchema = z
  .object({
    models: z
      .record(keySchema, evaluationModelSchema)
      .refine((m) => Object.keys(m).length > 0, 'name at least one model, e.g. {"champion": {"path": …}}'),
    items: z.array(evaluationItemSchema).min(1, 'give at least one labelled image'),
    /** Images per ONNX Runtime call (models with a dynamic batch dimension; others run one by one). */
    batchSize: z.number().int().min(1).max(1024).default(64),
    /** ONNX Runtime intra-op threads; 0: one per core. One by default: the evaluator shares its machine. */
    threads: z.number().int().min(0).max(256).default(1),
    /** Also answer every prediction, in item order. */
    predictions: z.boolean().default(false),
  })
  .strict();
export type EvaluationRequestInput = z.input<typeof evaluationRequestSchema>;
export type EvaluationRequest = z.output<typeof evaluationRequestSchema>;

/** Error of a model's predictions on some items. */
export interface ErrorStats {
  /** Items scored (those with a finite prediction). */
  count: number;
  /** Items whose prediction was NaN or infinite: left out of the numbers below. */
  invalid: number;
  mae: number;
  rmse: number;
  /** Mean of prediction − label: positive when the model reads high. */
  bias: number;
}

export interface ModelEvaluation extends ErrorStats {
  key: string;
  /** Per item group, for items that name one. */
  groups: Record<string, ErrorStats>;
  /** Every prediction in item order (null: not finite), when the request asked for them. */
  predictions?: Array<number | null>;
}

/** The evaluator's stdout, one JSON object a line. */
export type EvaluatorLine =
  | { kind: 'progress'; done: number; total: number }
  | ({ kind: 'model' } & ModelEvaluation)
  | { kind: 'error'; message: string };

/** Exit codes of the evaluator command. */
export const EVALUATOR_EXIT = {
  ok: 0,
  /** It crashed: a bug, the message is a stack. */
  crashed: 1,
  /** The request, a model or an image is wrong: the message says which and what to do. */
  refused: 2,
} as const;
