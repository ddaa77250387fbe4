/**
 * @module train/pytorch-example.test
 * The PyTorch example trainer (models/trainers/pytorch/train.py) keeps the same contract as the
 * built-in one: --describe, progress lines, the contract files with valid metrics and baseline,
 * an ONNX file onnxruntime-node runs and the registry's inspector accepts, exit 2 naming a
 * missing image. Needs Debian's python3-torch, python3-onnx and python3-pil; without them the
 * tests skip and say so (CI installs them, see .ci/run).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  DATASET_FILES,
  TRAINER_OUTPUTS,
  parseProgressLine,
  resolveParams,
  trainerDescriptionSchema,
  trainerMetricsSchema,
  trainingSummarySchema,
  type TrainerMetrics,
} from '@edgeloop/protocol';
import { inspectOnnx } from '../inspect.js';
import { PYTORCH_EXAMPLE_TRAINER } from './builtin.js';
import { writeSyntheticDataset } from './test-dataset.js';

const [PYTHON, SCRIPT] = PYTORCH_EXAMPLE_TRAINER.command as [string, string];

function missingPython(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, PIL'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not found`;
  return probe.status === 0 ? undefined : probe.stderr.trim().split('\n').pop();
}

const missing = missingPython();
if (missing) {
  console.warn(
    `\n*** SKIPPING the PyTorch example trainer tests: ${missing}.\n*** Install python3-torch python3-onnx python3-pil (apt) to run them.\n`,
  );
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let root: string;
let datasetDir: string;

describe('PyTorch example trainer', { skip: missing ? `PyTorch missing: ${missing}` : false }, () => {
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'edgeloop-pytorch-'));
    datasetDir = path.join(root, 'ds');
    await writeSyntheticDataset(datasetDir, { count: 160, seed: 9 });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('--describe is a valid trainer description', async () => {
    const { code, stdout } = await run(['--describe']);
    assert.equal(code, 0);
    const description = trainerDescriptionSchema.parse(JSON.parse(stdout));
    assert.ok(resolveParams(description, { seed: 1, epochs: 3 }).ok);
    assert.ok(!resolveParams(description, { seed: 1, epoch: 3 }).ok);
  });

  it('trains and writes a model onnxruntime runs, valid metrics and baseline, deterministically', async () => {
    const params = path.join(root, 'params.json');
    await writeFile(params, JSON.stringify({ seed: 4, epochs: 8 }));
    const results: { metrics: TrainerMetrics; out: string }[] = [];
    for (const name of ['a', 'b']) {
      const out = path.join(root, name);
      const { code, stdout, stderr } = await run([datasetDir, params, out]);
      assert.equal(code, 0, stderr);
      const epochs = stdout
        .split('\n')
        .map(parseProgressLine)
        .filter((p) => p?.type === 'epoch');
      assert.equal(epochs.length, 8);
      assert.deepEqual((await readdir(out)).sort(), Object.values(TRAINER_OUTPUTS).sort());
      const metrics = trainerMetricsSchema.parse(
        JSON.parse(await readFile(path.join(out, TRAINER_OUTPUTS.metrics), 'utf8')),
      );
      const baseline = trainingSummarySchema.parse(
        JSON.parse(await readFile(path.join(out, TRAINER_OUTPUTS.baseline), 'utf8')),
      );
      assert.equal(baseline.count, metrics.train!.count);
      assert.ok(metrics.holdout!.mae < metrics.meanBaselineMae! / 2, JSON.stringify(metrics));
      results.push({ metrics, out });
    }
    const strip = ({ durationMs: _, ...m }: TrainerMetrics) => m;
    assert.deepEqual(strip(results[0]!.metrics), strip(results[1]!.metrics), 'same params and seed, same metrics');

    const model = await readFile(path.join(results[0]!.out, TRAINER_OUTPUTS.model));
    const inspected = inspectOnnx(model);
    assert.deepEqual(
      inspected.inputs.map((i) => i.name),
      ['image'],
    );
    const session = await ort.InferenceSession.create(model);
    const out = await session.run({
      image: new ort.Tensor('float32', new Float32Array(2 * 3 * 48 * 64).fill(0.6), [2, 3, 48, 64]),
    });
    assert.deepEqual(out.distance!.dims, [2, 1]);
    assert.ok(Number.isFinite((out.distance!.data as Float32Array)[0]));
    await session.release();
  });

  it('exits 2 naming a missing image and an unknown parameter', async () => {
    const params = path.join(root, 'bad.json');
    await writeFile(params, JSON.stringify({ seed: 1, epoch: 2 }));
    const bad = await run([datasetDir, params, path.join(root, 'c')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown parameter "epoch"/);

    const lines = (await readFile(path.join(datasetDir, DATASET_FILES.labels), 'utf8')).split('\n');
    const { file } = JSON.parse(lines[2]!) as { file: string };
    await unlink(path.join(datasetDir, file));
    await writeFile(params, JSON.stringify({ seed: 1, epochs: 1 }));
    const gone = await run([datasetDir, params, path.join(root, 'd')]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, new RegExp(`line 3: image ${file} is missing`));
  });
});
