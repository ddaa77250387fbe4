import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imagePreprocessingSchema } from '@edgeloop/protocol';
import { imageToTensor, type InputError } from './image-input.js';

// A 2x1 image: left pixel pure red, right pixel pure blue.
const redBlue = () => sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } }).png().toBuffer();
const spec = (o: Record<string, unknown>) => imagePreprocessingSchema.parse({ kind: 'image', input: 'x', width: 2, height: 1, resize: 'fill', ...o });

test('NCHW keeps channel planes, NHWC interleaves, BGR swaps channels', async () => {
  const png = await redBlue();
  const nchw = await imageToTensor(png, spec({ layout: 'NCHW', scale: 1 }));
  assert.deepEqual(nchw.shape, [1, 3, 1, 2]);
  assert.deepEqual([...nchw.data], [255, 0, 0, 0, 0, 255]);
  const nhwc = await imageToTensor(png, spec({ layout: 'NHWC', scale: 1 }));
  assert.deepEqual(nhwc.shape, [1, 1, 2, 3]);
  assert.deepEqual([...nhwc.data], [255, 0, 0, 0, 0, 255]);
  const bgr = await imageToTensor(png, spec({ layout: 'NHWC', colorOrder: 'BGR', scale: 1 }));
  assert.deepEqual([...bgr.data], [0, 0, 255, 255, 0, 0]);
});

test('scale, mean and std normalise per channel; features describe the image', async () => {
  const t = await imageToTensor(await redBlue(), spec({ scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 2] }));
  assert.deepEqual([...t.data].map((v) => +v.toFixed(4)), [1, -1, 0, 0, 0, 0.5]);
  assert.equal(t.features.mean_r, 0.5);
  assert.equal(t.features.mean_b, 0.5);
  assert.ok(Math.abs(t.features.brightness! - (0.299 * 0.5 + 0.114 * 0.5)) < 1e-9);
});

test('bytes that are not an image are refused with 415', async () => {
  await assert.rejects(imageToTensor(Buffer.from('hello'), spec({})), (e: InputError) => e.status === 415 && /not a decodable image/.test(e.message));
});
