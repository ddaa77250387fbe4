/**
 * @module predict/image-input
 * Turns an encoded image (JPEG/PNG/…) into the input tensor the manifest's preprocessing
 * declares, and computes cheap monitoring features from the same decoded pixels.
 */
import sharp from 'sharp';
import type { ImagePreprocessing } from '@edgeloop/protocol';

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

export async function imageToTensor(body: Uint8Array, spec: ImagePreprocessing): Promise<ImageTensor> {
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
  const order = spec.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const sums = [0, 0, 0];
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      const src = raw[p * 3 + order[c]!]!;
      sums[order[c]!]! += src;
      const value = (src * spec.scale - spec.mean[c]!) / spec.std[c]!;
      data[spec.layout === 'NCHW' ? c * pixels + p : p * 3 + c] = value;
    }
  }
  const [r, g, b] = sums.map((s) => s / pixels / 255) as [number, number, number];
  const features = { mean_r: r, mean_g: g, mean_b: b, brightness: 0.299 * r + 0.587 * g + 0.114 * b };
  const shape = spec.layout === 'NCHW' ? [1, 3, spec.height, spec.width] : [1, spec.height, spec.width, 3];
  return { data, shape, features };
}
