/**
 * @module image-features
 * Monitoring features of an input image, computed on the pixels preprocessing already decoded
 * and resized (so they cost one or two passes over a small image, never a second decode). They
 * travel with every record and are what drift detection looks at: a camera that got dirty, dark,
 * washed out or out of focus shows up here before it shows up in the error.
 *
 * Definitions (all on 8-bit sRGB values divided by 255, so every feature is on a 0..1 scale
 * except sharpness):
 *   mean_rgb    mean_r, mean_g, mean_b: the mean of each channel
 *   brightness  mean luma, Y = 0.299 R + 0.587 G + 0.114 B (Rec. 601 weights, on gamma-encoded values)
 *   saturation  mean HSV saturation, (max - min) / max per pixel, 0 for black pixels
 *   contrast    RMS contrast: population standard deviation of luma
 *   sharpness   variance of the 4-neighbour Laplacian [0 1 0; 1 -4 1; 0 1 0] of luma over the
 *               interior pixels (no border padding; 0 for images under 3×3). Range 0..16; it
 *               depends on the model's input size, so compare it only within one model.
 */

export const IMAGE_FEATURES = ['mean_rgb', 'brightness', 'saturation', 'contrast', 'sharpness'] as const;
export type ImageFeature = (typeof IMAGE_FEATURES)[number];

/** Rec. 601 luma weights: brightness here, and the one channel of GRAY preprocessing. */
export const LUMA = { r: 0.299, g: 0.587, b: 0.114 } as const;
// Luma weights pre-divided by 255: a multiply per channel instead of a division per pixel.
const KR = LUMA.r / 255;
const KG = LUMA.g / 255;
const KB = LUMA.b / 255;
/** 1 / max for the saturation of an 8-bit pixel (0 for black, whose saturation is 0). */
const INVERSE = Float64Array.from({ length: 256 }, (_, v) => (v === 0 ? 0 : 1 / v));

/** The luma plane, reused across calls (they are synchronous) instead of allocated per image. */
let scratch = new Float64Array(0);

/**
 * `rgb` is interleaved 8-bit RGB, `width × height` pixels. Only the features asked for are
 * computed, each in as few passes as it allows: channel sums (+ saturation) in one, luma and its
 * spread in a second (only for contrast or sharpness), the Laplacian in a third (sharpness).
 */
export function imageFeatures(
  rgb: Uint8Array,
  width: number,
  height: number,
  wanted: readonly ImageFeature[],
): Record<string, number> {
  const pixels = width * height;
  const features: Record<string, number> = {};
  if (pixels === 0 || wanted.length === 0) return features;
  const want = new Set(wanted);

  let sumR = 0,
    sumG = 0,
    sumB = 0,
    sumSat = 0;
  if (want.has('saturation')) {
    for (let i = 0; i < pixels * 3; i += 3) {
      const r = rgb[i]!,
        g = rgb[i + 1]!,
        b = rgb[i + 2]!;
      const max = Math.max(r, g, b);
      sumSat += (max - Math.min(r, g, b)) * INVERSE[max]!;
      sumR += r;
      sumG += g;
      sumB += b;
    }
    features.saturation = sumSat / pixels;
  } else {
    for (let i = 0; i < pixels * 3; i += 3) {
      sumR += rgb[i]!;
      sumG += rgb[i + 1]!;
      sumB += rgb[i + 2]!;
    }
  }
  const meanR = sumR / pixels / 255,
    meanG = sumG / pixels / 255,
    meanB = sumB / pixels / 255;
  if (want.has('mean_rgb')) Object.assign(features, { mean_r: meanR, mean_g: meanG, mean_b: meanB });
  // Luma is linear in R, G, B, so its mean follows from the channel means.
  if (want.has('brightness')) features.brightness = 0.299 * meanR + 0.587 * meanG + 0.114 * meanB;

  if (want.has('contrast') || want.has('sharpness')) {
    if (scratch.length < pixels) scratch = new Float64Array(pixels);
    const luma = scratch;
    // Sums of deviations from the first pixel (shifted data): one pass, and no cancellation on
    // near-flat images, where the variance is tiny next to the squared mean.
    const shift = rgb[0]! * KR + rgb[1]! * KG + rgb[2]! * KB;
    let sum = 0,
      sq = 0;
    for (let p = 0, i = 0; p < pixels; p++, i += 3) {
      const y = rgb[i]! * KR + rgb[i + 1]! * KG + rgb[i + 2]! * KB;
      luma[p] = y;
      const d = y - shift;
      sum += d;
      sq += d * d;
    }
    if (want.has('contrast')) features.contrast = Math.sqrt(Math.max(0, (sq - (sum * sum) / pixels) / pixels));
    if (want.has('sharpness')) features.sharpness = laplacianVariance(luma, width, height);
  }
  return features;
}

/** Variance of the 4-neighbour Laplacian over interior pixels: high for crisp edges, 0 for a flat image. */
function laplacianVariance(luma: Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0,
    sq = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1, i = y * width + 1; x < width - 1; x++, i++) {
      const l = luma[i - 1]! + luma[i + 1]! + luma[i - width]! + luma[i + width]! - 4 * luma[i]!;
      sum += l;
      sq += l * l;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return Math.max(0, sq / n - mean * mean);
}
