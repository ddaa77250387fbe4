/**
 * @module evaluate/image-tensor
 * An encoded image → the input tensor of one item, exactly as the agent makes it when it serves
 * the model (agent's predict/image-input.ts): the same sharp pipeline and options (centre crop,
 * letterbox padding, fill/cover/contain), the same channel order, layout and per-pixel arithmetic.
 * All the preprocessing options a manifest can declare are covered, not only the reference
 * family's, so any registered image model is judged on what a device would feed it.
 */
import sharp from 'sharp';
import { LUMA, type ImagePreprocessing } from '@edgeloop/protocol';

/** An image that does not decode, or decodes to the wrong size; the message says which. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

/** Values per item: channels × height × width. */
export function itemLength(spec: ImagePreprocessing): number {
  return (spec.colorOrder === 'GRAY' ? 1 : 3) * spec.width * spec.height;
}

/** One image's tensor values (no batch dimension), written into `out` at `offset`. */
export async function imageInto(
  bytes: Uint8Array,
  spec: ImagePreprocessing,
  out: Float32Array,
  offset: number,
): Promise<void> {
  let raw: Buffer;
  try {
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: 50_000_000 }).removeAlpha().toColourspace('srgb');
    if (spec.crop !== undefined && spec.crop < 1) {
      const w = Math.round(spec.width / spec.crop),
        h = Math.round(spec.height / spec.crop);
      pipeline = pipeline.resize(w, h, { fit: spec.resize }).extract({
        left: Math.floor((w - spec.width) / 2),
        top: Math.floor((h - spec.height) / 2),
        width: spec.width,
        height: spec.height,
      });
    } else {
      const [r, g, b] = spec.pad ?? [0, 0, 0];
      pipeline = pipeline.resize(spec.width, spec.height, { fit: spec.resize, background: { r: r!, g: g!, b: b! } });
    }
    raw = await pipeline.raw().toBuffer();
  } catch (err) {
    throw new ImageDecodeError(`not a decodable image: ${(err as Error).message}`);
  }
  const pixels = spec.width * spec.height;
  if (raw.length !== pixels * 3)
    throw new ImageDecodeError(`image decoded to ${raw.length} bytes, expected ${pixels * 3} (RGB)`);

  if (spec.colorOrder === 'GRAY') {
    const scale = spec.scale,
      mean = spec.mean[0]!,
      std = spec.std[0]!;
    for (let p = 0; p < pixels; p++)
      out[offset + p] =
        ((LUMA.r * raw[p * 3]! + LUMA.g * raw[p * 3 + 1]! + LUMA.b * raw[p * 3 + 2]!) * scale - mean) / std;
    return;
  }
  const nchw = spec.layout === 'NCHW';
  for (let c = 0; c < 3; c++) {
    // Tensor channel c reads source channel src (BGR swaps R and B).
    const src = spec.colorOrder === 'BGR' ? 2 - c : c;
    const scale = spec.scale,
      mean = spec.mean[c]!,
      std = spec.std[c]!;
    const base = offset + (nchw ? c * pixels : c);
    const stride = nchw ? 1 : 3;
    for (let p = 0; p < pixels; p++) out[base + p * stride] = (raw[p * 3 + src]! * scale - mean) / std;
  }
}
