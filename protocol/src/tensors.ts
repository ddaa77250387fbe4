/**
 * @module tensors
 * Tensor specs, preprocessing and postprocessing declarations. They travel inside the signed
 * manifest, so a device never guesses how to feed or read a model.
 */
import { z } from 'zod';

export const TENSOR_DTYPES = ['float32', 'uint8', 'int8', 'int32', 'int64', 'float64', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** A dimension is a fixed size, -1 for "any", or a symbolic name such as "batch". */
export const dimensionSchema = z.union([z.number().int().min(-1), z.string().min(1).max(64)]);

export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(256),
  dtype: z.enum(TENSOR_DTYPES),
  shape: z.array(dimensionSchema).max(8),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

// Metadata is checked before the ONNX file is read, so the hint cannot list the model's inputs yet.
const INPUT_HINT = 'name the model input the image feeds, e.g. "input": "image" (the ONNX input name)';

export const imagePreprocessingSchema = z
  .object({
    kind: z.literal('image'),
    /** Which model input receives the image. */
    input: z.string({ error: INPUT_HINT }).min(1, INPUT_HINT),
    width: z.number().int().min(1).max(8192),
    height: z.number().int().min(1).max(8192),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    /** GRAY: one channel, the Rec. 601 luma of the sRGB pixels. */
    colorOrder: z.enum(['RGB', 'BGR', 'GRAY']).default('RGB'),
    /** fill = stretch, cover = crop to aspect, contain = letterbox. */
    resize: z.enum(['fill', 'cover', 'contain']).default('fill'),
    /**
     * Centre crop as most classifiers were trained (timm's crop_pct, e.g. 0.875 = resize to 256,
     * keep the centre 224): the image is resized to width/crop × height/crop, then the centre
     * width × height is kept. Not with resize "contain", which keeps the whole image.
     */
    crop: z.number().min(0.1).max(1).optional(),
    /** Letterbox bars (resize "contain"), 8-bit RGB, default black; YOLO-family models expect [114, 114, 114]. */
    pad: z.array(z.number().int().min(0).max(255)).length(3).optional(),
    /** Applied as ((pixel * scale) - mean[c]) / std[c]; GRAY uses the first entry. */
    scale: z.number().default(1 / 255),
    mean: z.array(z.number()).length(3).default([0, 0, 0]),
    std: z.array(z.number().positive()).length(3).default([1, 1, 1]),
  })
  // Strict: a field this agent does not know changes what the model is fed, so a manifest from a
  // newer registry is refused (and reported) rather than run with the field silently dropped.
  .strict()
  .refine((p) => p.crop === undefined || p.resize !== 'contain', {
    message: 'crop does not go with resize "contain" (a letterbox keeps the whole image)',
    path: ['crop'],
  })
  .refine((p) => p.pad === undefined || p.resize === 'contain', {
    message: 'pad colours the letterbox bars: it needs resize "contain"',
    path: ['pad'],
  });
export type ImagePreprocessing = z.infer<typeof imagePreprocessingSchema>;

/** The tensor shape an image preprocessing produces: one image, its channels, in its layout. */
export function imageTensorShape(
  pre: Pick<ImagePreprocessing, 'layout' | 'colorOrder' | 'width' | 'height'>,
): number[] {
  const channels = pre.colorOrder === 'GRAY' ? 1 : 3;
  return pre.layout === 'NCHW' ? [1, channels, pre.height, pre.width] : [1, pre.height, pre.width, channels];
}

export const preprocessingSchema = z.discriminatedUnion(
  'kind',
  [imagePreprocessingSchema, z.object({ kind: z.literal('none') }).strict()],
  { error: 'set "kind": "image" (a picture feeds the model; also give "input") or "kind": "none"' },
);
export type Preprocessing = z.infer<typeof preprocessingSchema>;

export const postprocessingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('raw') }).strict(),
  z.object({ kind: z.literal('regression'), output: z.string().min(1), unit: z.string().max(32).optional() }).strict(),
  z.object({ kind: z.literal('argmax'), output: z.string().min(1), labels: z.array(z.string()).optional() }).strict(),
]);
export type Postprocessing = z.infer<typeof postprocessingSchema>;

/** How many elements a concrete shape holds; throws on dynamic dims. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`shape [${shape.join(', ')}] is not concrete`);
    n *= d;
  }
  return n;
}

/** Whether a concrete shape fits a spec shape (dynamic dims match anything). */
export function shapeMatches(spec: readonly (number | string)[], actual: readonly number[]): boolean {
  if (spec.length !== actual.length) return false;
  return spec.every((d, i) => typeof d === 'string' || d === -1 || d === actual[i]);
}
