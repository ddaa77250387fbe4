/**
 * The built-in trainer decodes its training images exactly as the agent decodes the images it
 * serves: same tensor bit for bit, same monitoring features, for JPEG and PNG of odd sizes and
 * alpha. A mismatch here would make a model's field error differ from its holdout error for no
 * reason anyone could see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageToTensor } from '@edgeloop/agent/testing';
import { IMAGE_FEATURES, imageFeatures } from '@edgeloop/protocol';
import { REFERENCE_PREPROCESSING, decodeImage } from '@edgeloop/models/trainer';

/** A deterministic gradient with texture, so resizing has something to interpolate. */
function pattern(width: number, height: number, channels: 3 | 4): Buffer {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      raw[i] = (x * 7 + y * 3) & 255;
      raw[i + 1] = (x * y) & 255;
      raw[i + 2] = ((x ^ y) * 5) & 255;
      if (channels === 4) raw[i + 3] = 128 + (x & 127);
    }
  }
  return raw;
}

test('trainer and agent turn the same bytes into the same tensor and features', async () => {
  const images = [
    await sharp(pattern(640, 480, 3), { raw: { width: 640, height: 480, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer(),
    await sharp(pattern(333, 177, 4), { raw: { width: 333, height: 177, channels: 4 } })
      .png()
      .toBuffer(),
    await sharp(pattern(64, 48, 3), { raw: { width: 64, height: 48, channels: 3 } })
      .png()
      .toBuffer(),
  ];
  for (const [n, bytes] of images.entries()) {
    const served = await imageToTensor(bytes, REFERENCE_PREPROCESSING);
    const trained = await decodeImage(bytes, REFERENCE_PREPROCESSING);
    assert.deepEqual(served.shape, [1, 3, 48, 64]);
    assert.ok(Buffer.from(served.data.buffer).equals(Buffer.from(trained.tensor.buffer)), `image ${n}: tensors differ`);
    assert.deepEqual(
      imageFeatures(trained.rgb, 64, 48, IMAGE_FEATURES),
      served.features,
      `image ${n}: features differ`,
    );
  }
});

test("the gate's evaluator turns the same bytes into the agent's tensor, for every preprocessing a manifest can declare", async () => {
  const { imageInto, itemLength } = await import('@edgeloop/models/evaluate');
  const image = await sharp(pattern(333, 177, 4), { raw: { width: 333, height: 177, channels: 4 } })
    .png()
    .toBuffer();
  const specs = [
    REFERENCE_PREPROCESSING,
    { ...REFERENCE_PREPROCESSING, crop: 0.8 },
    { ...REFERENCE_PREPROCESSING, resize: 'contain' as const, pad: [10, 20, 30] },
    {
      ...REFERENCE_PREPROCESSING,
      resize: 'cover' as const,
      colorOrder: 'GRAY' as const,
      mean: [0.5, 0, 0],
      std: [0.25, 1, 1],
    },
    { ...REFERENCE_PREPROCESSING, colorOrder: 'BGR' as const, layout: 'NHWC' as const },
  ];
  for (const spec of specs) {
    const agent = await imageToTensor(image, spec);
    const out = new Float32Array(itemLength(spec));
    await imageInto(image, spec, out, 0);
    assert.deepEqual(out, agent.data, JSON.stringify(spec));
  }
});
