/**
 * @module console/client/try-model/canvas
 * The browser's half of image preprocessing: decoding a dropped file to RGBA pixels, and the
 * resampler preprocess.ts calls when the image is not already the size a resize step asks for.
 *
 * Decoding: createImageBitmap converts to sRGB, as the agent's toColourspace('srgb') does, and is
 * asked not to premultiply alpha. Two known differences from the agent remain: the browser applies
 * a JPEG's EXIF orientation (sharp, as the agent calls it, does not), and a canvas stores
 * premultiplied colour, so pixels that are nearly transparent come back with rounded RGB (the agent
 * keeps the stored colour of every pixel). Opaque images decode alike.
 *
 * Resampling: drawImage with imageSmoothingQuality "high". sharp resizes with lanczos3, so a
 * resampled tensor is close to the agent's, not equal; an image at the model's size is never
 * resampled and matches exactly.
 */
import type { RgbaImage, RgbImage } from './preprocess.js';

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function canvas(width: number, height: number): { ctx: Canvas2D } {
  if (typeof OffscreenCanvas !== 'undefined') {
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (ctx) return { ctx };
  }
  const element = document.createElement('canvas');
  element.width = width;
  element.height = height;
  const ctx = element.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas; the model cannot be tried here');
  return { ctx };
}

/** Most pixels a dropped image may have (the agent refuses larger images too). */
export const MAX_PIXELS = 50_000_000;

/** Decodes an image file (PNG, JPEG, WebP, …) to RGBA pixels at its own size. */
export async function decodeImage(file: Blob): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'default', premultiplyAlpha: 'none' });
  } catch (err) {
    throw new Error(`the file is not an image this browser can decode (${(err as Error).message}); use a PNG or JPEG`, {
      cause: err,
    });
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_PIXELS)
      throw new Error(`the image is ${width}×${height}, more than ${MAX_PIXELS / 1e6} megapixels; use a smaller one`);
    const { ctx } = canvas(width, height);
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

/** RGB pixels → RGBA with full opacity, the form a canvas takes. */
function toRgba(image: RgbImage): ImageData {
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let p = 0, q = 0; q < image.data.length; p += 4, q += 3) {
    rgba[p] = image.data[q]!;
    rgba[p + 1] = image.data[q + 1]!;
    rgba[p + 2] = image.data[q + 2]!;
    rgba[p + 3] = 255;
  }
  return new ImageData(rgba, image.width, image.height);
}

/** Resamples with the canvas's high-quality smoothing (close to, not equal to, sharp's lanczos3). */
export function canvasResampler(image: RgbImage, width: number, height: number): RgbImage {
  const source = canvas(image.width, image.height);
  source.ctx.putImageData(toRgba(image), 0, 0);
  const target = canvas(width, height);
  target.ctx.imageSmoothingEnabled = true;
  target.ctx.imageSmoothingQuality = 'high';
  target.ctx.drawImage(source.ctx.canvas, 0, 0, width, height);
  const { data } = target.ctx.getImageData(0, 0, width, height);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < data.length; p += 4, q += 3) {
    rgb[q] = data[p]!;
    rgb[q + 1] = data[p + 1]!;
    rgb[q + 2] = data[p + 2]!;
  }
  return { width, height, data: rgb };
}
