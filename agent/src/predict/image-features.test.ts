import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imagePreprocessingSchema } from '@edgeloop/protocol';
import { IMAGE_FEATURES, imageFeatures } from '@edgeloop/protocol';
import { imageToTensor } from './image-input.js';

const ALL = IMAGE_FEATURES;
const close = (a: number | undefined, b: number, eps = 1e-9) =>
  assert.ok(a !== undefined && Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

/** Interleaved RGB from a per-pixel function. */
function image(width: number, height: number, px: (x: number, y: number) => [number, number, number]): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(px(x, y), (y * width + x) * 3);
  return rgb;
}

const checkerboard = (w: number, h: number) => image(w, h, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));

test('a flat grey image: brightness is its level, no saturation, no contrast, no sharpness', () => {
  const f = imageFeatures(
    image(8, 6, () => [100, 100, 100]),
    8,
    6,
    ALL,
  );
  close(f.mean_r, 100 / 255);
  close(f.brightness, 100 / 255);
  assert.equal(f.saturation, 0);
  close(f.contrast, 0, 1e-12);
  close(f.sharpness, 0, 1e-12);
});

test('a checkerboard is as sharp as it gets: Laplacian ±4 everywhere, variance 16; contrast 0.5', () => {
  const f = imageFeatures(checkerboard(8, 8), 8, 8, ALL);
  close(f.sharpness, 16, 1e-9);
  close(f.contrast, 0.5);
  close(f.brightness, 0.5);
  assert.equal(f.saturation, 0, 'black and white are grey');
});

test('grey images have zero saturation at any level; pure colours have one; black counts as zero', () => {
  assert.equal(
    imageFeatures(
      image(4, 4, (x) => [x * 60, x * 60, x * 60]),
      4,
      4,
      ['saturation'],
    ).saturation,
    0,
  );
  assert.equal(
    imageFeatures(
      image(2, 2, () => [255, 0, 0]),
      2,
      2,
      ['saturation'],
    ).saturation,
    1,
  );
  close(
    imageFeatures(
      image(2, 1, (x) => (x ? [0, 0, 200] : [0, 0, 0])),
      2,
      1,
      ['saturation'],
    ).saturation,
    0.5,
  );
  // (max - min) / max = (200 - 50) / 200 for every pixel.
  close(
    imageFeatures(
      image(3, 3, () => [200, 50, 120]),
      3,
      3,
      ['saturation'],
    ).saturation,
    0.75,
  );
});

test('images under 3×3 have no interior, so sharpness is 0', () => {
  assert.equal(imageFeatures(checkerboard(2, 5), 2, 5, ['sharpness']).sharpness, 0);
});

test('only the features asked for are computed', () => {
  assert.deepEqual(Object.keys(imageFeatures(checkerboard(4, 4), 4, 4, ['mean_rgb'])), ['mean_r', 'mean_g', 'mean_b']);
  assert.deepEqual(Object.keys(imageFeatures(checkerboard(4, 4), 4, 4, ['sharpness', 'brightness'])).sort(), [
    'brightness',
    'sharpness',
  ]);
  assert.deepEqual(imageFeatures(checkerboard(4, 4), 4, 4, []), {});
});

test('every feature matches a straightforward reference computation on a random image', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 256;
  const w = 13,
    h = 9;
  const rgb = image(w, h, () => [Math.floor(rand()), Math.floor(rand()), Math.floor(rand())]);
  const px = (x: number, y: number) =>
    [...rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)].map((v) => v / 255) as [number, number, number];

  // Reference: textbook formulas, written for clarity, not speed.
  const all: Array<[number, number, number]> = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) all.push(px(x, y));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = (xs: number[]) => mean(xs.map((v) => (v - mean(xs)) ** 2));
  const luma = ([r, g, b]: number[]) => 0.299 * r! + 0.587 * g! + 0.114 * b!;
  const hsvS = (p: number[]) => (Math.max(...p) === 0 ? 0 : (Math.max(...p) - Math.min(...p)) / Math.max(...p));
  const Y = (x: number, y: number) => luma(px(x, y));
  const lap: number[] = [];
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) lap.push(Y(x - 1, y) + Y(x + 1, y) + Y(x, y - 1) + Y(x, y + 1) - 4 * Y(x, y));

  const f = imageFeatures(rgb, w, h, ALL);
  close(f.mean_r, mean(all.map((p) => p[0])));
  close(f.mean_g, mean(all.map((p) => p[1])));
  close(f.mean_b, mean(all.map((p) => p[2])));
  close(f.brightness, mean(all.map(luma)));
  close(f.saturation, mean(all.map(hsvS)));
  close(f.contrast, Math.sqrt(variance(all.map(luma))));
  close(f.sharpness, variance(lap));
  assert.ok(f.sharpness! > 0.1 && f.contrast! > 0.1, 'noise is sharp and contrasty');
});

test('imageToTensor computes the configured features from the decoded, resized pixels', async () => {
  const spec = imagePreprocessingSchema.parse({ kind: 'image', input: 'x', width: 8, height: 8, resize: 'fill' });
  const png = await sharp(Buffer.from(checkerboard(8, 8)), { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toBuffer();
  const sharpImage = await imageToTensor(png, spec, ['sharpness', 'contrast']);
  assert.deepEqual(Object.keys(sharpImage.features).sort(), ['contrast', 'sharpness']);
  close(sharpImage.features.sharpness, 16, 1e-9);
  const flat = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .png()
    .toBuffer();
  const flatImage = await imageToTensor(flat, spec);
  assert.deepEqual(Object.keys(flatImage.features).sort(), [
    'brightness',
    'contrast',
    'mean_b',
    'mean_g',
    'mean_r',
    'saturation',
    'sharpness',
  ]);
  close(flatImage.features.sharpness, 0, 1e-12);
  assert.equal(flatImage.features.saturation, 0);
});
