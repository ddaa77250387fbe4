/**
 * The built-in trainer on the simulator's phase-1 frames (beige floor, 0–250 mm, labels with
 * the simulated sensor's noise): it learns the distance from the picture, far better than
 * predicting the mean, and its ONNX file computes what it computed. A small set keeps this
 * quick; `npm run bench -- --only train` measures the 2,000-frame figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { generateDataset } from '@edgeloop/simulator';
import { REFERENCE_TRAINER_DESCRIPTION, trainReference, type ReferenceParams } from '@edgeloop/models/trainer';
import { tempDir } from '../support/fixtures.js';

test('trained on simulator frames: learns the distance, and onnxruntime agrees within 1e-4 mm', async (t) => {
  const { dir, cleanup } = tempDir('edgeloop-train-sim-');
  t.after(cleanup);
  const dataset = join(dir, 'ds');
  await generateDataset({ scenario: 'baseline', phase: 'baseline', count: 400, seed: 3, out: dataset, createdAt: 0 });
  const params = { seed: 1 } as Record<string, unknown>;
  for (const [name, spec] of Object.entries(REFERENCE_TRAINER_DESCRIPTION.params)) params[name] = spec.default;
  const out = join(dir, 'out');
  mkdirSync(out);
  const result = await trainReference({
    datasetDir: dataset,
    outDir: out,
    params: params as unknown as ReferenceParams,
  });

  const { holdout, meanBaselineMae } = result.metrics;
  assert.ok(holdout && holdout.count > 20);
  assert.ok(holdout.mae < meanBaselineMae! / 5, `holdout MAE ${holdout.mae} mm vs ${meanBaselineMae} mm for the mean`);

  const session = await ort.InferenceSession.create(result.model);
  t.after(() => session.release());
  const inputs = result.holdout.inputs;
  const batch = new Float32Array(inputs.length * inputs[0]!.length);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const onnx = (await session.run({ image: new ort.Tensor('float32', batch, [inputs.length, 3, 48, 64]) })).distance!
    .data as Float32Array;
  const worst = Math.max(...inputs.map((_, i) => Math.abs(onnx[i]! - result.holdout.predictions[i]!)));
  assert.ok(worst <= 1e-4, `max |ONNX - trainer| ${worst} mm`);
});
