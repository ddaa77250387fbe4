/**
 * @module console/pages/retraining/retraining-fixture
 * Test support for the retraining pages: a real fleet server with the fixture trainer, and the
 * records a retraining leaves behind, made the way the server makes them: samples uploaded by
 * three cars, a dataset of the first two and a drifted one of the third replaying a share of the
 * first, a loop policy, a two-run sweep trained for real and its best run registered as
 * distance v2, the succeeded loop run that did it (with its gate comparison), a second run of the
 * loop still training, and a prediction v2 made on a car. The loop engine is stopped, so the runs
 * stay as written.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { loopPolicySchema, type LoopRun, type LoopStep } from '@edgeloop/protocol/rest';
import type { RestClient } from '@edgeloop/protocol/client';
import type { RunningFleetServer } from '../../../running-server.js';
import { startFleetServer } from '../../../server.js';
import { FIXTURE_TRAINER } from '../../../training/training-fixtures.js';
import { bearerClient } from '../../testing/render-page.js';

export const DONE_RUN = 'lr-00000000d1';
export const RUNNING_RUN = 'lr-00000000e2';
export const INCIDENT = 'in-drift-1';

const T0 = 1_790_000_000_000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Bytes that start like a JPEG; the fixture trainer never decodes them. */
const frame = (device: string, n: number) =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`${device}-frame-${n}`)]);

async function uploadSamples(server: RunningFleetServer, api: RestClient, device: string, from: number, n: number) {
  for (let seq = 1; seq <= n; seq++) {
    const bytes = frame(device, seq);
    await api.uploadDatasetBlob({
      params: { sha256: sha(bytes) },
      body: { file: new File([new Uint8Array(bytes)], 'frame.jpg') },
    });
    await server.store.samples.insert({
      ...{
        deviceId: device,
        stream: 's1',
        seq,
        model: 'distance',
        version: 1,
        ts: from + seq * 250,
        reason: 'capture',
      },
      ...{ prediction: 100 + seq, reference: 90 + ((seq * 37) % 150), contentType: 'image/jpeg' },
      ...{ sha256: sha(bytes), bytes: bytes.length, receivedAt: from + seq * 250 + 100 },
    });
  }
}

const step = (
  name: LoopStep['name'],
  at: number,
  outcome: string,
  detail: Record<string, unknown> = {},
  status: LoopStep['status'] = 'succeeded',
): LoopStep => ({
  name,
  status,
  startedAt: at,
  finishedAt: status === 'running' ? null : at + 5000,
  outcome,
  detail,
});

export interface RetrainingFixture {
  server: RunningFleetServer;
  api: RestClient;
  /** The first dataset (cars 1 and 2) and the drifted one (car 3, replaying the first). */
  original: string;
  drifted: string;
  jobId: string;
  bestRunId: string;
  otherRunId: string;
  /** A telemetry record distance v2 made on car-7. */
  recordId: number;
}

export async function retrainingFixture(t: { after: (fn: () => Promise<void>) => void }): Promise<RetrainingFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-console-retraining-'));
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      validateResponses: true,
      training: { trainers: { fixture: [...FIXTURE_TRAINER.command] } },
    },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.loop.stop();
  await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
  });
  const api = bearerClient(server.httpUrl, server.adminToken!);

  await uploadSamples(server, api, 'car-1', T0, 30);
  await uploadSamples(server, api, 'car-2', T0, 30);
  const original = (
    await api.createDataset({ body: { selection: { model: 'distance', devices: ['car-1', 'car-2'] }, name: 'garage' } })
  ).dataset.id;
  await uploadSamples(server, api, 'car-3', T0 + 3_600_000, 40);
  const drifted = (
    await api.createDataset({
      body: {
        selection: {
          model: 'distance',
          devices: ['car-3'],
          from: T0 + 3_600_000,
          include: [original],
          includeLimit: 12,
        },
        name: 'drifted',
      },
    })
  ).dataset.id;

  await api.putLoopPolicy({
    params: { model: 'distance' },
    body: { model: 'distance', gate: { minImprovement: 0.1 } },
  });
  const { job } = await api.createTrainingJob({
    body: {
      dataset: drifted,
      trainer: 'fixture',
      sweep: { seed: 3, runs: [{ learningRate: 0.2 }, { learningRate: 0.8, epochs: 5 }] },
      register: { model: 'distance', parent: 1, trigger: 'loop', loopRunId: DONE_RUN, incidentId: INCIDENT },
    },
  });
  await server.training.waitFor(job.id);
  const detail = await api.getTrainingJob({ params: { id: job.id } });
  const bestRunId = detail.job.bestRunId!;
  const otherRunId = detail.runs.find((r) => r.id !== bestRunId)!.id;
  const version = detail.job.registered!.version;

  const policy = loopPolicySchema.parse({ model: 'distance' });
  const at = T0 + 4_000_000;
  const trigger: LoopRun['trigger'] = {
    kind: 'incident',
    actor: 'system',
    at,
    incidentId: INCIDENT,
    rule: 'default.feature-drift',
    onset: at - 60_000,
    devices: ['car-3'],
    reason: null,
  };
  const gate: NonNullable<LoopRun['gate']> = {
    champion: { model: 'distance', version: 1 },
    challenger: { trainingRunId: bestRunId, modelSha256: 'a'.repeat(64) },
    recent: {
      count: 40,
      champion: { mae: 21.5, rmse: 27 },
      challenger: { mae: 9.25, rmse: 12 },
      ratio: 0.43,
      passed: true,
    },
    original: {
      count: 35,
      champion: { mae: 8, rmse: 10 },
      challenger: { mae: 8.4, rmse: 10.5 },
      ratio: 1.05,
      passed: true,
    },
    minImprovement: 0.1,
    originalTolerance: 0.1,
    verdict: 'accepted',
    reasons: [
      'recent holdout: challenger MAE 9.25 ≤ 90 % of the champion’s 21.5',
      'original holdout: 8.4 ≤ 110 % of 8',
    ],
    evaluatedAt: at + 30_000,
  };
  const done: LoopRun = {
    id: DONE_RUN,
    model: 'distance',
    state: 'succeeded',
    step: 'resolve',
    trigger,
    policy,
    champion: 1,
    datasetId: drifted,
    trainingJobId: job.id,
    trainingRunId: bestRunId,
    gate,
    version,
    rolloutId: 'ro-loop-1',
    steps: [
      step('trigger', at, 'incident in-drift-1 (default.feature-drift) on car-3'),
      step('data', at + 1000, `dataset ${drifted}: 40 recent samples and 12 replayed`, {
        ...{ have: 40, need: 30, from: at - 60_000, to: at },
        ...{ devices: ['car-3'], captureForMs: 600_000 },
      }),
      step('train', at + 7000, `best run ${bestRunId} of 2`, { attempts: 1 }),
      step('gate', at + 25_000, gate.reasons.join(' '), { verdict: 'accepted' }),
      step('register', at + 31_000, `registered as distance v${version}`),
      step('rollout', at + 37_000, 'canary rollout completed on 3 devices'),
      step('resolve', at + 200_000, 'default.feature-drift stayed clear for 2 min on the new version'),
    ],
    reason: null,
    createdAt: at,
    updatedAt: at + 205_000,
    finishedAt: at + 205_000,
  };
  await server.store.loop.startRun({ ...done, state: 'running', finishedAt: null });
  await server.store.loop.updateRun(done);
  const later = at + 3_600_000;
  await server.store.loop.startRun({
    ...done,
    id: RUNNING_RUN,
    state: 'running',
    step: 'train',
    trigger: { ...trigger, at: later, incidentId: null, rule: null, onset: null, devices: [], kind: 'schedule' },
    champion: version,
    datasetId: original,
    trainingJobId: null,
    trainingRunId: null,
    gate: null,
    version: null,
    rolloutId: null,
    steps: [
      step('trigger', later, 'schedule: every 1 h'),
      step('data', later + 1000, `dataset ${original}`),
      step('train', later + 2000, 'training 1 run', {}, 'running'),
    ],
    createdAt: later,
    updatedAt: later + 2000,
    finishedAt: null,
  });

  await server.store.telemetry.insertBatch('car-7', 's1', [
    {
      ...{ seq: 1, ts: T0 + 9_000_000, model: 'distance', version, output: [120] },
      ...{ prediction: 120, latencyMs: 3, features: {}, reference: 118 },
    },
  ]);
  const [row] = await server.store.telemetry.query({ device: 'car-7' });
  return { server, api, original, drifted, jobId: job.id, bestRunId, otherRunId, recordId: row!.id };
}
