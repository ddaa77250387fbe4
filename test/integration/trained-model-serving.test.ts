/**
 * A model the built-in trainer wrote is registered with its meta.json and baseline.json as the
 * trainer left them, deployed to a real agent, and fed the holdout's JPEGs over the agent's
 * local API: every answer equals the trainer's own prediction for that image within 1e-4 mm.
 * Decoding, preprocessing, ONNX export and the served runtime all agree end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRAINER_OUTPUTS } from '@edgeloop/protocol';
import {
  REFERENCE_TRAINER_DESCRIPTION,
  readDataset,
  trainReference,
  writeSyntheticDataset,
  type ReferenceParams,
} from '@edgeloop/models/trainer';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import { tempDir } from '../support/fixtures.js';

test('a trained model serves on an agent exactly what the trainer predicted', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgeloop-trained-serving-');
  t.after(cleanup);
  const datasetDir = join(dir, 'ds');
  await writeSyntheticDataset(datasetDir, { count: 150, seed: 21 });
  const params: Record<string, unknown> = { seed: 2 };
  for (const [name, spec] of Object.entries(REFERENCE_TRAINER_DESCRIPTION.params)) params[name] = spec.default;
  const out = join(dir, 'out');
  mkdirSync(out);
  const result = await trainReference({
    datasetDir,
    outDir: out,
    params: { ...(params as unknown as ReferenceParams), epochs: 5 },
  });

  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as Record<string, unknown>;
  const { manifest } = await fleet.server.registry.register({
    name: 'trained',
    bytes: readFileSync(join(out, TRAINER_OUTPUTS.model)),
    metadata: { ...read(TRAINER_OUTPUTS.meta), trainingSummary: read(TRAINER_OUTPUTS.baseline) },
  });
  const agent = await fleet.startAgent('car-1');
  await until('agent birth', async () => (await fleet.server.devices.get('car-1'))?.online === true);
  await fleet.server.deployments.assign('trained', manifest.version, ['car-1']);
  await until('trained model active', async () =>
    ((await fleet.server.devices.get('car-1'))?.models ?? []).some((m) => m.name === 'trained'),
  );

  const holdout = (await readDataset(datasetDir)).items.filter((i) => i.split === 'holdout');
  assert.ok(holdout.length >= 5, `${holdout.length} holdout images`);
  assert.equal(holdout.length, result.holdout.predictions.length);
  let worst = 0;
  for (const [i, item] of holdout.entries()) {
    const res = await fetch(`${agent.apiUrl}/v1/models/trained/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(item.bytes),
    });
    const body = (await res.json()) as { prediction: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    worst = Math.max(worst, Math.abs(body.prediction - result.holdout.predictions[i]!));
  }
  assert.ok(worst <= 1e-4, `max |agent - trainer| = ${worst} mm over ${holdout.length} images`);
});
