/**
 * The committed sample models are the trained ones `scripts/train-samples.ts` builds (their bytes
 * match the sums beside them: models/src/sample-recipes.test.ts), and the same pipeline
 * (simulator frames → built-in trainer) still produces the recorded bytes on a small recipe. Rebuilding v1 itself takes
 * minutes, so the suite rebuilds the small recipe: anything that would change the samples'
 * bytes (rendering, splits, trainer, export) changes it too. Then the behaviour a rollout relies
 * on: v1 reads the baseline range, and v2, trained on the widened range, reads far distances
 * that v1 cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { generateDataset } from '@edgeloop/simulator';
import { SAMPLE_CHECK_RECIPE, SAMPLE_CHECK_SUM_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { decodeImage, readDataset } from '@edgeloop/models/trainer';
import { buildTrainedSample } from '../../scripts/train-samples.js';
import { tempDir } from '../support/fixtures.js';

const REBUILD = 'run `npx tsx scripts/train-samples.ts <dir> --install` and commit models/sample/';

test('the sample pipeline rebuilds the recorded bytes on the small recipe', async (t) => {
  const { dir, cleanup } = tempDir('sample-check');
  t.after(cleanup);
  const built = await buildTrainedSample(SAMPLE_CHECK_RECIPE, dir);
  const recorded = readFileSync(SAMPLE_CHECK_SUM_PATH, 'utf8').trim();
  assert.equal(built.sha256, recorded, `the pipeline no longer builds the recorded model: ${REBUILD}`);
});

/** Mean absolute error of a model on frames, split at `farFrom` mm. */
async function errors(
  modelPath: string,
  frames: ReadonlyArray<{ tensor: Float32Array; label: number }>,
  farFrom: number,
): Promise<{ near: number; far: number }> {
  const session = await ort.InferenceSession.create(readFileSync(modelPath));
  try {
    const size = frames[0]!.tensor.length;
    const batch = new Float32Array(frames.length * size);
    frames.forEach((f, i) => batch.set(f.tensor, i * size));
    const out = await session.run({ image: new ort.Tensor('float32', batch, [frames.length, 3, 48, 64]) });
    const predicted = out.distance!.data as Float32Array;
    const near: number[] = [];
    const far: number[] = [];
    frames.forEach((f, i) => (f.label >= farFrom ? far : near).push(Math.abs(predicted[i]! - f.label)));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(near.length > 5 && far.length > 5, `too few frames on one side: ${near.length} near, ${far.length} far`);
    return { near: mean(near), far: mean(far) };
  } finally {
    await session.release();
  }
}

test('v2 (trained on 0–350 mm) reads far distances v1 (0–250 mm) cannot, and is no worse near', async (t) => {
  const { dir, cleanup } = tempDir('sample-behaviour');
  t.after(cleanup);
  // Frames neither model was trained on: another seed of the widened range.
  await generateDataset({ scenario: 'label-shift', phase: 'label-shift', count: 80, seed: 99, out: dir, createdAt: 0 });
  const items = (await readDataset(dir)).items;
  const frames = await Promise.all(
    items.map(async (item) => ({ tensor: (await decodeImage(item.bytes)).tensor, label: item.label })),
  );
  const v1 = await errors(SAMPLE_MODELS.v1, frames, 260);
  const v2 = await errors(SAMPLE_MODELS.v2, frames, 260);
  const mm = (x: number) => `${x.toFixed(1)} mm`;
  t.diagnostic(`MAE below/above 260 mm: v1 ${mm(v1.near)} / ${mm(v1.far)}, v2 ${mm(v2.near)} / ${mm(v2.far)}`);
  assert.ok(v1.near < 15, `v1 near MAE ${v1.near.toFixed(1)} mm`);
  assert.ok(v2.near < 15, `v2 near MAE ${v2.near.toFixed(1)} mm`);
  assert.ok(v2.far < 15, `v2 far MAE ${v2.far.toFixed(1)} mm`);
  assert.ok(
    v1.far > 2 * v2.far,
    `v1 far MAE ${v1.far.toFixed(1)} mm should be well above v2's ${v2.far.toFixed(1)} mm`,
  );
});
