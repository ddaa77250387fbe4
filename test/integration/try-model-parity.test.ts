import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageToTensor } from '@edgeloop/agent/testing';
import { imagePreprocessingSchema, type ImagePreprocessing } from '@edgeloop/protocol';
import { mulberry32 } from '@edgeloop/simulator';
import {
  planResize,
  preprocess,
  type RgbImage,
  type RgbaImage,
} from '../../fleet-server/src/console/client/try-model/preprocess.js';

/** A noisy RGB(A) test image, seeded, encoded as PNG: every pixel differs, so any misplacement shows. */
async function noisePng(width: number, height: number, seed: number, alpha = false): Promise<Buffer> {
  const rand = mulberry32(seed);
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = alpha && i % 4 === 3 ? (rand() < 0.5 ? 0 : 77) : (rand() * 256) | 0;
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

/** What the page hands preprocess(): the decoded pixels as RGBA (a canvas's ImageData). */
async function decodeRgba(png: Buffer): Promise<RgbaImage> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'tensor lengths');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const spec = (over: Partial<ImagePreprocessing>): ImagePreprocessing =>
  imagePreprocessingSchema.parse({ kind: 'image', input: 'image', width: 64, height: 48, ...over });

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

// Each variant with the image size at which no step resamples (so the tensors must be equal).
const VARIANTS: { name: string; spec: ImagePreprocessing; image: [number, number]; alpha?: boolean }[] = [
  { name: 'NCHW RGB, 0..1 (the sample models)', spec: spec({}), image: [64, 48] },
  {
    name: 'NHWC BGR, ImageNet mean/std',
    spec: spec({ layout: 'NHWC', colorOrder: 'BGR', ...IMAGENET }),
    image: [64, 48],
  },
  { name: 'NCHW BGR, scale 1', spec: spec({ colorOrder: 'BGR', scale: 1 }), image: [64, 48] },
  {
    name: 'NCHW GRAY, mean/std',
    spec: spec({ colorOrder: 'GRAY', mean: [0.5, 0, 0], std: [0.25, 1, 1] }),
    image: [64, 48],
  },
  { name: 'NHWC GRAY', spec: spec({ layout: 'NHWC', colorOrder: 'GRAY', width: 28, height: 28 }), image: [28, 28] },
  {
    name: 'NHWC RGB from an RGBA PNG (alpha dropped, colour kept)',
    spec: spec({ layout: 'NHWC' }),
    image: [64, 48],
    alpha: true,
  },
  // cover at scale 1: the centre rows are kept (sharp's offset (60 − 48 + 1) / 2 = 6).
  { name: 'cover, taller image: centre crop', spec: spec({ resize: 'cover' }), image: [64, 60] },
  { name: 'cover, wider image: centre crop', spec: spec({ resize: 'cover', colorOrder: 'BGR' }), image: [81, 48] },
  // contain at scale 1: letterbox bars above and below in the pad colour.
  {
    name: 'contain with pad [114, 114, 114]',
    spec: spec({ resize: 'contain', pad: [114, 114, 114] }),
    image: [64, 41],
  },
  { name: 'contain, narrower image, black bars', spec: spec({ resize: 'contain', layout: 'NHWC' }), image: [37, 48] },
  // crop 0.875: resize to round(64 / 0.875) × round(48 / 0.875) = 73 × 55, keep the centre 64 × 48.
  { name: 'centre crop 0.875 (timm crop_pct)', spec: spec({ crop: 0.875, ...IMAGENET }), image: [73, 55] },
  {
    name: 'centre crop 0.875 with cover',
    spec: spec({ crop: 0.875, resize: 'cover', colorOrder: 'GRAY' }),
    image: [73, 55],
  },
];

for (const [i, v] of VARIANTS.entries()) {
  test(`browser preprocessing equals the agent's without resampling: ${v.name}`, async () => {
    const png = await noisePng(v.image[0], v.image[1], 100 + i, v.alpha);
    const agent = await imageToTensor(png, v.spec);
    const browser = await preprocess(await decodeRgba(png), v.spec);
    assert.equal(browser.resampled, false, 'nothing resampled');
    assert.deepEqual(browser.dims, agent.shape);
    const diff = maxAbsDiff(browser.data, agent.data);
    assert.ok(diff <= 1e-6, `max abs diff ${diff}`);
    assert.deepEqual(browser.features, agent.features, 'the monitoring features too');
  });
}

/** sharp's lanczos3 as the Resampler: with it, only the geometry can differ from the agent's. */
async function sharpResampler(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data) };
}

test('resized images: the resize plan matches sharp (fit, crop offsets, letterbox position)', async () => {
  const cases: { spec: ImagePreprocessing; image: [number, number] }[] = [
    { spec: spec({}), image: [160, 120] },
    { spec: spec({ resize: 'cover' }), image: [100, 60] },
    { spec: spec({ resize: 'cover' }), image: [70, 110] },
    { spec: spec({ resize: 'contain', pad: [114, 114, 114] }), image: [100, 60] },
    { spec: spec({ resize: 'contain' }), image: [64, 100] },
    { spec: spec({ crop: 0.875 }), image: [160, 120] },
    { spec: spec({ crop: 0.875, resize: 'cover' }), image: [200, 100] },
  ];
  for (const [i, c] of cases.entries()) {
    // A smooth image: resampling then hardly depends on the filter's phase, so any offset error shows.
    const [w, h] = c.image;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        raw[(y * w + x) * 3] = Math.round((255 * x) / (w - 1));
        raw[(y * w + x) * 3 + 1] = Math.round((255 * y) / (h - 1));
        raw[(y * w + x) * 3 + 2] = 128;
      }
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    const agent = await imageToTensor(png, c.spec);
    const browser = await preprocess(await decodeRgba(png), c.spec, { resample: sharpResampler });
    assert.equal(browser.resampled, true, `case ${i} resampled`);
    const diff = maxAbsDiff(browser.data, agent.data);
    // One 8-bit step of a ramp is 1/255 ≈ 0.004; a pixel of offset would be several.
    assert.ok(
      diff <= 2.5 / 255,
      `case ${i} (${c.spec.resize} ${w}×${h}${c.spec.crop ? ` crop ${c.spec.crop}` : ''}): max abs diff ${diff}`,
    );
  }
});

test('the resize plan: fill stretches, cover scales up and centres, contain scales down and centres', () => {
  assert.deepEqual(planResize(160, 120, 64, 48, 'fill'), { scaledWidth: 64, scaledHeight: 48 });
  assert.deepEqual(planResize(100, 60, 64, 48, 'cover'), {
    scaledWidth: 80,
    scaledHeight: 48,
    crop: { left: 8, top: 0 },
  });
  assert.deepEqual(planResize(100, 60, 64, 48, 'contain'), {
    scaledWidth: 64,
    scaledHeight: 38,
    embed: { left: 0, top: 5 },
  });
  assert.deepEqual(planResize(64, 100, 64, 48, 'contain'), {
    scaledWidth: 31,
    scaledHeight: 48,
    embed: { left: 16, top: 0 },
  });
  assert.deepEqual(planResize(64, 48, 64, 48, 'contain'), { scaledWidth: 64, scaledHeight: 48 });
});

test('an image that must be resized without a resampler is refused with what to pass', async () => {
  const png = await noisePng(80, 60, 7);
  await assert.rejects(
    preprocess(await decodeRgba(png), spec({})),
    /is 80×60 and must be resampled to 64×48; pass a Resampler/,
  );
});
