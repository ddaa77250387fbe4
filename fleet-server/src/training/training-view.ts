/**
 * @module training/training-view
 * Jobs and runs as the REST API shows them (protocol's rest/training.ts): stored records without
 * the bulky parts (a run's log only in its own detail, a baseline only as "has one").
 */
import type { TrainingJobSummary, TrainingRunSummary } from '@edgeloop/protocol/rest';
import type { TrainingJobRecord, TrainingRunRecord } from '../store/fleet-store.js';

export function runView(r: TrainingRunRecord): TrainingRunSummary {
  return {
    id: r.id,
    jobId: r.jobId,
    position: r.position,
    datasetId: r.datasetId,
    trainer: r.trainer,
    params: r.params,
    seed: r.seed,
    status: r.status,
    metrics: r.metrics,
    error: r.error,
    exitCode: r.exitCode,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    modelSha256: r.modelSha256,
    hasBaseline: r.baseline !== null,
    progress: r.progress,
  };
}

export function jobView(j: TrainingJobRecord, runs: readonly TrainingRunRecord[]): TrainingJobSummary {
  const counts: Record<string, number> = {};
  for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return {
    id: j.id,
    datasetId: j.datasetId,
    trainer: j.trainer,
    status: j.status,
    metric: j.metric,
    goal: j.goal,
    parallel: j.parallel,
    timeoutMs: j.timeoutMs,
    createdAt: j.createdAt,
    createdBy: j.createdBy,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    bestRunId: j.bestRunId,
    error: j.error,
    register: j.register,
    registered: j.registered,
    counts,
  };
}
