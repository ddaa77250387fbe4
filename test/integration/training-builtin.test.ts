/**
 * The training path with the real parts: a dataset folder from the simulator (phase 1 of the
 * baseline scenario, two simulated devices), the built-in reference trainer as the server runs
 * it (a child process), a sweep through the REST API, the best run registered and signed with
 * its lineage, and the walk from a prediction that version made back to the simulated devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateDataset } from '@edgeloop/simulator';
import type { LineageWalk, TrainingJobDetail } from '@edgeloop/protocol/rest';
import { startFleetServer } from '@edgeloop/fleet-server';
import { FolderDatasets } from '@edgeloop/fleet-server/testing';

const TOKEN = 'training-builtin-test-token';

test(
  'a sweep of the built-in trainer on simulator data registers a signed version the lineage walk traces back',
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-train-builtin-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const generated = await generateDataset({
      scenario: 'baseline',
      count: 240,
      seed: 3,
      out: join(dir, 'ds'),
      createdAt: 1,
    });
    const manifest = JSON.parse(readFileSync(join(generated.dir, 'manifest.json'), 'utf8'));
    const datasets = new FolderDatasets();
    datasets.adopt(generated.dir, manifest);
    const server = await startFleetServer(
      {
        dataDir: join(dir, 'fleet'),
        http: { port: 0 },
        mqtt: { mode: 'embedded', port: 0 },
        adminToken: TOKEN,
        validateResponses: true,
      },
      pino({ level: 'silent' }),
      { datasets },
    );
    t.after(() => server.close());
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.httpUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
    };

    const typo = await api('POST', '/training/jobs', {
      dataset: manifest.id,
      sweep: { runs: [{ learningrate: 0.01 }] },
    });
    assert.equal(typo.status, 400);
    assert.match(
      typo.body.error!,
      /unknown parameter "learningrate" for trainer edgeloop-reference \(it takes: epochs, learningRate/,
    );

    const started = Date.now();
    const created = await api('POST', '/training/jobs', {
      dataset: manifest.id,
      trainer: 'builtin',
      sweep: { seed: 1, base: { epochs: 15 }, grid: { learningRate: [0.003, 0.01] } },
      register: { model: 'distance', trigger: 'manual' },
    });
    assert.equal(created.status, 201, created.body.error);
    const jobId = (created.body.job as { id: string }).id;
    await server.training.waitFor(jobId);
    const seconds = (Date.now() - started) / 1000;
    const detail = (await api('GET', `/training/jobs/${jobId}`)).body as unknown as TrainingJobDetail;
    assert.equal(detail.job.status, 'succeeded', detail.job.error ?? JSON.stringify(detail.runs.map((r) => r.error)));
    assert.deepEqual(detail.job.registered, { name: 'distance', version: 1 });
    for (const r of detail.runs) {
      assert.equal(r.progress?.epoch, 15, 'progress reached the last epoch');
      assert.ok(r.metrics!.holdout!.mae < r.metrics!.meanBaselineMae!, 'the model beats predicting the mean');
    }
    t.diagnostic(`2-run sweep of the built-in trainer on 240 frames, 15 epochs: ${seconds.toFixed(1)} s`);

    const v1 = (await server.models.get('distance', 1))!;
    assert.equal(v1.envelope.signatures[0]?.keyid, v1.keyId, 'signed by the active signing key');
    assert.equal(v1.lineage.datasetId, manifest.id);
    assert.equal(v1.lineage.trainingRunId, detail.job.bestRunId);
    assert.ok(
      v1.trainingSummary && Object.keys(v1.trainingSummary.features).length > 0,
      'the baseline is the drift reference',
    );
    assert.ok(v1.manifest.preprocessing, "the trainer's meta.json set the preprocessing");

    await server.store.telemetry.insertBatch('sim-car-9', 's1', [
      {
        seq: 1,
        ts: Date.now(),
        model: 'distance',
        version: 1,
        output: [100],
        prediction: 100,
        latencyMs: 2,
        features: {},
        reference: 97,
      },
    ]);
    const [record] = await server.store.telemetry.query({ device: 'sim-car-9' });
    const walk = (await api('GET', `/lineage/records/${record!.id}`)).body as unknown as LineageWalk;
    assert.equal(walk.run?.id, detail.job.bestRunId);
    assert.equal(walk.dataset?.id, manifest.id);
    assert.deepEqual(walk.sources, manifest.sources);
    assert.ok(walk.sources.length > 0 && walk.sources.every((s) => s.count > 0));
    assert.deepEqual(server.contractViolations, []);
  },
);
