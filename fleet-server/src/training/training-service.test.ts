/**
 * Training jobs end to end below the API: a real SQLite store, artifact folder, signing registry,
 * dataset folders of generated JPEGs and the fixture trainer as a child process. Covers up-front
 * refusals (unknown trainer, dataset, parameter), a sweep with bounded parallelism and its best
 * run, determinism, failures kept per run, cancel, registering with first-class lineage, and the
 * registry refusing lineage ids that name nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { AuditLog } from '../audit/audit-log.js';
import { loadOrCreateSigningKey } from '../keys/signing-key.js';
import { ArtifactStore } from '../registry/artifact-store.js';
import { ModelRegistry, RegistryError } from '../registry/model-registry.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { lineageChecker } from './lineage-check.js';
import { FIXTURE_TRAINER, FolderDatasets } from './training-fixtures.js';
import { TrainingService } from './training-service.js';

async function trainingFixture(t: { after(fn: () => Promise<void>): void }, maxConcurrentRuns?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'edgeloop-training-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const datasets = new FolderDatasets();
  const artifacts = new ArtifactStore(join(dir, 'artifacts'));
  const registry = new ModelRegistry(
    store.models,
    artifacts,
    loadOrCreateSigningKey(join(dir, 'signing.key')),
    30 * 86_400_000,
    { checkLineage: lineageChecker(store.training, datasets) },
  );
  const training = new TrainingService({
    store,
    datasets,
    artifacts,
    registry,
    audit: new AuditLog(store),
    log: pino({ level: 'silent' }),
    trainers: { fixture: FIXTURE_TRAINER.command },
    workDir: join(dir, 'training'),
    ...(maxConcurrentRuns ? { maxConcurrentRuns } : {}),
  });
  t.after(async () => {
    await training.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ds = await datasets.add(join(dir, 'ds-a'));
  return { dir, store, datasets, registry, training, ds };
}

const refusal = (status: number, message: RegExp) => (err: unknown) =>
  err instanceof RegistryError && err.status === status && message.test(err.message);

test('a job is refused up front for an unknown trainer, dataset or parameter', async (t) => {
  const { training, ds } = await trainingFixture(t);
  const sweep = { runs: [{ learningRate: 0.1 }] };
  await assert.rejects(
    training.start({ dataset: ds.id, trainer: 'rm-rf', sweep }, 'admin'),
    refusal(400, /unknown trainer "rm-rf"; this server has fixture/),
  );
  await assert.rejects(
    training.start({ dataset: 'ds-000000000000000000000000', trainer: 'fixture', sweep }, 'admin'),
    refusal(404, /no dataset ds-0{24}/),
  );
  await assert.rejects(
    training.start(
      { dataset: ds.id, trainer: 'fixture', sweep: { runs: [{ learningRate: 0.1 }, { learningrate: 0.1 }] } },
      'admin',
    ),
    refusal(400, /run 2: unknown parameter "learningrate" for trainer fixture \(it takes: learningRate, epochs/),
  );
  await assert.rejects(
    training.start({ dataset: ds.id, trainer: 'fixture', sweep, register: { model: 'distance', parent: 4 } }, 'admin'),
    refusal(400, /register.parent: distance v4 is not registered/),
  );
  assert.deepEqual(await training.store.listJobs(), [], 'nothing refused was stored');
});

test('a sweep trains with bounded parallelism, records every run and picks the best', async (t) => {
  const { training, ds } = await trainingFixture(t, 4);
  const job = await training.start(
    {
      dataset: ds.id,
      trainer: 'fixture',
      sweep: { seed: 5, parallel: 2, grid: { learningRate: [0.05, 0.5, 1] }, base: { epochs: 4 } },
    },
    'admin',
  );
  assert.equal(job.status, 'queued');
  assert.equal((await training.store.runsOf(job.id)).length, 3, 'every run is stored before the answer');
  const done = (await training.waitFor(job.id))!;
  assert.equal(done.status, 'succeeded', done.error ?? '');
  const runs = await training.store.runsOf(job.id);
  assert.deepEqual(
    runs.map((r) => [r.status, r.params.learningRate, r.seed, r.params.epochs, r.params.mode]),
    [
      ['succeeded', 0.05, 5, 4, 'ok'],
      ['succeeded', 0.5, 5, 4, 'ok'],
      ['succeeded', 1, 5, 4, 'ok'],
    ],
  );
  assert.ok(runs[1]!.startedAt! < runs[0]!.finishedAt!, 'with parallel 2, the second run starts before the first ends');
  assert.ok(
    runs[2]!.startedAt! >= Math.min(runs[0]!.finishedAt!, runs[1]!.finishedAt!),
    'and the third waits for a slot',
  );
  const maes = runs.map((r) => r.metrics!.validation.mae);
  assert.equal(done.bestRunId, runs[maes.indexOf(Math.min(...maes))]!.id);
  for (const r of runs) {
    assert.match(r.modelSha256!, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.progress, {
      phase: 'loading',
      epoch: 4,
      epochs: 4,
      loss: r.progress!.loss,
      valMae: maes[r.position],
      curve: r.progress!.curve,
    });
    assert.deepEqual(
      r.progress!.curve!.map((c) => c.epoch),
      [1, 2, 3, 4],
      'every epoch is a point of the learning curve',
    );
    assert.equal(r.progress!.curve!.at(-1)!.valMae, maes[r.position]);
    assert.match(r.log, /fixture trainer/);
    assert.ok(r.baseline && r.durationMs! > 0);
  }
});

test('same dataset, params and seed give the same metrics; another seed does not', async (t) => {
  const { training, ds } = await trainingFixture(t);
  const train = async (seed: number) => {
    const job = await training.start(
      { dataset: ds.id, trainer: 'fixture', sweep: { seed, runs: [{ learningRate: 0.3, epochs: 5 }] } },
      'admin',
    );
    await training.waitFor(job.id);
    return (await training.store.runsOf(job.id))[0]!.metrics;
  };
  const a = await train(11);
  assert.deepEqual(await train(11), a);
  assert.notDeepEqual(await train(12), a);
});

test('failed runs keep their reason and log; a job with none succeeded fails saying why', async (t) => {
  const { training, ds } = await trainingFixture(t);
  const job = await training.start(
    { dataset: ds.id, trainer: 'fixture', sweep: { runs: [{ mode: 'crash' }, { mode: 'junk-onnx' }] } },
    'admin',
  );
  const done = (await training.waitFor(job.id))!;
  assert.equal(done.status, 'failed');
  assert.match(done.error!, /no run succeeded \(run 1: trainer exited with code 3; .*\); edgeloop runs show/);
  const [crash, junk] = await training.store.runsOf(job.id);
  assert.equal(crash!.exitCode, 3);
  assert.match(crash!.log, /simulated out-of-memory/);
  assert.match(junk!.error!, /the registry refuses model\.onnx/);
  assert.equal(junk!.modelSha256, null);
});

test('a timed-out run is recorded as such, the other runs still train', async (t) => {
  const { training, ds } = await trainingFixture(t);
  const job = await training.start(
    { dataset: ds.id, trainer: 'fixture', timeoutMs: 1000, sweep: { runs: [{ mode: 'hang' }, {}] } },
    'admin',
  );
  const done = (await training.waitFor(job.id))!;
  assert.equal(done.status, 'succeeded');
  const runs = await training.store.runsOf(job.id);
  assert.deepEqual(
    runs.map((r) => r.status),
    ['timed_out', 'succeeded'],
  );
  assert.equal(done.bestRunId, runs[1]!.id);
});

test('cancel stops the running run and the queued ones', async (t) => {
  const { training, ds } = await trainingFixture(t);
  const job = await training.start(
    {
      dataset: ds.id,
      trainer: 'fixture',
      sweep: { base: { epochs: 100, epochMs: 50 }, grid: { learningRate: [0.1, 0.2, 0.3] } },
    },
    'admin',
  );
  while ((await training.store.runsOf(job.id))[0]!.status !== 'running') await new Promise((r) => setTimeout(r, 20));
  const cancelled = await training.cancel(job.id, 'admin');
  assert.equal(cancelled.status, 'cancelled');
  assert.deepEqual(
    (await training.store.runsOf(job.id)).map((r) => r.status),
    ['cancelled', 'cancelled', 'cancelled'],
  );
  await assert.rejects(training.cancel(job.id, 'admin'), refusal(409, /already been cancelled/));
});

test('the best run registers as a signed version with first-class lineage', async (t) => {
  const { training, registry, ds, store } = await trainingFixture(t);
  await registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: JSON.parse(readFileSync(join(SAMPLE_MODELS.v1, '..', 'edgeloop-distance.meta.json'), 'utf8')),
  });
  const job = await training.start(
    {
      dataset: ds.id,
      trainer: 'fixture',
      sweep: { runs: [{ learningRate: 0.2 }, { learningRate: 0.9 }] },
      register: { model: 'distance', parent: 1, trigger: 'drift' },
    },
    'admin',
  );
  const done = (await training.waitFor(job.id))!;
  assert.deepEqual(done.registered, { name: 'distance', version: 2 }, done.error ?? '');
  const v2 = (await store.models.get('distance', 2))!;
  assert.deepEqual(v2.lineage, { datasetId: ds.id, trainingRunId: done.bestRunId, parent: 1, trigger: 'drift' });
  const best = (await training.store.getRun(done.bestRunId!))!;
  assert.equal(v2.sha256, best.modelSha256);
  assert.deepEqual(v2.trainingSummary, best.baseline);
  assert.equal(v2.metrics.validation_mae, best.metrics!.validation.mae);
  const v1 = (await store.models.get('distance', 1))!;
  assert.deepEqual(v2.manifest.preprocessing, v1.manifest.preprocessing, "the parent's preprocessing carries over");

  // Lineage ids must name real things, whichever path registers.
  const bytes = readFileSync(SAMPLE_MODELS.v2);
  await assert.rejects(
    registry.register({ name: 'distance', bytes, metadata: { lineage: { trainingRunId: 'run-42' } } }),
    refusal(400, /lineage.trainingRunId "run-42" is not a training run of this server/),
  );
  await assert.rejects(
    registry.register({ name: 'distance', bytes, metadata: { lineage: { datasetId: 'ds-1' } } }),
    refusal(400, /lineage.datasetId "ds-1" is not a dataset snapshot of this server/),
  );
  await assert.rejects(
    registry.register({
      name: 'distance',
      bytes,
      metadata: { lineage: { trainingRunId: best.id, datasetId: 'ds-ffffffffffffffffffffffff' } },
    }),
    refusal(400, /does not match run .* which trained on ds-/),
  );
  const failedJob = await training.start(
    { dataset: ds.id, trainer: 'fixture', sweep: { runs: [{ mode: 'crash' }] } },
    'admin',
  );
  await training.waitFor(failedJob.id);
  const failedRun = (await training.store.runsOf(failedJob.id))[0]!;
  await assert.rejects(
    training.register(failedRun.id, { model: 'distance' }, 'admin'),
    refusal(409, /is failed; only a succeeded run's model can be registered/),
  );
  assert.equal(
    (await registry.register({ name: 'distance', bytes, metadata: { lineage: { datasetId: ds.id } } })).version,
    3,
  );
});

test('jobs a stopped server left unfinished are settled as failed at the next start, saying why', async (t) => {
  const { training, ds, store } = await trainingFixture(t);
  const job = await training.start({ dataset: ds.id, trainer: 'fixture', sweep: { runs: [{}, {}] } }, 'admin');
  await training.waitFor(job.id);
  // As a crashed process leaves it: the job running, one run running, one queued.
  const [a, b] = await store.training.runsOf(job.id);
  await store.training.updateJob({ ...job, status: 'running', startedAt: 1 });
  await store.training.updateRun({ ...a!, status: 'running', metrics: null });
  await store.training.updateRun({ ...b!, status: 'queued', metrics: null });
  assert.equal(await training.recoverInterrupted(), 1);
  const settled = (await store.training.getJob(job.id))!;
  assert.equal(settled.status, 'failed');
  assert.match(settled.error!, /the server stopped while this job was training; start it again/);
  assert.deepEqual(
    (await store.training.runsOf(job.id)).map((r) => r.status),
    ['failed', 'failed'],
  );
  assert.equal(await training.recoverInterrupted(), 0);
});

test('two jobs at once share the server-wide run slots: their runs never overlap with one slot', async (t) => {
  const { training, ds, store } = await trainingFixture(t, 1);
  const sweep = { parallel: 2, base: { epochs: 2, epochMs: 50 }, runs: [{}, {}] };
  const a = await training.start({ dataset: ds.id, trainer: 'fixture', sweep }, 'admin');
  const b = await training.start({ dataset: ds.id, trainer: 'fixture', sweep }, 'admin');
  assert.equal((await training.waitFor(a.id))!.status, 'succeeded');
  assert.equal((await training.waitFor(b.id))!.status, 'succeeded');
  const runs = [...(await store.training.runsOf(a.id)), ...(await store.training.runsOf(b.id))].sort(
    (x, y) => x.startedAt! - y.startedAt!,
  );
  for (let i = 1; i < runs.length; i++)
    assert.ok(runs[i]!.startedAt! >= runs[i - 1]!.finishedAt!, `run ${runs[i]!.id} waited for a slot`);
});

test('a job that registers is never seen finished before its version is registered', async (t) => {
  const { training, registry, ds, store } = await trainingFixture(t);
  await registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: JSON.parse(readFileSync(join(SAMPLE_MODELS.v1, '..', 'edgeloop-distance.meta.json'), 'utf8')),
  });
  // Every state written to the real store, as a client polling the job would read it.
  const written: { status: string; registered: unknown }[] = [];
  const update = store.training.updateJob.bind(store.training);
  store.training.updateJob = async (job) => {
    written.push({ status: job.status, registered: job.registered });
    return update(job);
  };
  const job = await training.start(
    {
      dataset: ds.id,
      trainer: 'fixture',
      sweep: { runs: [{ learningRate: 0.2 }] },
      register: { model: 'distance', parent: 1 },
    },
    'admin',
  );
  const done = (await training.waitFor(job.id))!;
  assert.deepEqual(done.registered, { name: 'distance', version: 2 }, done.error ?? '');
  const finished = written.filter((w) => w.status !== 'queued' && w.status !== 'running');
  assert.deepEqual(finished, [{ status: 'succeeded', registered: { name: 'distance', version: 2 } }]);
});
