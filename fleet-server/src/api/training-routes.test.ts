/**
 * The training and lineage routes on a real fleet server (SQLite, answers checked against the
 * REST contract): refusals with their statuses and reasons, a job followed to its end, a run's
 * log, registering a run, the REST upload refusing dangling lineage ids, and the lineage walk
 * from a telemetry record stored for the registered version back to the dataset's devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_MODELS } from '@edgeloop/models';
import type { LineageWalk, TrainingJobDetail, TrainingRunDetail } from '@edgeloop/protocol/rest';
import { trainingServer, TOKEN } from '../training/training-server-fixture.js';

test(
  'training routes: refusals, a job to its end, its runs, registering and the lineage walk',
  { timeout: 60_000 },
  async (t) => {
    const { server, ds, api } = await trainingServer(t);
    const sweep = { runs: [{ learningRate: 0.2 }, { learningRate: 0.8 }] };

    const unknownParam = await api('POST', '/training/jobs', {
      dataset: ds.id,
      trainer: 'fixture',
      sweep: { runs: [{ lr: 1 }] },
    });
    assert.equal(unknownParam.status, 400);
    assert.match(
      unknownParam.body.error!,
      /run 1: unknown parameter "lr" for trainer fixture \(it takes: learningRate/,
    );
    const noTrainer = await api('POST', '/training/jobs', { dataset: ds.id, trainer: 'bash', sweep });
    assert.equal(noTrainer.status, 400);
    assert.match(
      noTrainer.body.error!,
      /unknown trainer "bash"; this server has builtin, fixture \(trainers are configured on the server/,
    );
    const command = await api('POST', '/training/jobs', { dataset: ds.id, trainer: '/bin/sh -c true', sweep });
    assert.equal(command.status, 400, 'a command is not a trainer name');
    const noDataset = await api('POST', '/training/jobs', {
      dataset: 'ds-000000000000000000000000',
      trainer: 'fixture',
      sweep,
    });
    assert.equal(noDataset.status, 404);
    assert.equal((await api('GET', '/training/jobs/tj-nope')).status, 404);
    assert.equal((await api('GET', '/training/runs/tj-nope-1')).status, 404);

    const created = await api('POST', '/training/jobs', { dataset: ds.id, trainer: 'fixture', sweep });
    assert.equal(created.status, 201, created.body.error);
    const jobId = (created.body.job as { id: string }).id;
    await server.training.waitFor(jobId);
    const detail = (await api('GET', `/training/jobs/${jobId}`)).body as unknown as TrainingJobDetail;
    assert.equal(detail.job.status, 'succeeded');
    assert.deepEqual(detail.job.counts, { succeeded: 2 });
    assert.deepEqual(
      detail.runs.map((r) => [r.params.learningRate, r.progress?.epoch, r.progress?.epochs]),
      [
        [0.2, 3, 3],
        [0.8, 3, 3],
      ],
    );
    const jobs = (await api('GET', '/training/jobs')).body.jobs as Array<{ id: string; counts: unknown }>;
    assert.deepEqual(
      jobs.map((j) => [j.id, j.counts]),
      [[jobId, { succeeded: 2 }]],
      'refused jobs were never stored',
    );
    const best = detail.job.bestRunId!;
    const run = (await api('GET', `/training/runs/${best}`)).body as unknown as TrainingRunDetail;
    assert.match(run.log, /fixture trainer: \d+ items/);
    const listed = await api('GET', `/training/runs?job=${jobId}&status=succeeded`);
    assert.equal((listed.body.runs as unknown[]).length, 2);
    assert.equal((await api('GET', '/training/runs?status=bogus')).status, 400);
    assert.equal(
      (await api('POST', `/training/jobs/${jobId}/cancel`)).status,
      409,
      'a finished job cannot be cancelled',
    );

    // Registering: a parent with preprocessing first (the sample v1), then the run on top of it.
    const meta = await readFile(join(SAMPLE_MODELS.v1, '..', 'edgeloop-distance.meta.json'), 'utf8');
    await server.registry.register({
      name: 'distance',
      bytes: await readFile(SAMPLE_MODELS.v1),
      metadata: JSON.parse(meta),
    });
    const registered = await api('POST', `/training/runs/${best}/register`, {
      model: 'distance',
      parent: 1,
      trigger: 'manual',
    });
    assert.equal(registered.status, 201, registered.body.error);
    assert.deepEqual((registered.body.model as { lineage: unknown }).lineage, {
      datasetId: ds.id,
      trainingRunId: best,
      parent: 1,
      trigger: 'manual',
    });

    // The REST upload path refuses lineage that names nothing.
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await readFile(SAMPLE_MODELS.v2))]), 'v2.onnx');
    form.set('name', 'distance');
    form.set('metadata', JSON.stringify({ lineage: { datasetId: 'ds-2026-11', parent: 1 } }));
    const upload = await fetch(`${server.httpUrl}/api/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: form,
    });
    assert.equal(upload.status, 400);
    assert.match(
      ((await upload.json()) as { error: string }).error,
      /lineage.datasetId "ds-2026-11" is not a dataset snapshot/,
    );

    // A prediction the registered version made on a device, back to the dataset's devices.
    await server.store.telemetry.insertBatch('car-7', 's1', [
      {
        seq: 1,
        ts: 1_800_000_000_000,
        model: 'distance',
        version: 2,
        output: [120],
        prediction: 120,
        latencyMs: 3,
        features: {},
        reference: 118,
      },
    ]);
    const [row] = await server.store.telemetry.query({ device: 'car-7' });
    const walk = (await api('GET', `/lineage/records/${row!.id}`)).body as unknown as LineageWalk;
    assert.deepEqual(walk.record && [walk.record.deviceId, walk.record.prediction, walk.record.reference], [
      'car-7',
      120,
      118,
    ]);
    assert.deepEqual(
      [walk.model.name, walk.model.version, walk.model.parent, walk.model.trigger],
      ['distance', 2, 1, 'manual'],
    );
    assert.equal(walk.run?.id, best);
    assert.equal(walk.dataset?.id, ds.id);
    assert.deepEqual(walk.sources, ds.sources);
    assert.deepEqual(
      walk.sources.map((s) => s.deviceId),
      ['sim-1', 'sim-2', 'sim-3'],
    );
    assert.deepEqual(walk.gaps, []);

    const v1 = (await api('GET', '/lineage/models/distance/1')).body as unknown as LineageWalk;
    assert.equal(v1.run, null);
    assert.deepEqual(v1.gaps, [
      'distance v1 names no training run: it was registered without one',
      'distance v1 names no dataset snapshot',
    ]);
    // A rollback re-releases v2's artifact as v3: the walk continues from v2's origin.
    await server.registry.rerelease('distance', 2);
    const v3 = (await api('GET', '/lineage/models/distance/3')).body as unknown as LineageWalk;
    assert.deepEqual([v3.model.parent, v3.model.trigger, v3.model.rereleaseOf], [2, 'rollback', 2]);
    assert.equal(v3.run?.id, best);
    assert.equal(v3.dataset?.id, ds.id);
    assert.deepEqual(v3.gaps, []);
    assert.equal((await api('GET', '/lineage/records/999999')).status, 404);
    assert.equal((await api('GET', '/lineage/models/distance/9')).status, 404);
    assert.deepEqual(server.contractViolations, []);
  },
);
