/**
 * @module console/client/try-model/preprocess
 * A model version's image preprocessing, in the browser: decoded RGBA pixels in, the input tensor
 * out, in the same order of operations as the agent (agent/src/predict/image-input.ts, on sharp):
 * alpha dropped, resized to the declared size by the declared fit (or resized larger and
 * centre-cropped), then colour order, layout and normalisation. An image that already has the
 * size the resize step asks for is not resampled, so the tensor equals the agent's exactly; only
 * a real resize goes through the `Resampler` (a canvas in the page, see canvas.ts), whose filter
 * differs slightly from sharp's lanczos3.
 *
 * Browser-only TypeScript: no node:* imports, no DOM at import time (Node tests run it too).
 */
import type { ImagePreprocessing } from '@edgeloop/protocol/browser';
import { imageFeatures, IMAGE_FEATURES, LUMA, type ImageFeature } from '@edgeloop/protocol/image-features';

/** Decoded pixels as a canvas hands them out (`ImageData`): RGBA, 4 bytes per pixel, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** Interleaved 8-bit RGB, 3 bytes per pixel: what the agent's pipeline holds after removeAlpha(). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Resamples an RGB image to width × height (only called when the size really changes). */
export type Resampler = (image: RgbImage, width: number, height: number) => RgbImage | Promise<RgbImage>;

export interface PreprocessedImage {
  /** The model input, already normalised; NCHW or NHWC as declared. */
  data: Float32Array;
  dims: number[];
  /** The RGB pixels the tensor was made from (model size), e.g. to show what the model saw. */
  pixels: RgbImage;
  /** Monitoring features of those pixels, as the agent records them with every prediction. */
  features: Record<string, number>;
  /** Whether any step resampled (then the tensor is close to the agent's, not equal). */
  resampled: boolean;
}

type Fit = ImagePreprocessing['resize'];

/** One resize step of sharp's `resize(width, height, { fit })`, expressed as a plan. */
export interface ResizePlan {
  /** Size the whole source is scaled to (the source size itself means no resampling). */
  scaledWidth: number;
  scaledHeight: number;
  /** cover: the centre window kept from the scaled image. */
  crop?: { left: number; top: number };
  /** contain: where the scaled image sits on the width × height background. */
  embed?: { left: number; top: number };
}

/**
 * How sharp (libvips) fits a `sourceWidth × sourceHeight` image into `width × height`: fill
 * stretches; cover scales by the larger ratio and keeps the centre (sharp's CalculateCrop:
 * offset (scaled − out + 1) / 2, integer division); contain scales by the smaller ratio and
 * centres the image on the background (CalculateEmbedPosition: (out − scaled) / 2).
 */
export function planResize(
  sourceWidth: number,
  sourceHeight: number,
  width: number,
  height: number,
  fit: Fit,
): ResizePlan {
  if (fit === 'fill' || (sourceWidth === width && sourceHeight === height))
    return { scaledWidth: width, scaledHeight: height };
  const ratio =
    fit === 'cover'
      ? Math.max(width / sourceWidth, height / sourceHeight)
      : Math.min(width / sourceWidth, height / sourceHeight);
  const scaledWidth = Math.max(1, Math.round(sourceWidth * ratio));
  const scaledHeight = Math.max(1, Math.round(sourceHeight * ratio));
  if (fit === 'cover') {
    const w = Math.max(scaledWidth, width),
      h = Math.max(scaledHeight, height);
    return {
      scaledWidth: w,
      scaledHeight: h,
      crop: { left: Math.floor((w - width + 1) / 2), top: Math.floor((h - height + 1) / 2) },
    };
  }
  const w = Math.min(scaledWidth, width),
    h = Math.min(scaledHeight, height);
  return {
    scaledWidth: w,
    scaledHeight: h,
    embed: { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2) },
  };
}

/** Drops alpha as sharp's removeAlpha() does: the stored colour is kept, whatever the opacity. */
export function rgbaToRgb(image: RgbaImage): RgbImage {
  const { width, height, data } = image;
  if (data.length !== width * height * 4)
    throw new Error(
      `pixel data holds ${data.length} bytes, expected ${width * height * 4} for ${width}×${height} RGBA`,
    );
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < data.length; p += 4, q += 3) {
    rgb[q] = data[p]!;
    rgb[q + 1] = data[p + 1]!;
    rgb[q + 2] = data[p + 2]!;
  }
  return { width, height, data: rgb };
}

/** The width × height window at (left, top): sharp's extract(). */
export function extract(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  if (left < 0 || top < 0 || left + width > image.width || top + height > image.height)
    throw new Error(`cannot take ${width}×${height} at (${left}, ${top}) from a ${image.width}×${image.height} image`);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    out.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data: out };
}

/** The image placed at (left, top) on a width × height background of one colour: sharp's embed. */
export function embed(
  image: RgbImage,
  left: number,
  top: number,
  width: number,
  height: number,
  background: readonly number[],
): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    out[p * 3] = background[0]!;
    out[p * 3 + 1] = background[1]!;
    out[p * 3 + 2] = background[2]!;
  }
  for (let y = 0; y < image.height; y++) {
    const from = y * image.width * 3;
    out.set(image.data.subarray(from, from + image.width * 3), ((top + y) * width + left) * 3);
  }
  return { width, height, data: out };
}

async function resize(
  image: RgbImage,
  width: number,
  height: number,
  fit: Fit,
  background: readonly number[],
  resample: Resampler | undefined,
): Promise<{ image: RgbImage; resampled: boolean }> {
  const plan = planResize(image.width, image.height, width, height, fit);
  let resampled = false;
  let scaled = image;
  if (plan.scaledWidth !== image.width || plan.scaledHeight !== image.height) {
    if (!resample)
      throw new Error(
        `the image is ${image.width}×${image.height} and must be resampled to ${plan.scaledWidth}×${plan.scaledHeight}; pass a Resampler (canvas.ts)`,
      );
    scaled = await resample(image, plan.scaledWidth, plan.scaledHeight);
    resampled = true;
  }
  if (plan.crop) scaled = extract(scaled, plan.crop.left, plan.crop.top, width, height);
  if (plan.embed) scaled = embed(scaled, plan.embed.left, plan.embed.top, width, height, background);
  return { image: scaled, resampled };
}

/** The agent's geometry: resize (fit, letterbox colour) or resize larger then keep the centre. */
export async function toModelPixels(
  image: RgbImage,
  spec: ImagePreprocessing,
  resample?: Resampler,
): Promise<{ image: RgbImage; resampled: boolean }> {
  if (spec.crop !== undefined && spec.crop < 1) {
    // As the agent: resize to the size the crop is taken from, then keep its centre.
    const w = Math.round(spec.width / spec.crop),
      h = Math.round(spec.height / spec.crop);
    const sized = await resize(image, w, h, spec.resize, [0, 0, 0], resample);
    const left = Math.floor((w - spec.width) / 2),
      top = Math.floor((h - spec.height) / 2);
    return { image: extract(sized.image, left, top, spec.width, spec.height), resampled: sized.resampled };
  }
  return resize(image, spec.width, spec.height, spec.resize, spec.pad ?? [0, 0, 0], resample);
}

/**
 * Colour order, layout and normalisation of model-size RGB pixels, operation for operation as the
 * agent computes them (so the float32 values are identical): GRAY is the Rec. 601 luma of the
 * 8-bit values, BGR swaps the first and third channel, each value becomes (v · scale − mean) / std.
 */
export function pixelsToTensor(rgb: RgbImage, spec: ImagePreprocessing): { data: Float32Array; dims: number[] } {
  const { width, height } = spec;
  if (rgb.width !== width || rgb.height !== height)
    throw new Error(`pixels are ${rgb.width}×${rgb.height}, the model takes ${width}×${height}`);
  const raw = rgb.data;
  const pixels = width * height;
  const channels = spec.colorOrder === 'GRAY' ? 1 : 3;
  const nchw = spec.layout === 'NCHW';
  const dims = nchw ? [1, channels, height, width] : [1, height, width, channels];
  const data = new Float32Array(pixels * channels);
  if (channels === 1) {
    const scale = spec.scale,
      mean = spec.mean[0]!,
      std = spec.std[0]!;
    for (let p = 0; p < pixels; p++)
      data[p] = ((LUMA.r * raw[p * 3]! + LUMA.g * raw[p * 3 + 1]! + LUMA.b * raw[p * 3 + 2]!) * scale - mean) / std;
  } else {
    for (let c = 0; c < 3; c++) {
      const src = spec.colorOrder === 'BGR' ? 2 - c : c;
      const scale = spec.scale,
        mean = spec.mean[c]!,
        std = spec.std[c]!;
      const base = nchw ? c * pixels : c;
      const stride = nchw ? 1 : 3;
      for (let p = 0; p < pixels; p++) data[base + p * stride] = (raw[p * 3 + src]! * scale - mean) / std;
    }
  }
  return { data, dims };
}

/** Decoded RGBA pixels → the model's input tensor, its pixels and their monitoring features. */
export async function preprocess(
  image: RgbaImage,
  spec: ImagePreprocessing,
  options: { resample?: Resampler; features?: readonly ImageFeature[] } = {},
): Promise<PreprocessedImage> {
  const { image: pixels, resampled } = await toModelPixels(rgbaToRgb(image), spec, options.resample);
  const { data, dims } = pixelsToTensor(pixels, spec);
  const features = imageFeatures(pixels.data, pixels.width, pixels.height, options.features ?? IMAGE_FEATURES);
  return { data, dims, pixels, features, resampled };
}
