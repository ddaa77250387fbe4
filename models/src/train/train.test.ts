/**
 * @module train/train.test
 * The built-in trainer learns, is a pure function of (dataset, params, seed), and the ONNX file
 * it writes computes what it computed itself (onnxruntime-node within 1e-4 mm).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  DATASET_FILES,
  TRAINER_OUTPUTS,
  imagePreprocessingSchema,
  postprocessingSchema,
  trainerMetricsSchema,
  trainingSummarySchema,
} from '@edgeloop/protocol';
import { inspectOnnx } from '../inspect.js';
import { REFERENCE_INPUT, REFERENCE_OUTPUT } from '../reference-model.js';
import type { ReferenceParams } from './describe.js';
import { writeSyntheticDataset } from './test-dataset.js';
import { trainReference, type TrainResult } from './train.js';

const PARAMS: ReferenceParams = {
  seed: 7,
  epochs: 12,
  learningRate: 0.003,
  hidden: 32,
  hidden2: 16,
  batchSize: 32,
  pool: 4,
  l2: 0.0001,
  loss: 'huber',
};

let root: string;
let datasetDir: string;
let first: TrainResult;
let firstOut: string;
let runs = 0;

async function run(params: ReferenceParams): Promise<{ result: TrainResult; out: string }> {
  const out = path.join(root, `out${runs++}`);
  await mkdir(out);
  return { result: await trainReference({ datasetDir, outDir: out, params }), out };
}

const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8'));
const withoutDuration = ({ durationMs: _, ...rest }: TrainResult['metrics']) => rest;

describe('trainReference', () => {
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'edgeloop-train-'));
    datasetDir = path.join(root, 'ds');
    await writeSyntheticDataset(datasetDir, { count: 240, seed: 11 });
    ({ result: first, out: firstOut } = await run(PARAMS));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('learns: holdout error well under predicting the mean', () => {
    const { holdout, meanBaselineMae } = first.metrics;
    assert.ok(holdout && holdout.count > 0, 'the synthetic set has a holdout split');
    assert.ok(holdout.mae < meanBaselineMae! / 3, `holdout MAE ${holdout.mae} vs mean baseline ${meanBaselineMae}`);
  });

  it('writes the contract files, each valid for protocol', async () => {
    assert.deepEqual(
      trainerMetricsSchema.parse(await readJson(path.join(firstOut, TRAINER_OUTPUTS.metrics))),
      first.metrics,
    );
    const baseline = trainingSummarySchema.parse(await readJson(path.join(firstOut, TRAINER_OUTPUTS.baseline)));
    assert.equal(baseline.count, first.metrics.train!.count);
    assert.deepEqual(Object.keys(baseline.features).sort(), [
      'brightness',
      'contrast',
      'mean_b',
      'mean_g',
      'mean_r',
      'saturation',
      'sharpness',
    ]);
    for (const h of Object.values(baseline.features))
      assert.equal(
        h.counts.reduce((a, b) => a + b),
        baseline.count,
      );
    assert.deepEqual(baseline.prediction!.edges, baseline.reference!.edges);
    const meta = (await readJson(path.join(firstOut, TRAINER_OUTPUTS.meta))) as Record<string, unknown>;
    const sample = (await readJson(
      new URL('../../sample/edgeloop-distance.meta.json', import.meta.url).pathname,
    )) as Record<string, unknown>;
    assert.deepEqual(
      imagePreprocessingSchema.parse(meta.preprocessing),
      imagePreprocessingSchema.parse(sample.preprocessing),
    );
    assert.deepEqual(postprocessingSchema.parse(meta.postprocessing), sample.postprocessing);
    const model = await readFile(path.join(firstOut, TRAINER_OUTPUTS.model));
    const inspected = inspectOnnx(model);
    assert.deepEqual(
      inspected.inputs.map((i) => i.name),
      [REFERENCE_INPUT.name],
    );
    assert.deepEqual(
      inspected.outputs.map((o) => o.name),
      [REFERENCE_OUTPUT.name],
    );
  });

  it('onnxruntime-node computes what the trainer computed: within 1e-4 mm of its exact output', async () => {
    const session = await ort.InferenceSession.create(first.model);
    const inputs = first.holdout.inputs;
    const pixels = inputs[0]!.length;
    const batch = new Float32Array(inputs.length * pixels);
    inputs.forEach((x, i) => batch.set(x, i * pixels));
    const out = await session.run({
      [REFERENCE_INPUT.name]: new ort.Tensor('float32', batch, [inputs.length, 3, 48, 64]),
    });
    await session.release();
    const onnx = out[REFERENCE_OUTPUT.name]!.data as Float32Array;
    const worst = (theirs: ArrayLike<number>) => {
      let w = 0;
      for (let i = 0; i < inputs.length; i++) w = Math.max(w, Math.abs(onnx[i]! - theirs[i]!));
      return w;
    };
    assert.ok(worst(first.holdout.predictions) <= 1e-4, `max |ONNX - trainer| = ${worst(first.holdout.predictions)}`);
    // tfjs rounds in float32 too, in its own order: a few ulps of a ~200 mm output apart.
    assert.ok(
      worst(first.holdout.tfjsPredictions) <= 1e-3,
      `max |ONNX - tfjs| = ${worst(first.holdout.tfjsPredictions)}`,
    );
  });

  it('same dataset, params and seed give the same metrics and the same model bytes; another seed does not', async () => {
    const again = await run(PARAMS);
    assert.deepEqual(withoutDuration(again.result.metrics), withoutDuration(first.metrics));
    assert.ok(Buffer.from(again.result.model).equals(first.model), 'model.onnx is byte-identical');
    assert.deepEqual(
      await readJson(path.join(again.out, TRAINER_OUTPUTS.baseline)),
      await readJson(path.join(firstOut, TRAINER_OUTPUTS.baseline)),
    );
    const other = await run({ ...PARAMS, seed: 8, epochs: 2 });
    assert.ok(!Buffer.from(other.result.model).equals(first.model));
  });

  it('names the line and file of an image that does not decode, instead of crashing', async () => {
    const dir = path.join(root, 'undecodable');
    await writeSyntheticDataset(dir, { count: 20, seed: 2 });
    const labels = path.join(dir, DATASET_FILES.labels);
    const lines = (await readFile(labels, 'utf8')).trim().split('\n');
    lines[6] = JSON.stringify({ file: 'images/notes.jpg', label: 120 });
    await writeFile(path.join(dir, 'images/notes.jpg'), 'not a picture');
    await writeFile(labels, lines.join('\n') + '\n');
    const out = path.join(root, 'out-undecodable');
    await mkdir(out);
    await assert.rejects(
      trainReference({ datasetDir: dir, outDir: out, params: PARAMS }),
      /labels.jsonl line 7: image images\/notes.jpg cannot be decoded/,
    );
  });
});
