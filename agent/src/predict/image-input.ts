/**
 * @module predict/image-input
 * Turns an encoded image (JPEG/PNG/…) into the input tensor the manifest's preprocessing
 * declares, and computes the configured monitoring features (protocol's image-features.ts) from the
 * same decoded pixels.
 */
import sharp from 'sharp';
import {
  IMAGE_FEATURES,
  LUMA,
  imageFeatures,
  imageTensorShape,
  type ImageFeature,
  type ImagePreprocessing,
} from '@edgeloop/protocol';

export class InputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 413 | 415 | 422 = 400,
  ) {
    super(message);
  }
}

export interface ImageTensor {
  data: Float32Array;
  shape: number[];
  features: Record<string, number>;
}

const FIT: Record<ImagePreprocessing['resize'], 'fill' | 'cover' | 'contain'> = {
  fill: 'fill',
  cover: 'cover',
  contain: 'contain',
};

export async function imageToTensor(
  body: Uint8Array,
  spec: ImagePreprocessing,
  features: readonly ImageFeature[] = IMAGE_FEATURES,
): Promise<ImageTensor> {
  let raw: Buffer;
  try {
    let pipeline = sharp(body, { failOn: 'error', limitInputPixels: 50_000_000 }).removeAlpha().toColourspace('srgb');
    if (spec.crop !== undefined && spec.crop < 1) {
      // Resize to the size the crop is taken from, then keep its centre (sharp: extract after resize).
      const w = Math.round(spec.width / spec.crop),
        h = Math.round(spec.height / spec.crop);
      pipeline = pipeline.resize(w, h, { fit: FIT[spec.resize] }).extract({
        left: Math.floor((w - spec.width) / 2),
        top: Math.floor((h - spec.height) / 2),
        width: spec.width,
        height: spec.height,
      });
    } else {
      const [r, g, b] = spec.pad ?? [0, 0, 0];
      pipeline = pipeline.resize(spec.width, spec.height, {
        fit: FIT[spec.resize],
        background: { r: r!, g: g!, b: b! },
      });
    }
    raw = await pipeline.raw().toBuffer();
  } catch (err) {
    throw new InputError(`body is not a decodable image: ${(err as Error).message}`, 415);
  }
  const pixels = spec.width * spec.height;
  if (raw.length !== pixels * 3)
    throw new InputError(`image decoded to ${raw.length} bytes, expected ${pixels * 3} (RGB)`, 422);

  const shape = imageTensorShape(spec);
  const channels = spec.colorOrder === 'GRAY' ? 1 : 3;
  const data = new Float32Array(pixels * channels);
  const nchw = spec.layout === 'NCHW';
  if (channels === 1) {
    // Rec. 601 luma on the 8-bit sRGB values, as the brightness feature (protocol's image-features.ts).
    const scale = spec.scale,
      mean = spec.mean[0]!,
      std = spec.std[0]!;
    for (let p = 0; p < pixels; p++)
      data[p] = ((LUMA.r * raw[p * 3]! + LUMA.g * raw[p * 3 + 1]! + LUMA.b * raw[p * 3 + 2]!) * scale - mean) / std;
  } else {
    for (let c = 0; c < 3; c++) {
      // Tensor channel c reads source channel src (BGR swaps R and B).
      const src = spec.colorOrder === 'BGR' ? 2 - c : c;
      const scale = spec.scale,
        mean = spec.mean[c]!,
        std = spec.std[c]!;
      const base = nchw ? c * pixels : c;
      const stride = nchw ? 1 : 3;
      for (let p = 0; p < pixels; p++) data[base + p * stride] = (raw[p * 3 + src]! * scale - mean) / std;
    }
  }
  return { data, shape, features: imageFeatures(raw, spec.width, spec.height, features) };
}
