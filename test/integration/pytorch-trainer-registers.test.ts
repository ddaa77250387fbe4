/**
 * The PyTorch example trainer's output goes through the same registration path as the built-in
 * trainer's: model.onnx with its meta.json and baseline.json is accepted and signed by the
 * registry, deployed to a real agent, and answers a frame. Skips, loudly, where Debian's
 * python3-torch, python3-onnx or python3-pil is missing (CI installs them: .ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRAINER_OUTPUTS } from '@edgeloop/protocol';
import { PYTORCH_EXAMPLE_TRAINER } from '@edgeloop/models';
import { readDataset, writeSyntheticDataset } from '@edgeloop/models/trainer';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import { tempDir } from '../support/fixtures.js';

const [PYTHON, SCRIPT] = PYTORCH_EXAMPLE_TRAINER.command as [string, string];
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, PIL'], { encoding: 'utf8' });
const missing = probe.error
  ? `${PYTHON} not found`
  : probe.status === 0
    ? undefined
    : probe.stderr.trim().split('\n').pop();
if (missing)
  console.warn(
    `\n*** SKIPPING the PyTorch registration test: ${missing}. Install python3-torch python3-onnx python3-pil.\n`,
  );

test(
  'a PyTorch-trained model registers, deploys and serves like a built-in one',
  { skip: missing, timeout: 120_000 },
  async (t) => {
    const { dir, cleanup } = tempDir('edgeloop-pytorch-register-');
    t.after(cleanup);
    const datasetDir = join(dir, 'ds');
    await writeSyntheticDataset(datasetDir, { count: 100, seed: 17 });
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ seed: 1, epochs: 5 }));
    const out = join(dir, 'out');
    const run = spawnSync(PYTHON, [SCRIPT, datasetDir, join(dir, 'params.json'), out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);

    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as Record<string, unknown>;
    const { manifest } = await fleet.server.registry.register({
      name: 'from-pytorch',
      bytes: readFileSync(join(out, TRAINER_OUTPUTS.model)),
      metadata: { ...read(TRAINER_OUTPUTS.meta), trainingSummary: read(TRAINER_OUTPUTS.baseline) },
    });
    assert.deepEqual(
      manifest.inputs.map((i) => i.name),
      ['image'],
    );

    const agent = await fleet.startAgent('car-py');
    await until('agent birth', async () => (await fleet.server.devices.get('car-py'))?.online === true);
    await fleet.server.deployments.assign('from-pytorch', manifest.version, ['car-py']);
    await until('model active', async () =>
      ((await fleet.server.devices.get('car-py'))?.models ?? []).some((m) => m.name === 'from-pytorch'),
    );
    const [item] = (await readDataset(datasetDir)).items;
    const res = await fetch(`${agent.apiUrl}/v1/models/from-pytorch/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(item!.bytes),
    });
    const body = (await res.json()) as { prediction: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(
      Number.isFinite(body.prediction) && body.prediction > -100 && body.prediction < 500,
      String(body.prediction),
    );
  },
);
