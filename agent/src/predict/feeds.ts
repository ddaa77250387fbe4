/**
 * @module predict/feeds
 * What a client sent → the tensors a model runs on, checked against the signed manifest. Three
 * ways in: JSON tensors, a raw image body, or a multipart form (an image file for the image
 * input, JSON tensors for the other inputs in an `inputs` field). Every mismatch is an
 * InputError whose message says what the model expects instead.
 */
import { z } from 'zod';
import { describeZodError, elementCount, shapeMatches, type ImageFeature, type Manifest } from '@edgeloop/protocol';
import { makeTensor, type TensorData } from '../runtime/model-runner.js';
import type { RawInputBytes } from '../store/record-buffer.js';
import { imageToTensor, InputError } from './image-input.js';

const MAX_ELEMENTS = 16 * 1024 * 1024;

export const tensorInputsSchema = z.record(
  z.string(),
  z.object({
    shape: z.array(z.number().int().min(0)).max(8),
    data: z.array(z.number()).max(MAX_ELEMENTS),
  }),
);
export type TensorInputs = z.infer<typeof tensorInputsSchema>;

const CAPTURED_AT_HINT =
  'capturedAt must be the time the input was captured, in epoch milliseconds (a whole number ≥ 0, e.g. Date.now() on the camera); leave it out to use the time of the request';

/**
 * When the input was captured (epoch ms), by the camera's or simulator's own clock: the record's
 * timestamp, so windows, drift and reference values bind to data time, not arrival time.
 */
export const capturedAtSchema = z
  .number({ error: CAPTURED_AT_HINT })
  .int({ error: CAPTURED_AT_HINT })
  .min(0, { error: CAPTURED_AT_HINT })
  .max(Number.MAX_SAFE_INTEGER, { error: CAPTURED_AT_HINT });

/** A capturedAt given as text (form field, header): the same rules as the JSON number. */
export function parseCapturedAt(text: string, where: string): number {
  const parsed = /^\d{1,16}$/.test(text.trim()) ? capturedAtSchema.safeParse(Number(text.trim())) : undefined;
  if (!parsed?.success) throw new InputError(`${where} "${text.slice(0, 40)}" is invalid: ${CAPTURED_AT_HINT}`);
  return parsed.data;
}

export const jsonInputSchema = z.object({
  inputs: tensorInputsSchema,
  requestId: z.string().min(1).max(128).optional(),
  capturedAt: capturedAtSchema.optional(),
});
export type JsonInput = z.infer<typeof jsonInputSchema>;

/** A multipart file field: its name says which input it feeds ("image"/"file" alias the image input). */
export interface FormFile {
  field: string;
  bytes: Uint8Array;
  contentType?: string;
}

export type PredictInput =
  /** `features`: recorded beside the tensor's own (sensor inputs record each sensor's value). */
  | { kind: 'json'; body: unknown; features?: Record<string, number> }
  | { kind: 'image'; body: Uint8Array; contentType?: string; capturedAt?: number }
  | { kind: 'form'; files: FormFile[]; inputs?: unknown; requestId?: string; capturedAt?: number };

export interface PreparedInput {
  feeds: Record<string, TensorData>;
  features: Record<string, number>;
  requestId?: string;
  /** Capture time (epoch ms) when the client gave one: the record's ts instead of now. */
  capturedAt?: number;
  /** The input as sent, for input sampling: an image's bytes (no copy), or how to serialise JSON tensors. */
  raw?: { contentType: string; data: RawInputBytes };
}

const IMAGE_ALIASES = ['image', 'file'];

export async function prepareInput(
  manifest: Manifest,
  input: PredictInput,
  features: readonly ImageFeature[],
): Promise<PreparedInput> {
  if (input.kind === 'image')
    return {
      ...(await imageInput(manifest, input.body, undefined, features)),
      ...(input.capturedAt !== undefined ? { capturedAt: input.capturedAt } : {}),
      raw: rawImage(input.body, input.contentType),
    };
  if (input.kind === 'json') {
    const parsed = jsonInputSchema.safeParse(input.body);
    if (!parsed.success) throw new InputError(`invalid JSON input: ${describeZodError(parsed.error)}`);
    const { inputs, requestId, capturedAt } = parsed.data;
    // Feeds first: they check the input names, so the features below read an input that exists.
    const feeds = tensorFeeds(manifest, inputs);
    const features = { ...tensorFeatures(inputs[manifest.inputs[0]!.name]!.data), ...input.features };
    return {
      feeds,
      features,
      ...(requestId ? { requestId } : {}),
      ...(capturedAt !== undefined ? { capturedAt } : {}),
      raw: jsonBytes(inputs),
    };
  }

  let tensors: TensorInputs | undefined;
  if (input.inputs !== undefined) {
    const parsed = tensorInputsSchema.safeParse(input.inputs);
    if (!parsed.success)
      throw new InputError(
        `invalid "inputs" form field: ${describeZodError(parsed.error)}; send {"<input name>": {"shape": [...], "data": [...]}}`,
      );
    tensors = parsed.data;
  }
  const requestId = {
    ...(input.requestId ? { requestId: input.requestId } : {}),
    ...(input.capturedAt !== undefined ? { capturedAt: input.capturedAt } : {}),
  };
  if (input.files.length === 0) {
    if (!tensors)
      throw new InputError(
        'the form has no image file and no "inputs" field; send the image as a file field named "image", or JSON tensors in "inputs"',
      );
    const feeds = tensorFeeds(manifest, tensors);
    return {
      feeds,
      features: tensorFeatures(tensors[manifest.inputs[0]!.name]!.data),
      ...requestId,
      raw: jsonBytes(tensors),
    };
  }
  if (input.files.length > 1) {
    throw new InputError(
      `the form has ${input.files.length} files (${input.files.map((f) => f.field).join(', ')}); model ${manifest.name} takes one image: send one file field named "image"`,
    );
  }
  const file = input.files[0]!;
  const pre = manifest.preprocessing;
  if (pre.kind === 'image') {
    const isImageInput =
      file.field === pre.input ||
      (IMAGE_ALIASES.includes(file.field) && !manifest.inputs.some((i) => i.name === file.field));
    if (!isImageInput) {
      throw new InputError(
        `file field "${file.field}" is not the image input of model ${manifest.name} v${manifest.version}; name it "image" (or "${pre.input}")`,
        422,
      );
    }
  }
  if (file.bytes.length === 0) throw new InputError(`file field "${file.field}" is empty`);
  return {
    ...(await imageInput(manifest, file.bytes, tensors, features)),
    ...requestId,
    raw: rawImage(file.bytes, file.contentType),
  };
}

/**
 * The inputs as a predict request body would carry them, so a kept sample can be replayed as is.
 * Serialised only if the sampler keeps this input: a 3×224×224 tensor takes tens of ms.
 */
function jsonBytes(inputs: TensorInputs): NonNullable<PreparedInput['raw']> {
  return { contentType: 'application/json', data: () => Buffer.from(JSON.stringify({ inputs })) };
}

function rawImage(data: Uint8Array, contentType: string | undefined): PreparedInput['raw'] {
  return { contentType: contentType || 'application/octet-stream', data };
}

/** The image feeds the manifest's image input; any other input must come as JSON tensors. */
async function imageInput(
  manifest: Manifest,
  bytes: Uint8Array,
  tensors: TensorInputs | undefined,
  features: readonly ImageFeature[],
): Promise<PreparedInput> {
  const pre = manifest.preprocessing;
  if (pre.kind !== 'image') {
    throw new InputError(
      `model ${manifest.name} v${manifest.version} takes tensors, not images; send JSON {"inputs": {...}}`,
      415,
    );
  }
  const spec = manifest.inputs.find((i) => i.name === pre.input) ?? manifest.inputs[0]!;
  const others = manifest.inputs.filter((i) => i !== spec);
  if (others.length > 0 && !tensors) {
    throw new InputError(
      `model ${manifest.name} v${manifest.version} also needs input(s) ${others.map((i) => i.name).join(', ')}: send multipart/form-data with the image file and those tensors as JSON in an "inputs" field`,
      422,
    );
  }
  if (tensors?.[spec.name])
    throw new InputError(`input "${spec.name}" is given twice: as the image file and in "inputs"; send it once`);
  const img = await imageToTensor(bytes, pre, features);
  const feeds = tensors ? tensorFeeds(manifest, tensors, spec.name) : {};
  feeds[spec.name] = makeTensor(spec.dtype, img.data, img.shape);
  return { feeds, features: img.features };
}

/** Every manifest input except `skip` must be present with a matching shape; nothing else may be. */
function tensorFeeds(manifest: Manifest, inputs: TensorInputs, skip?: string): Record<string, TensorData> {
  const feeds: Record<string, TensorData> = {};
  for (const spec of manifest.inputs) {
    if (spec.name === skip) continue;
    const given = inputs[spec.name];
    if (!given) {
      const sent = Object.keys(inputs);
      throw new InputError(
        `missing input "${spec.name}": model ${manifest.name} v${manifest.version} takes input(s) ${manifest.inputs.map((i) => i.name).join(', ')}` +
          (sent.length ? `, the request sent ${sent.join(', ')}` : '') +
          '; name each tensor after the model input it feeds',
        422,
      );
    }
    if (!shapeMatches(spec.shape, given.shape)) {
      throw new InputError(
        `input "${spec.name}" has shape [${given.shape.join(', ')}], model expects [${spec.shape.join(', ')}]`,
        422,
      );
    }
    if (elementCount(given.shape) !== given.data.length) {
      throw new InputError(
        `input "${spec.name}": shape [${given.shape.join(', ')}] needs ${elementCount(given.shape)} values, got ${given.data.length}`,
        422,
      );
    }
    if (hasBatchDimension(spec.shape) && given.shape[0] !== 1) {
      throw new InputError(
        `input "${spec.name}" has shape [${given.shape.join(', ')}]: ${given.shape[0]} samples in its batch (first) dimension, but one request makes one prediction and one record; ` +
          `send each sample with first dimension 1, as separate requests or as items of POST /v1/predict/batch ({"items": [{"inputs": {...}}, ...]})`,
        422,
      );
    }
    feeds[spec.name] = makeTensor(spec.dtype, given.data, given.shape);
  }
  const unknown = Object.keys(inputs).filter((k) => !manifest.inputs.some((i) => i.name === k));
  if (unknown.length)
    throw new InputError(
      `unknown input(s) ${unknown.join(', ')}; model expects ${manifest.inputs.map((i) => i.name).join(', ')}`,
      422,
    );
  return feeds;
}

/**
 * A dynamic first dimension on an input of rank 2 or more is the batch dimension (the ONNX
 * convention predict/batch.ts also relies on). Postprocessing reads one sample's output, so a
 * tensor carrying several samples there would give one prediction (argmax over the flattened
 * batch, or the first sample's value) and one record for all of them. A rank-1 dynamic input is a
 * length (a sequence), not a batch.
 */
function hasBatchDimension(shape: readonly (number | string)[]): boolean {
  return shape.length >= 2 && (shape[0] === -1 || typeof shape[0] === 'string');
}

/** Features of a tensor input (the manifest's first input): mean, std, min, max. */
export function tensorFeatures(data: readonly number[]): Record<string, number> {
  if (data.length === 0) return {};
  let sum = 0,
    sq = 0,
    min = Infinity,
    max = -Infinity;
  for (const v of data) {
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / data.length;
  return { mean, std: Math.sqrt(Math.max(0, sq / data.length - mean * mean)), min, max };
}
