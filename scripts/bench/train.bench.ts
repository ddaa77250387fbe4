/**
 * @module bench/train
 * The built-in reference trainer on 2,000 rendered frames (phase 1: beige floor, 0–250 mm,
 * noisy time-of-flight labels), run as the server runs it: a child process per run.
 *
 *   train.reference_s     one run with the default params. Baseline: the same process only
 *                         loading and decoding the dataset (one epoch-free run is not possible,
 *                         so the bench decodes in-process), i.e. what training adds on top.
 *   train.sweep_s         4 runs one after another. Baseline: 4 × train.reference_s.
 *   train.holdout_mae_mm  holdout MAE of the sweep's best run, picked by validation MAE.
 *                         Baseline: always predicting the training mean.
 *   train.onnx_parity     max |onnxruntime − trainer| over the holdout, mm, for the best run
 *                         retrained in-process (its metrics must equal the child's: determinism).
 *                         Baseline: the same figure for tfjs's own float32 forward pass.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { TRAINER_OUTPUTS, trainerMetricsSchema, type TrainerMetrics } from '@edgeloop/protocol';
import { BUILTIN_TRAINER } from '@edgeloop/models';
import {
  REFERENCE_TRAINER_DESCRIPTION,
  decodeImage,
  readDataset,
  trainReference,
  type ReferenceParams,
} from '@edgeloop/models/trainer';
import type { Bench } from './figure.js';
import { benchDataset } from './train-dataset.js';

const SAMPLES = 2000;
const SEED = 1;

/** The sweep: defaults first, then one change each. */
const SWEEP: Record<string, unknown>[] = [{}, { hidden: 128 }, { learningRate: 0.004 }, { pool: 16 }];

function defaults(): ReferenceParams {
  const out: Record<string, unknown> = { seed: SEED };
  for (const [name, spec] of Object.entries(REFERENCE_TRAINER_DESCRIPTION.params)) out[name] = spec.default;
  return out as unknown as ReferenceParams;
}

async function runChild(
  datasetDir: string,
  root: string,
  name: string,
  params: Record<string, unknown>,
): Promise<{ seconds: number; metrics: TrainerMetrics; params: ReferenceParams }> {
  const full = { ...defaults(), ...params };
  const paramsFile = path.join(root, `${name}.params.json`);
  await writeFile(paramsFile, JSON.stringify(full));
  const out = path.join(root, name);
  const [cmd, ...pre] = BUILTIN_TRAINER.command;
  const t0 = performance.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd!, [...pre, datasetDir, paramsFile, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`trainer run ${name} exited ${code}: ${stderr}`);
  const metrics = trainerMetricsSchema.parse(
    JSON.parse(await readFile(path.join(out, TRAINER_OUTPUTS.metrics), 'utf8')),
  );
  return { seconds, metrics, params: full };
}

export const trainBench: Bench = {
  name: 'train',
  async run(progress) {
    const root = await mkdtemp(path.join(tmpdir(), 'edgeloop-bench-train-'));
    try {
      progress(`rendering ${SAMPLES} frames`);
      const { dir: datasetDir, source } = await benchDataset(path.join(root, 'dataset'), SAMPLES);

      const t0 = performance.now();
      const dataset = await readDataset(datasetDir);
      for (const item of dataset.items) await decodeImage(item.bytes);
      const loadSeconds = (performance.now() - t0) / 1000;

      progress('reference run');
      const reference = await runChild(datasetDir, root, 'reference', {});

      const runs = [];
      const sweepStart = performance.now();
      for (const [i, params] of SWEEP.entries()) {
        progress(`sweep run ${i + 1}/${SWEEP.length} ${JSON.stringify(params)}`);
        runs.push(await runChild(datasetDir, root, `sweep-${i}`, params));
      }
      const sweepSeconds = (performance.now() - sweepStart) / 1000;
      const best = runs.reduce((a, b) => (b.metrics.validation.mae < a.metrics.validation.mae ? b : a));

      progress(`best run again in-process for parity: ${JSON.stringify(best.params)}`);
      const parityOut = path.join(root, 'parity');
      await mkdir(parityOut);
      const again = await trainReference({ datasetDir, outDir: parityOut, params: best.params });
      const { durationMs: _a, ...childMetrics } = best.metrics;
      const { durationMs: _b, ...inProcess } = again.metrics;
      if (JSON.stringify(childMetrics) !== JSON.stringify(inProcess)) {
        throw new Error(
          `the same run gave different metrics: ${JSON.stringify(childMetrics)} vs ${JSON.stringify(inProcess)}`,
        );
      }
      const [onnxVsTrainer, onnxVsTfjs] = await parity(again);

      return [
        {
          name: 'train.reference_s',
          value: reference.seconds,
          unit: 's',
          baseline: loadSeconds,
          note: `one run, default params, ${SAMPLES} ${source} frames, child process (baseline: loading and decoding them in-process); target ≤ 30`,
        },
        {
          name: 'train.sweep_s',
          value: sweepSeconds,
          unit: 's',
          baseline: 4 * reference.seconds,
          note: `${SWEEP.length} runs sequentially (baseline: 4 × one run); target ≤ 120`,
        },
        {
          name: 'train.holdout_mae_mm',
          value: best.metrics.holdout?.mae ?? NaN,
          unit: 'mm',
          baseline: best.metrics.meanBaselineMae ?? null,
          note: `best of the sweep by validation MAE ${JSON.stringify(best.params)}, ${best.metrics.holdout?.count ?? 0} holdout frames (baseline: predicting the training mean); target ≤ 7`,
        },
        {
          name: 'train.onnx_parity',
          value: onnxVsTrainer,
          unit: 'mm',
          baseline: onnxVsTfjs,
          note: 'max |onnxruntime − trainer| over the holdout (baseline: the same against tfjs float32); target ≤ 1e-4',
        },
      ];
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};

async function parity(result: Awaited<ReturnType<typeof trainReference>>): Promise<[number, number]> {
  const session = await ort.InferenceSession.create(result.model);
  try {
    const inputs = result.holdout.inputs;
    const pixels = inputs[0]!.length;
    const batch = new Float32Array(inputs.length * pixels);
    inputs.forEach((x, i) => batch.set(x, i * pixels));
    const out = await session.run({ image: new ort.Tensor('float32', batch, [inputs.length, 3, 48, 64]) });
    const onnx = out.distance!.data as Float32Array;
    let exact = 0,
      tfjs = 0;
    for (let i = 0; i < inputs.length; i++) {
      exact = Math.max(exact, Math.abs(onnx[i]! - result.holdout.predictions[i]!));
      tfjs = Math.max(tfjs, Math.abs(onnx[i]! - result.holdout.tfjsPredictions[i]!));
    }
    return [exact, tfjs];
  } finally {
    await session.release();
  }
}
