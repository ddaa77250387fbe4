/**
 * The evaluator scores the committed sample models as ONNX Runtime itself would on the tensors
 * the trainer (and so the agent) makes from the same images, groups items, and refuses a model
 * that does not load, an image that does not decode or a preprocessing that does not fit the
 * model with a message naming it. Runs the real command in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import type { SnapshotItem } from '@edgeloop/protocol';
import { SAMPLE_MODELS, buildReferenceModel } from '../index.js';
import { REFERENCE_PREPROCESSING, decodeImage } from '../train/preprocess.js';
import { writeSyntheticDataset } from '../train/test-dataset.js';
import { imageInto, itemLength } from './image-tensor.js';
import { EvaluatorError, runEvaluator } from './run-evaluator.js';

async function dataset(t: { after(fn: () => Promise<void>): void }, count = 40) {
  const dir = await mkdtemp(join(tmpdir(), 'edgeloop-evaluate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const items = await writeSyntheticDataset(dir, { count, seed: 7 });
  return { dir, items };
}

/** What ORT answers for one image at a time on the trainer's tensor of it. */
async function directPredictions(model: string, dir: string, items: readonly SnapshotItem[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const out: number[] = [];
    for (const item of items) {
      const { tensor } = await decodeImage(await readFile(join(dir, item.file)), REFERENCE_PREPROCESSING);
      const result = await session.run({ image: new ort.Tensor('float32', tensor, [1, 3, 48, 64]) });
      out.push(Number(result.distance!.data[0]));
    }
    return out;
  } finally {
    await session.release();
  }
}

function stats(pairs: Array<[number, number]>) {
  const errors = pairs.map(([p, l]) => p - l);
  const n = errors.length;
  return {
    count: n,
    mae: errors.reduce((a, e) => a + Math.abs(e), 0) / n,
    rmse: Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / n),
    bias: errors.reduce((a, e) => a + e, 0) / n,
  };
}

const near = (actual: number, expected: number, tol = 1e-3) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

test('the sample models score as ORT predicts on the trainer’s tensors, overall and per group', async (t) => {
  const { dir, items } = await dataset(t);
  const results = await runEvaluator(
    {
      models: {
        v1: { path: SAMPLE_MODELS.v1, preprocessing: REFERENCE_PREPROCESSING },
        v2: { path: SAMPLE_MODELS.v2, preprocessing: REFERENCE_PREPROCESSING, output: 'distance' },
      },
      items: items.map((i) => ({ path: i.file, label: i.label, group: i.split })),
      batchSize: 16,
      predictions: true,
    },
    { workDir: dir },
  );
  assert.deepEqual(Object.keys(results).sort(), ['v1', 'v2']);
  for (const version of ['v1', 'v2'] as const) {
    const r = results[version]!;
    const direct = await directPredictions(SAMPLE_MODELS[version], dir, items);
    assert.equal(r.predictions!.length, items.length);
    // Stacked batches may round differently from single runs in the last float32 bits, no more.
    r.predictions!.forEach((p, i) => near(p!, direct[i]!));
    const overall = stats(direct.map((p, i) => [p, items[i]!.label]));
    assert.equal(r.count, items.length);
    assert.equal(r.invalid, 0);
    near(r.mae, overall.mae);
    near(r.rmse, overall.rmse);
    near(r.bias, overall.bias);
    for (const split of ['train', 'validation', 'holdout'] as const) {
      const idx = items.flatMap((it, i) => (it.split === split ? [i] : []));
      if (idx.length === 0) continue;
      const expected = stats(idx.map((i) => [direct[i]!, items[i]!.label]));
      const got = r.groups[split]!;
      assert.equal(got.count, expected.count);
      near(got.mae, expected.mae);
      near(got.rmse, expected.rmse);
    }
  }
  // Two different models: the comparison is not of one model with itself.
  assert.notEqual(results.v1!.mae, results.v2!.mae);
});

test('a synthetic model with a known closed form scores as that form says', async (t) => {
  const { dir, items } = await dataset(t, 12);
  // bias + gain·mean(pixels) plus a few mm of seeded MLP: gain 0 reads ≈ 500 whatever the image.
  await writeFile(join(dir, 'constant.onnx'), buildReferenceModel({ seed: 3, bias: 500, gain: 0 }));
  const r = await runEvaluator(
    {
      models: { constant: { path: 'constant.onnx', preprocessing: REFERENCE_PREPROCESSING } },
      items: items.map((i) => ({ path: i.file, label: i.label })),
      predictions: true,
    },
    { workDir: dir },
  );
  const labelMean = items.reduce((a, i) => a + i.label, 0) / items.length;
  for (const p of r.constant!.predictions!) assert.ok(Math.abs(p! - 500) < 25, `prediction ${p} is not ≈ 500`);
  assert.ok(Math.abs(r.constant!.bias - (500 - labelMean)) < 25);
  assert.deepEqual(r.constant!.groups, {});
});

test('a model that does not load, a missing model and an undecodable image are refused by name', async (t) => {
  const { dir, items } = await dataset(t, 6);
  const base = items.map((i) => ({ path: i.file, label: i.label }));
  const good = { path: SAMPLE_MODELS.v1, preprocessing: REFERENCE_PREPROCESSING };
  await writeFile(join(dir, 'broken.onnx'), 'this is not a model');
  const refused = (pattern: RegExp) => (err: unknown) =>
    err instanceof EvaluatorError && err.reason === 'refused' && pattern.test(err.message);

  await assert.rejects(
    runEvaluator(
      { models: { good, bad: { path: 'broken.onnx', preprocessing: REFERENCE_PREPROCESSING } }, items: base },
      { workDir: dir },
    ),
    refused(/^model "bad" \(.*broken\.onnx\) does not load in ONNX Runtime: .*; it must be a valid \.onnx file$/),
  );
  await assert.rejects(
    runEvaluator(
      { models: { gone: { path: 'nowhere.onnx', preprocessing: REFERENCE_PREPROCESSING } }, items: base },
      { workDir: dir },
    ),
    refused(/model "gone": cannot read .*nowhere\.onnx \(ENOENT\)/),
  );
  await writeFile(join(dir, 'garbage.jpg'), 'not an image at all');
  await assert.rejects(
    runEvaluator(
      { models: { good }, items: [...base.slice(0, 2), { path: 'garbage.jpg', label: 1 }, ...base.slice(2)] },
      { workDir: dir },
    ),
    refused(/^item 3 \(garbage\.jpg\): not a decodable image: .*; remove it from the items or replace the file$/),
  );
  await assert.rejects(
    runEvaluator(
      {
        models: { small: { path: SAMPLE_MODELS.v1, preprocessing: { ...REFERENCE_PREPROCESSING, width: 32 } } },
        items: base,
      },
      { workDir: dir },
    ),
    refused(/model "small": input "image" has shape \[batch, 3, 48, 64\] but the preprocessing makes \[1, 3, 48, 32\]/),
  );
  await assert.rejects(
    runEvaluator({ models: { good }, items: [] }, { workDir: dir }),
    refused(/items: give at least one labelled image/),
  );
});

test('a cancelled evaluation ends its process and says so', async (t) => {
  const { dir, items } = await dataset(t, 4);
  const controller = new AbortController();
  const run = runEvaluator(
    {
      models: { v1: { path: SAMPLE_MODELS.v1, preprocessing: REFERENCE_PREPROCESSING } },
      items: items.map((i) => ({ path: i.file, label: i.label })),
    },
    { workDir: dir, signal: controller.signal },
  );
  controller.abort();
  await assert.rejects(run, (err) => err instanceof EvaluatorError && err.reason === 'cancelled');
});

test('image tensors: the trainer’s bit for bit on the reference spec; gray, BGR and NHWC as the agent lays them out', async () => {
  const raw = Buffer.alloc(90 * 70 * 4);
  for (let p = 0; p < 90 * 70; p++) raw.set([(p * 7) & 255, (p * 3) & 255, (p * 11) & 255, 200], p * 4);
  const png = await sharp(raw, { raw: { width: 90, height: 70, channels: 4 } })
    .png()
    .toBuffer();
  const jpeg = await sharp(raw, { raw: { width: 90, height: 70, channels: 4 } })
    .jpeg()
    .toBuffer();
  for (const bytes of [png, jpeg]) {
    const out = new Float32Array(itemLength(REFERENCE_PREPROCESSING) + 5);
    await imageInto(bytes, REFERENCE_PREPROCESSING, out, 5);
    assert.deepEqual(out.subarray(5), (await decodeImage(bytes, REFERENCE_PREPROCESSING)).tensor);
  }

  // One solid colour: every pixel is (200, 100, 50), so each layout's values are known.
  const solid = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .png()
    .toBuffer();
  const spec = { ...REFERENCE_PREPROCESSING, width: 4, height: 3, scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };
  const gray = new Float32Array(12);
  await imageInto(solid, { ...spec, colorOrder: 'GRAY', mean: [10, 0, 0], std: [2, 1, 1] }, gray, 0);
  // Rec. 601 luma: 0.299·200 + 0.587·100 + 0.114·50 = 124.2; (124.2 − 10) / 2.
  for (const v of gray) near(v, 57.1, 1e-4);
  const bgr = new Float32Array(36);
  await imageInto(solid, { ...spec, colorOrder: 'BGR' }, bgr, 0);
  assert.deepEqual([bgr[0], bgr[12], bgr[24]], [50, 100, 200]);
  const nhwc = new Float32Array(36);
  await imageInto(solid, { ...spec, layout: 'NHWC' }, nhwc, 0);
  assert.deepEqual([...nhwc.subarray(0, 6)], [200, 100, 50, 200, 100, 50]);
});
