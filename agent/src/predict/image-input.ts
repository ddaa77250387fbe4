/**
 * @module predict/image-input
 * Turns an encoded image (JPEG/PNG/…) into the input tensor the manifest's preprocessing
 * declares, and computes the configured monitoring features (predict/image-features.ts) from the
 * same decoded pixels.
 */
import sharp from 'sharp';
import type { ImagePreprocessing } from '@edgeloop/protocol';
import { IMAGE_FEATURES, imageFeatures, type ImageFeature } from './image-features.js';

export class InputError extends Error {
  constructor(message: string, readonly status: 400 | 404 | 413 | 415 | 422 = 400) {
    super(message);
  }
}

export interface ImageTensor {
  data: Float32Array;
  shape: number[];
  features: Record<string, number>;
}

const FIT: Record<ImagePreprocessing['resize'], 'fill' | 'cover' | 'contain'> = { fill: 'fill', cover: 'cover', contain: 'contain' };

export async function imageToTensor(body: Uint8Array, spec: ImagePreprocessing, features: readonly ImageFeature[] = IMAGE_FEATURES): Promise<ImageTensor> {
  let raw: Buffer;
  try {
    raw = await sharp(body, { failOn: 'error', limitInputPixels: 50_000_000 })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(spec.width, spec.height, { fit: FIT[spec.resize], background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new InputError(`body is not a decodable image: ${(err as Error).message}`, 415);
  }
  const pixels = spec.width * spec.height;
  if (raw.length !== pixels * 3) throw new InputError(`image decoded to ${raw.length} bytes, expected ${pixels * 3} (RGB)`, 422);

  const data = new Float32Array(pixels * 3);
  const nchw = spec.layout === 'NCHW';
  for (let c = 0; c < 3; c++) {
    // Tensor channel c reads source channel src (BGR swaps R and B).
    const src = spec.colorOrder === 'BGR' ? 2 - c : c;
    const scale = spec.scale, mean = spec.mean[c]!, std = spec.std[c]!;
    const base = nchw ? c * pixels : c;
    const stride = nchw ? 1 : 3;
    for (let p = 0; p < pixels; p++) data[base + p * stride] = (raw[p * 3 + src]! * scale - mean) / std;
  }
  const shape = nchw ? [1, 3, spec.height, spec.width] : [1, spec.height, spec.width, 3];
  return { data, shape, features: imageFeatures(raw, spec.width, spec.height, features) };
}
