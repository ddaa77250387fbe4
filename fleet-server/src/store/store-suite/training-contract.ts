/**
 * @module store/store-suite/training-contract
 * The store contract for training jobs and runs: a job and its runs stored together, every
 * mutable field round-tripping (JSON columns included), listings in their documented order and
 * filters, and a telemetry record fetched by id (where the lineage walk starts).
 */
import assert from 'node:assert/strict';
import type { TrainingJobRecord, TrainingRunRecord } from '../fleet-store.js';
import { record, type WithStore } from './fixtures.js';

const DS = 'ds-0123456789abcdef01234567';

export const trainingJob = (
  id: string,
  createdAt: number,
  extra: Partial<TrainingJobRecord> = {},
): TrainingJobRecord => ({
  id,
  datasetId: DS,
  trainer: 'builtin',
  sweep: { seed: 1, runs: [{ learningRate: 0.1 }] },
  metric: 'validation.mae',
  goal: 'min',
  parallel: 1,
  timeoutMs: 60_000,
  status: 'queued',
  error: null,
  bestRunId: null,
  register: null,
  registered: null,
  createdAt,
  createdBy: 'admin',
  startedAt: null,
  finishedAt: null,
  ...extra,
});

export const trainingRun = (job: TrainingJobRecord, position: number): TrainingRunRecord => ({
  id: `${job.id}-r${position}`,
  jobId: job.id,
  position,
  datasetId: job.datasetId,
  trainer: job.trainer,
  params: { seed: 1, learningRate: 0.1 * (position + 1), shuffle: true, optimizer: 'adam' },
  seed: 1,
  status: 'queued',
  metrics: null,
  error: null,
  exitCode: null,
  createdAt: job.createdAt,
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  log: '',
  modelSha256: null,
  modelSize: null,
  baseline: null,
  meta: null,
  progress: null,
});

export function trainingContract(withStore: WithStore): void {
  withStore('training: a job with its runs; every mutable field round-trips', async (s) => {
    const job = trainingJob('job-1', 1000, { register: { model: 'distance', parent: 1, trigger: 'manual' } });
    const runs = [trainingRun(job, 0), trainingRun(job, 1)];
    await s.training.insertJob(job, runs);
    assert.deepEqual(await s.training.getJob('job-1'), job);
    assert.deepEqual(await s.training.runsOf('job-1'), runs);
    assert.equal(await s.training.getJob('nope'), undefined);
    assert.equal(await s.training.getRun('nope'), undefined);

    const done: TrainingRunRecord = {
      ...runs[1]!,
      status: 'succeeded',
      metrics: { validation: { mae: 4.25, rmse: 5.5, count: 10 }, extra: { estimate: 1.5 } },
      exitCode: 0,
      startedAt: 1100,
      finishedAt: 1350,
      durationMs: 250.5,
      log: 'epoch 1\nepoch 2\n',
      modelSha256: 'a'.repeat(64),
      modelSize: 1234,
      baseline: { count: 8, features: { brightness: { edges: [0, 0.5, 1], counts: [8, 0] } } },
      meta: { description: 'trained' },
      progress: { epoch: 2, epochs: 2, loss: 0.5, valMae: 4.25 },
    };
    await s.training.updateRun(done);
    assert.deepEqual(await s.training.getRun(done.id), done);
    await s.training.setRunProgress(runs[0]!.id, { phase: 'loading' });
    assert.deepEqual((await s.training.getRun(runs[0]!.id))!.progress, { phase: 'loading' });

    const finished: TrainingJobRecord = {
      ...job,
      status: 'succeeded',
      bestRunId: done.id,
      registered: { name: 'distance', version: 2 },
      startedAt: 1050,
      finishedAt: 1400,
    };
    await s.training.updateJob(finished);
    assert.deepEqual(await s.training.getJob('job-1'), finished);
  });

  withStore('training: listings newest job first, runs by position, with filters', async (s) => {
    const a = trainingJob('job-a', 1000);
    const b = trainingJob('job-b', 2000, { datasetId: 'ds-ffffffffffffffffffffffff', status: 'running' });
    await s.training.insertJob(a, [trainingRun(a, 0), trainingRun(a, 1)]);
    await s.training.insertJob(b, [trainingRun(b, 0)]);
    assert.deepEqual(
      (await s.training.listJobs()).map((j) => j.id),
      ['job-b', 'job-a'],
    );
    assert.deepEqual(
      (await s.training.listJobs({ status: 'running' })).map((j) => j.id),
      ['job-b'],
    );
    assert.deepEqual(
      (await s.training.listRuns()).map((r) => r.id),
      ['job-b-r0', 'job-a-r0', 'job-a-r1'],
    );
    assert.deepEqual(
      (await s.training.listRuns({ job: 'job-a', limit: 1 })).map((r) => r.id),
      ['job-a-r0'],
    );
    assert.deepEqual(
      (await s.training.listRuns({ dataset: DS })).map((r) => r.id),
      ['job-a-r0', 'job-a-r1'],
    );
    await s.training.updateRun({ ...trainingRun(a, 1), status: 'failed', error: 'exit 3' });
    assert.deepEqual(
      (await s.training.listRuns({ status: 'failed' })).map((r) => [r.id, r.error]),
      [['job-a-r1', 'exit 3']],
    );
  });

  withStore('telemetry: one record by id', async (s) => {
    await s.telemetry.insertBatch('dev-1', 's1', [record(1), record(2)], 5000);
    const [newest] = await s.telemetry.query({ limit: 1 });
    assert.deepEqual(await s.telemetry.get(newest!.id), newest);
    assert.equal(await s.telemetry.get(newest!.id + 1000), undefined);
  });
}
