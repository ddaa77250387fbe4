/**
 * @module training/job-executor
 * Trains one job: exports its dataset once into the job's work folder, runs the sweep's runs with
 * at most `parallel` at a time, records each run as it starts, progresses and ends (metrics, log,
 * model in the artifact store), and finally picks the best run. Everything a run produced is
 * written before the job is marked finished, so a finished job's runs are complete.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { TrainerProgress } from '@edgeloop/protocol';
import { MAX_CURVE_POINTS, type RunProgress } from '@edgeloop/protocol/rest';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { TrainingJobRecord, TrainingRepository, TrainingRunRecord } from '../store/fleet-store.js';
import type { DatasetSource } from './dataset-source.js';
import type { RunSlots } from './run-slots.js';
import { bestRun } from './sweep.js';
import { runTrainer, type TrainerCommand } from './trainer-runner.js';

/** Progress is written at most this often per run (a fast trainer may print hundreds of epochs a second). */
const PROGRESS_WRITE_MS = 250;

export interface ExecutorDeps {
  training: TrainingRepository;
  datasets: DatasetSource;
  artifacts: BlobStore;
  log: Logger;
  /** The job's scratch folder (dataset export, params, outputs); removed afterwards unless kept. */
  workDir: string;
  keepWorkDir?: boolean;
  maxLogBytes?: number;
  /** Trainers running at once on this server, across jobs. */
  slots: RunSlots;
  /**
   * Completes a finished job before its final state is written (registering the best run), so a
   * client that sees the job finished also sees everything it asked for, or why it failed.
   */
  settle?: (job: TrainingJobRecord) => Promise<TrainingJobRecord>;
}

export async function executeJob(
  deps: ExecutorDeps,
  job: TrainingJobRecord,
  trainer: TrainerCommand,
  signal: AbortSignal,
): Promise<TrainingJobRecord> {
  const { training } = deps;
  let current: TrainingJobRecord = { ...job, status: 'running', startedAt: Date.now() };
  await training.updateJob(current);
  const runs = await training.runsOf(job.id);
  const finished: TrainingRunRecord[] = [];
  try {
    const datasetDir = join(deps.workDir, 'dataset');
    await rm(deps.workDir, { recursive: true, force: true });
    await mkdir(deps.workDir, { recursive: true });
    await deps.datasets.exportTo(job.datasetId, datasetDir);
    let next = 0;
    const worker = async () => {
      while (next < runs.length) {
        const run = runs[next++]!;
        finished.push(await trainOne(deps, run, trainer, datasetDir, job.timeoutMs, signal));
      }
    };
    await Promise.all(Array.from({ length: Math.min(job.parallel, runs.length) }, worker));
  } catch (err) {
    // The dataset could not be exported (or the disk failed): no run can train.
    const reason = `the job could not run: ${(err as Error).message}`;
    for (const run of runs.filter((r) => !finished.some((f) => f.id === r.id))) {
      const failed: TrainingRunRecord = { ...run, status: 'failed', error: reason, finishedAt: Date.now() };
      await training.updateRun(failed);
      finished.push(failed);
    }
    deps.log.warn({ job: job.id, err: (err as Error).message }, 'training job failed before its runs');
  } finally {
    if (!deps.keepWorkDir) await rm(deps.workDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const best = bestRun(
    finished.filter((r) => r.status === 'succeeded'),
    job.metric,
    job.goal,
  );
  const succeeded = finished.some((r) => r.status === 'succeeded');
  current = {
    ...current,
    bestRunId: best ?? null,
    status: signal.aborted ? 'cancelled' : succeeded ? 'succeeded' : 'failed',
    error: signal.aborted ? 'cancelled' : succeeded ? null : failureSummary(finished),
    finishedAt: Date.now(),
  };
  if (succeeded && !best && !signal.aborted)
    current = {
      ...current,
      status: 'failed',
      error: `no succeeded run reported the metric ${job.metric}; choose a metric the trainer writes (metrics.json)`,
    };
  if (deps.settle) current = await deps.settle(current);
  await training.updateJob(current);
  return current;
}

async function trainOne(
  deps: ExecutorDeps,
  queued: TrainingRunRecord,
  trainer: TrainerCommand,
  datasetDir: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<TrainingRunRecord> {
  const { training } = deps;
  if (!(await deps.slots.acquire(signal))) {
    const cancelled: TrainingRunRecord = { ...queued, status: 'cancelled', error: 'cancelled before it started' };
    await training.updateRun(cancelled);
    return cancelled;
  }
  try {
    return await trainInSlot(deps, queued, trainer, datasetDir, timeoutMs, signal);
  } finally {
    deps.slots.release();
  }
}

/**
 * The learning curve with this epoch added. A run of more than MAX_CURVE_POINTS epochs keeps every
 * n-th epoch (n from its epoch count) and its last, so the curve stays evenly spaced and bounded.
 */
export function extendCurve(curve: RunProgress['curve'], p: Extract<TrainerProgress, { type: 'epoch' }>) {
  const stride = Math.ceil(p.epochs / MAX_CURVE_POINTS);
  const kept = (curve ?? []).filter((c) => c.epoch % stride === 0 && c.epoch < p.epoch);
  if (p.epoch % stride !== 0 && p.epoch !== p.epochs) return kept;
  return [...kept, { epoch: p.epoch, loss: p.loss, ...(p.valMae === undefined ? {} : { valMae: p.valMae }) }];
}

async function trainInSlot(
  deps: ExecutorDeps,
  queued: TrainingRunRecord,
  trainer: TrainerCommand,
  datasetDir: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<TrainingRunRecord> {
  const { training } = deps;
  let run: TrainingRunRecord = { ...queued, status: 'running', startedAt: Date.now() };
  await training.updateRun(run);
  const dir = join(deps.workDir, queued.id);
  await mkdir(join(dir, 'out'), { recursive: true });

  let progress: RunProgress = {};
  let lastWrite = 0;
  let pending: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    pending = undefined;
    lastWrite = Date.now();
    const snapshot = { ...progress };
    writing = writing.then(() => training.setRunProgress(run.id, snapshot)).catch(() => undefined);
  };
  const onProgress = (p: TrainerProgress) => {
    progress =
      p.type === 'epoch'
        ? {
            ...progress,
            epoch: p.epoch,
            epochs: p.epochs,
            loss: p.loss,
            ...(p.valMae === undefined ? {} : { valMae: p.valMae }),
            curve: extendCurve(progress.curve, p),
          }
        : { ...progress, phase: p.phase };
    if (pending) return;
    const wait = PROGRESS_WRITE_MS - (Date.now() - lastWrite);
    if (wait <= 0) write();
    else pending = setTimeout(write, wait);
  };

  const outcome = await runTrainer(trainer, {
    datasetDir,
    params: queued.params,
    outDir: join(dir, 'out'),
    paramsFile: join(dir, 'params.json'),
    timeoutMs,
    signal,
    onProgress,
    ...(deps.maxLogBytes ? { maxLogBytes: deps.maxLogBytes } : {}),
  });
  clearTimeout(pending);
  await writing;
  run = {
    ...run,
    status: outcome.status,
    exitCode: outcome.exitCode,
    error: outcome.error ?? null,
    log: outcome.log,
    finishedAt: Date.now(),
    durationMs: outcome.durationMs,
    progress: Object.keys(progress).length ? progress : null,
    metrics: outcome.metrics ?? null,
    baseline: outcome.baseline ?? null,
    meta: outcome.meta ?? null,
  };
  if (outcome.model) {
    const stored = await deps.artifacts.put(outcome.model);
    run = { ...run, modelSha256: stored.sha256, modelSize: stored.size };
  }
  await training.updateRun(run);
  deps.log.info(
    { job: run.jobId, run: run.id, status: run.status, ms: Math.round(outcome.durationMs) },
    'training run finished',
  );
  return run;
}

function failureSummary(runs: readonly TrainingRunRecord[]): string {
  const first = [...runs].sort((a, b) => a.position - b.position).find((r) => r.error);
  const firstLine = first?.error?.split('\n')[0];
  return `no run succeeded${firstLine ? ` (run ${first!.position + 1}: ${firstLine})` : ''}; edgeloop runs show <run> has the log`;
}
