/**
 * The gate end to end below the loop engine: a real SQLite store, sample and artifact folders,
 * the signing registry, simulator frames imported as dataset snapshots and the evaluator as a
 * child process. The champion is sample v1 (trained on 0–250 mm) with its baseline training data;
 * the new dataset is label-shift data (0–350 mm) with the champion's data mixed in. Sample v2,
 * trained on the wider range, is accepted; a model that reads a near constant is rejected; a
 * champion with no training dataset is judged on recent data only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_MODELS, SAMPLE_VERSION_METADATA, buildReferenceModel } from '@edgeloop/models';
import { generateDataset } from '@edgeloop/simulator';
import { gateComparisonSchema, loopGateSpecSchema } from '@edgeloop/protocol/rest';
import { DatasetService } from '../../datasets/dataset-service.js';
import { loadOrCreateSigningKey } from '../../keys/signing-key.js';
import { ArtifactStore } from '../../registry/artifact-store.js';
import { ModelRegistry } from '../../registry/model-registry.js';
import type { FleetStore, ModelVersionRecord, TrainingRunRecord } from '../../store/fleet-store.js';
import { openFleetStore } from '../../store/open-fleet-store.js';
import { lineageChecker } from '../../training/lineage-check.js';
import { evaluateChallenger, GateError, type ChallengerGateOptions } from './challenger-gate.js';
import { loopHoldouts } from './holdouts.js';

// Frames are seeded, so the holdouts are the same every run (about 30 items a side); the policy
// default of 30 would sit on that edge, so this test asks for 20.
const GATE = loopGateSpecSchema.parse({ minHoldout: 20 });

interface Fixture {
  dir: string;
  store: FleetStore;
  blobs: ArtifactStore;
  artifacts: ArtifactStore;
  registry: ModelRegistry;
  originalId: string;
  shiftId: string;
  newId: string;
  champion: ModelVersionRecord;
}

let fx: Fixture;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgeloop-gate-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const blobs = new ArtifactStore(join(dir, 'samples'));
  const artifacts = new ArtifactStore(join(dir, 'artifacts'));
  const datasets = new DatasetService({ store, blobs });
  const registry = new ModelRegistry(
    store.models,
    artifacts,
    loadOrCreateSigningKey(join(dir, 'signing.key')),
    30 * 86_400_000,
    { checkLineage: lineageChecker(store.training, datasets) },
  );
  const frames = async (scenario: string, seed: number) => {
    const g = await generateDataset({
      scenario,
      phase: scenario,
      count: 300,
      seed,
      out: join(dir, `frames-${scenario}`),
      threads: 0,
      features: false,
      createdAt: 1_790_000_000_000,
    });
    return (await datasets.import(g.dir)).dataset.id;
  };
  const originalId = await frames('baseline', 11);
  const shiftId = await frames('label-shift', 12);
  // As the loop builds it: recent data with the champion's training data mixed in.
  const mixed = await datasets.create({ include: [shiftId, originalId] }, { name: 'loop run data' });
  const champion = await registry.register({
    name: 'distance',
    bytes: await readFile(SAMPLE_MODELS.v1),
    metadata: {
      ...JSON.parse(await readFile(SAMPLE_VERSION_METADATA.v1, 'utf8')),
      lineage: { datasetId: originalId },
    },
  });
  fx = { dir, store, blobs, artifacts, registry, originalId, shiftId, newId: mixed.dataset.id, champion };
});

after(async () => {
  await fx?.store.close();
  if (fx) await rm(fx.dir, { recursive: true, force: true });
});

/** A succeeded run whose model is `bytes`, as a training job would leave it. */
async function run(bytes: Uint8Array, meta: TrainingRunRecord['meta']): Promise<TrainingRunRecord> {
  const { sha256, size } = await fx.artifacts.put(bytes);
  return {
    id: `tj-${sha256.slice(0, 10)}-1`,
    jobId: `tj-${sha256.slice(0, 10)}`,
    position: 0,
    datasetId: fx.newId,
    trainer: 'builtin',
    params: { seed: 1 },
    seed: 1,
    status: 'succeeded',
    metrics: null,
    error: null,
    exitCode: 0,
    createdAt: 1,
    startedAt: 1,
    finishedAt: 2,
    durationMs: 1,
    log: '',
    modelSha256: sha256,
    modelSize: size,
    baseline: null,
    meta,
    progress: null,
  };
}

async function gate(over: Partial<ChallengerGateOptions> & Pick<ChallengerGateOptions, 'challenger'>) {
  const workDir = join(fx.dir, 'work');
  const comparison = await evaluateChallenger({
    store: fx.store,
    blobs: fx.blobs,
    artifacts: fx.artifacts,
    champion: fx.champion,
    newDatasetId: fx.newId,
    gate: GATE,
    workDir,
    now: () => 1_790_000_100_000,
    ...over,
  });
  gateComparisonSchema.parse(comparison);
  // The scratch folder with the models and images is gone.
  assert.deepEqual(await readdir(workDir), []);
  return comparison;
}

test('holdouts: recent leaves out what the champion trained on; original is the champion’s own holdout', async () => {
  const h = await loopHoldouts(fx.store, { champion: fx.champion, newDatasetId: fx.newId });
  const holdoutOf = async (id: string) =>
    (await fx.store.datasets.items(id, { limit: 10_000 })).filter((i) => i.split === 'holdout').map((i) => i.sha256);
  const shift = await holdoutOf(fx.shiftId);
  const original = await holdoutOf(fx.originalId);
  assert.ok(shift.length >= GATE.minHoldout && original.length >= GATE.minHoldout);
  assert.deepEqual(
    h.recent.map((i) => i.sha256),
    shift,
  );
  assert.equal(h.recentExcluded, original.length);
  assert.deepEqual(
    h.original!.map((i) => i.sha256),
    original,
  );
  assert.equal(h.originalDatasetId, fx.originalId);
  assert.equal(h.recentMissing, undefined);
  assert.equal(h.originalMissing, undefined);

  const capped = await loopHoldouts(fx.store, { champion: fx.champion, newDatasetId: fx.newId, maxItems: 5 });
  assert.deepEqual(
    capped.recent.map((i) => i.sha256),
    shift.slice(0, 5),
  );
  assert.equal(capped.original!.length, 5);
});

test('a challenger trained on the wider range is accepted: far better on recent data, not worse on the old', async () => {
  const v2 = JSON.parse(await readFile(SAMPLE_VERSION_METADATA.v2, 'utf8'));
  const challenger = await run(await readFile(SAMPLE_MODELS.v2), {
    preprocessing: v2.preprocessing,
    postprocessing: v2.postprocessing,
  });
  const c = await gate({ challenger });
  assert.equal(c.verdict, 'accepted', c.reasons.join(' '));
  assert.deepEqual(c.champion, { model: 'distance', version: 1 });
  assert.deepEqual(c.challenger, { trainingRunId: challenger.id, modelSha256: challenger.modelSha256 });
  // v1 cannot read beyond ~260 mm: on 0–350 mm data the challenger's error is a fraction of its.
  assert.ok(c.recent!.ratio < 0.6, `recent ratio ${c.recent!.ratio}`);
  assert.equal(c.recent!.passed, true);
  assert.ok(c.original!.ratio <= 1.1, `original ratio ${c.original!.ratio}`);
  assert.equal(c.original!.passed, true);
  assert.match(
    c.reasons[0]!,
    /^Challenger MAE \d+\.\d mm on \d+ recent holdout items is 0\.\d\d × the champion's \d+\.\d mm; within the policy's ≤ 0\.90 ×\.$/,
  );
  assert.equal(c.evaluatedAt, 1_790_000_100_000);
});

test('a challenger that reads a near constant is rejected, with the numbers', async () => {
  // bias + gain·mean(pixels) with a small gain: about 60 mm whatever the distance.
  const challenger = await run(buildReferenceModel({ seed: 9, bias: 40, gain: 30 }), null);
  const c = await gate({ challenger });
  assert.equal(c.verdict, 'rejected');
  assert.equal(c.recent!.passed, false);
  assert.equal(c.original!.passed, false);
  assert.ok(c.recent!.challenger.mae > 3 * c.recent!.champion.mae);
  assert.match(
    c.reasons[0]!,
    /the policy asks ≤ 0\.90 × \(at least 10 % better\), so the challenger is not better enough on recent data\.$/,
  );
  assert.match(c.reasons[1]!, /the policy allows ≤ 1\.10 × \(at most 10 % worse\), so the challenger lost too much/);
});

test('a champion with no training dataset: no original holdout, judged on recent data only, and said so', async () => {
  const bare = await fx.registry.register({
    name: 'distance',
    bytes: await readFile(SAMPLE_MODELS.v1),
    metadata: JSON.parse(await readFile(SAMPLE_VERSION_METADATA.v1, 'utf8')),
  });
  const v2 = JSON.parse(await readFile(SAMPLE_VERSION_METADATA.v2, 'utf8'));
  const challenger = await run(await readFile(SAMPLE_MODELS.v2), { preprocessing: v2.preprocessing });
  const c = await gate({ challenger, champion: bare });
  assert.equal(c.verdict, 'accepted', c.reasons.join(' '));
  assert.equal(c.original, null);
  // Nothing to leave out: the whole holdout of the new dataset counts as recent.
  const newHoldout = (await fx.store.datasets.items(fx.newId, { limit: 10_000 })).filter((i) => i.split === 'holdout');
  assert.equal(c.recent!.count, newHoldout.length);
  assert.equal(
    c.reasons[1],
    `There is no original holdout (distance v${bare.version} names no training dataset), so whether the challenger forgot what the champion knew is not checked; it was judged on recent data only.`,
  );
});

test('a run without a model, or a model the evaluator cannot load, is a GateError that says why', async () => {
  const ok = await run(await readFile(SAMPLE_MODELS.v2), null);
  await assert.rejects(
    gate({ challenger: { ...ok, status: 'failed', modelSha256: null, modelSize: null } }),
    (err) => err instanceof GateError && /training run .* is failed and has no model to judge/.test(err.message),
  );
  const broken = await run(Buffer.from('not an onnx model'), null);
  await assert.rejects(
    gate({ challenger: broken }),
    (err) =>
      err instanceof GateError &&
      /^the gate could not evaluate the models: model "challenger" .* does not load in ONNX Runtime/.test(err.message),
  );
});
