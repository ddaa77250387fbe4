/**
 * @module train/preprocess
 * Decodes training images exactly as the agent does when it serves the model (agent's
 * predict/image-input.ts): the same sharp pipeline and options, the same per-pixel arithmetic,
 * so a model sees bit-for-bit the same tensor in training and on the device. A cross-package
 * test compares the two on the same bytes.
 */
import sharp from 'sharp';
import { imagePreprocessingSchema, type ImagePreprocessing } from '@edgeloop/protocol';

/** The reference family's preprocessing (models/sample/edgeloop-distance.meta.json). */
export const REFERENCE_PREPROCESSING: ImagePreprocessing = imagePreprocessingSchema.parse({
  kind: 'image',
  input: 'image',
  width: 64,
  height: 48,
  layout: 'NCHW',
  colorOrder: 'RGB',
  resize: 'fill',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
});

/** What meta.json says for a trained reference model: how the registry and agents feed and read it. */
export const REFERENCE_META = {
  preprocessing: REFERENCE_PREPROCESSING,
  postprocessing: { kind: 'regression', output: 'distance', unit: 'mm' },
} as const;

export interface DecodedImage {
  /** Interleaved 8-bit RGB, width × height pixels (what the monitoring features are computed on). */
  readonly rgb: Uint8Array;
  /** The model input for one image, NCHW, channel-major. */
  readonly tensor: Float32Array;
}

/**
 * One image through the reference preprocessing. Only what the reference meta uses is
 * supported (fill, no crop, RGB, NCHW); the arithmetic is the agent's, term for term.
 */
export async function decodeImage(
  bytes: Uint8Array,
  spec: ImagePreprocessing = REFERENCE_PREPROCESSING,
): Promise<DecodedImage> {
  if (spec.crop !== undefined || spec.colorOrder !== 'RGB' || spec.layout !== 'NCHW') {
    throw new Error('the built-in trainer only preprocesses RGB, NCHW images without crop');
  }
  const [r, g, b] = spec.pad ?? [0, 0, 0];
  const raw = await sharp(bytes, { failOn: 'error', limitInputPixels: 50_000_000 })
    .removeAlpha()
    .toColourspace('srgb')
    .resize(spec.width, spec.height, { fit: spec.resize, background: { r: r!, g: g!, b: b! } })
    .raw()
    .toBuffer();
  const pixels = spec.width * spec.height;
  if (raw.length !== pixels * 3) throw new Error(`image decoded to ${raw.length} bytes, expected ${pixels * 3} (RGB)`);
  const tensor = new Float32Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const scale = spec.scale,
      mean = spec.mean[c]!,
      std = spec.std[c]!;
    const base = c * pixels;
    for (let p = 0; p < pixels; p++) tensor[base + p] = (raw[p * 3 + c]! * scale - mean) / std;
  }
  return { rgb: new Uint8Array(raw.buffer, raw.byteOffset, raw.length), tensor };
}
