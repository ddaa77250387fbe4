/**
 * @module train/cpu-backend.test
 * The fallback when tfjs's WASM backend cannot start: the pure-JS CPU backend trains the same
 * network, and the exported model still computes what the trainer computed. (A file of its own:
 * the backend is chosen once per process.)
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { writeSyntheticDataset } from './test-dataset.js';
import { trainReference } from './train.js';

test('trains on the CPU backend when asked (the WASM fallback)', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'edgeloop-train-cpu-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeSyntheticDataset(path.join(root, 'ds'), { count: 120, seed: 4 });
  await mkdir(path.join(root, 'out'));
  const result = await trainReference({
    datasetDir: path.join(root, 'ds'),
    outDir: path.join(root, 'out'),
    backend: 'cpu',
    params: {
      seed: 1,
      epochs: 8,
      learningRate: 0.003,
      hidden: 16,
      hidden2: 0,
      batchSize: 32,
      pool: 8,
      l2: 0,
      loss: 'mse',
    },
  });
  assert.equal(result.backend, 'cpu');
  assert.equal(result.metrics.extra?.wasm, 0);
  assert.ok(result.metrics.holdout!.mae < result.metrics.meanBaselineMae!, JSON.stringify(result.metrics));

  const session = await ort.InferenceSession.create(result.model);
  t.after(() => session.release());
  const [input] = result.holdout.inputs;
  const out = await session.run({ image: new ort.Tensor('float32', input!, [1, 3, 48, 64]) });
  assert.ok(Math.abs((out.distance!.data as Float32Array)[0]! - result.holdout.predictions[0]!) <= 1e-4);
});
