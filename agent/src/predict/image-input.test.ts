import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imagePreprocessingSchema } from '@edgeloop/protocol';
import { imageToTensor, type InputError } from './image-input.js';

// A 2x1 image: left pixel pure red, right pixel pure blue.
const redBlue = () =>
  sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
    .png()
    .toBuffer();
const spec = (o: Record<string, unknown>) =>
  imagePreprocessingSchema.parse({ kind: 'image', input: 'x', width: 2, height: 1, resize: 'fill', ...o });

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
  assert.deepEqual(
    [...t.data].map((v) => +v.toFixed(4)),
    [1, -1, 0, 0, 0, 0.5],
  );
  assert.equal(t.features.mean_r, 0.5);
  assert.equal(t.features.mean_b, 0.5);
  assert.ok(Math.abs(t.features.brightness! - (0.299 * 0.5 + 0.114 * 0.5)) < 1e-9);
});

test('bytes that are not an image are refused with 415', async () => {
  await assert.rejects(
    imageToTensor(Buffer.from('hello'), spec({})),
    (e: InputError) => e.status === 415 && /not a decodable image/.test(e.message),
  );
});

test('GRAY feeds one channel of Rec. 601 luma, in either layout', async () => {
  const png = await redBlue();
  const nchw = await imageToTensor(png, spec({ colorOrder: 'GRAY', scale: 1 }));
  assert.deepEqual(nchw.shape, [1, 1, 1, 2]);
  assert.deepEqual(
    [...nchw.data].map((v) => +v.toFixed(3)),
    [0.299 * 255, 0.114 * 255].map((v) => +v.toFixed(3)),
  );
  const nhwc = await imageToTensor(
    png,
    spec({ colorOrder: 'GRAY', layout: 'NHWC', scale: 1 / 255, mean: [0.1, 9, 9], std: [0.5, 9, 9] }),
  );
  assert.deepEqual(nhwc.shape, [1, 1, 2, 1]);
  assert.deepEqual(
    [...nhwc.data].map((v) => +v.toFixed(4)),
    [+((0.299 - 0.1) / 0.5).toFixed(4), +((0.114 - 0.1) / 0.5).toFixed(4)],
  );
});

test('crop keeps the centre after resizing to size/crop; contain pads with the given colour', async () => {
  // 8×8: a 4×4 white centre on black. crop 0.5 to 4×4 keeps exactly the white centre.
  const square = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([
      {
        input: { create: { width: 4, height: 4, channels: 3, background: { r: 255, g: 255, b: 255 } } },
        left: 2,
        top: 2,
      },
    ])
    .png()
    .toBuffer();
  const cropped = await imageToTensor(square, spec({ width: 4, height: 4, crop: 0.5, scale: 1 }));
  assert.ok(
    [...cropped.data].every((v) => v === 255),
    'only the white centre is left',
  );
  const whole = await imageToTensor(square, spec({ width: 4, height: 4, scale: 1 }));
  assert.ok(
    [...whole.data].some((v) => v < 128),
    'without crop the black border is still there',
  );
  // A 2×1 image letterboxed into 2×2: one row of image, one row of padding.
  const boxed = await imageToTensor(
    await redBlue(),
    spec({ width: 2, height: 2, resize: 'contain', pad: [114, 114, 114], layout: 'NHWC', scale: 1 }),
  );
  const pixels = [0, 1, 2, 3].map((p) => [...boxed.data.slice(p * 3, p * 3 + 3)]);
  assert.equal(
    pixels.filter((px) => px.every((v) => v === 114)).length,
    2,
    `two padding pixels of 114 in ${JSON.stringify(pixels)}`,
  );
});

test('crop and pad that cannot mean anything are refused when the manifest is read', () => {
  const issues = (o: object) =>
    JSON.stringify(
      imagePreprocessingSchema.safeParse({ kind: 'image', input: 'x', width: 2, height: 2, ...o }).error?.issues ?? [],
    );
  assert.match(issues({ resize: 'contain', crop: 0.875 }), /crop does not go with resize \\"contain\\"/);
  assert.match(issues({ resize: 'fill', pad: [114, 114, 114] }), /pad colours the letterbox bars/);
  assert.match(issues({ resize: 'cover', crop: 0.01 }), /"crop"/);
  assert.equal(issues({ resize: 'cover', crop: 0.875 }), '[]');
});
