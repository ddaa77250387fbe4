/**
 * @module demo/initial-model
 * Phase 1's model, made the way a user makes one: baseline frames from the simulator's dataset
 * generator (the sample recipe's scenario and phase), imported as a dataset snapshot, trained by
 * the server's built-in trainer through the training API and registered as the model's first
 * version with its lineage (so the loop's later datasets can replay its training data).
 */
import { join } from 'node:path';
import { generateDataset } from '@edgeloop/simulator';
import { SAMPLE_RECIPES } from '@edgeloop/models';
import { createRestClient } from '@edgeloop/protocol/client';
import type { TrainingJobDetail } from '@edgeloop/protocol/rest';
import type { RunningFleetServer } from '@edgeloop/fleet-server';

export interface InitialModelOptions {
  httpUrl: string;
  token: string;
  /** The server's dataset service: the import reads the generated folder from disk. */
  datasets: Pick<RunningFleetServer['datasets'], 'import'>;
  workDir: string;
  model: string;
  frames: number;
  seed: number;
  /** Trainer parameters over its defaults (e.g. fewer epochs for a quick run). */
  params?: Record<string, number | string | boolean>;
  progress: (line: string) => void;
}

export interface InitialModel {
  version: number;
  datasetId: string;
  jobId: string;
  validationMae: number | null;
  /** Wall seconds: rendering the frames, importing them, training. */
  seconds: { generate: number; import: number; train: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function trainInitialModel(o: InitialModelOptions): Promise<InitialModel> {
  const recipe = SAMPLE_RECIPES.v1;
  const client = createRestClient({ baseUrl: o.httpUrl, headers: { authorization: `Bearer ${o.token}` } });
  let t = Date.now();
  let lastSay = 0;
  o.progress(`rendering ${o.frames} baseline frames (${recipe.scenario}/${recipe.phase})`);
  const generated = await generateDataset({
    scenario: recipe.scenario,
    phase: recipe.phase,
    count: o.frames,
    seed: o.seed,
    out: join(o.workDir, 'phase1-dataset'),
    // Nothing else runs yet (the cars start after): both cores.
    threads: 2,
    onProgress: (done, total) => {
      if (Date.now() - lastSay > 3000) {
        lastSay = Date.now();
        o.progress(`rendered ${done}/${total} frames`);
      }
    },
  });
  const generate = (Date.now() - t) / 1000;

  t = Date.now();
  const imported = await o.datasets.import(generated.dir, { name: `demo phase 1: ${o.frames} baseline frames` });
  const datasetId = imported.dataset.id;
  const importS = (Date.now() - t) / 1000;
  o.progress(`imported dataset ${datasetId} (${imported.dataset.counts.total} items) in ${importS.toFixed(1)} s`);

  t = Date.now();
  const { job } = await client.createTrainingJob({
    body: {
      dataset: datasetId,
      trainer: 'builtin',
      sweep: { seed: o.seed, base: { ...o.params } },
      register: { model: o.model, trigger: 'initial' },
    },
  });
  let detail: TrainingJobDetail;
  lastSay = 0;
  for (;;) {
    detail = await client.getTrainingJob({ params: { id: job.id } });
    if (['succeeded', 'failed', 'cancelled'].includes(detail.job.status)) break;
    if (Date.now() - lastSay > 3000) {
      lastSay = Date.now();
      const p = detail.runs[0]?.progress;
      o.progress(
        `training ${job.id}: ${detail.job.status}${p?.epoch !== undefined ? `, epoch ${p.epoch}/${p.epochs ?? '?'}` : ''}${p?.valMae !== undefined ? `, validation MAE ${p.valMae.toFixed(1)} mm` : ''}`,
      );
    }
    await sleep(500);
  }
  const run = detail.runs.find((r) => r.id === detail.job.bestRunId) ?? detail.runs[0];
  if (detail.job.status !== 'succeeded' || !detail.job.registered)
    throw new Error(
      `the initial training job ${job.id} ended ${detail.job.status}${detail.job.error ? `: ${detail.job.error}` : ''}${run?.error ? ` (run: ${run.error})` : ''}; see GET /api/v1/training/runs/${run?.id ?? job.id} for its log`,
    );
  const train = (Date.now() - t) / 1000;
  const validationMae = run?.metrics?.validation?.mae ?? null;
  o.progress(
    `trained and registered ${o.model} v${detail.job.registered.version} in ${train.toFixed(0)} s${validationMae !== null ? ` (validation MAE ${validationMae.toFixed(2)} mm)` : ''}`,
  );
  return {
    version: detail.job.registered.version,
    datasetId,
    jobId: job.id,
    validationMae,
    seconds: { generate, import: importS, train },
  };
}
