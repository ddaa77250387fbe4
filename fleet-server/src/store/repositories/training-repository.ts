/**
 * @module store/repositories/training-repository
 * `training_jobs` and `training_runs`: every job with its sweep, status and best run, every run
 * with its parameters, seed, status, metrics, log and artifacts, so a job can be followed while
 * it trains and every registered version traced to the run that made it.
 */
import type { Selectable } from 'kysely';
import type { TrainerMetrics, TrainerParams, TrainingSummary } from '@edgeloop/protocol';
import type { ModelMetadata, RegisterRunRequest, RunProgress } from '@edgeloop/protocol/rest';
import type { TrainingRepository, TrainingRunQuery } from '../fleet-store.js';
import type { TrainingJobsTable, TrainingRunsTable } from '../schema.js';
import type { TrainingJobRecord, TrainingRunRecord } from '../store-types.js';
import { parseJson, type RepositoryContext } from './context.js';

const toJob = (r: Selectable<TrainingJobsTable>): TrainingJobRecord => ({
  id: r.id,
  datasetId: r.dataset_id,
  trainer: r.trainer,
  sweep: JSON.parse(r.sweep) as unknown,
  metric: r.metric,
  goal: r.goal === 'max' ? 'max' : 'min',
  parallel: r.parallel,
  timeoutMs: Number(r.timeout_ms),
  status: r.status as TrainingJobRecord['status'],
  error: r.error,
  bestRunId: r.best_run_id,
  register: parseJson<RegisterRunRequest | null>(r.register, null),
  registered:
    r.registered_model !== null && r.registered_version !== null
      ? { name: r.registered_model, version: r.registered_version }
      : null,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  startedAt: r.started_at === null ? null : Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const toRun = (r: Selectable<TrainingRunsTable>): TrainingRunRecord => ({
  id: r.id,
  jobId: r.job_id,
  position: r.position,
  datasetId: r.dataset_id,
  trainer: r.trainer,
  params: JSON.parse(r.params) as TrainerParams,
  seed: Number(r.seed),
  status: r.status as TrainingRunRecord['status'],
  metrics: parseJson<TrainerMetrics | null>(r.metrics, null),
  error: r.error,
  exitCode: r.exit_code,
  createdAt: Number(r.created_at),
  startedAt: num(r.started_at),
  finishedAt: num(r.finished_at),
  durationMs: num(r.duration_ms),
  log: r.log,
  modelSha256: r.model_sha256,
  modelSize: num(r.model_size),
  baseline: parseJson<TrainingSummary | null>(r.baseline, null),
  meta: parseJson<ModelMetadata | null>(r.meta, null),
  progress: parseJson<RunProgress | null>(r.progress, null),
});

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

const jobMutable = (j: TrainingJobRecord) => ({
  status: j.status,
  error: j.error,
  best_run_id: j.bestRunId,
  registered_model: j.registered?.name ?? null,
  registered_version: j.registered?.version ?? null,
  started_at: j.startedAt,
  finished_at: j.finishedAt,
});

const runMutable = (r: TrainingRunRecord) => ({
  status: r.status,
  metrics: json(r.metrics),
  error: r.error,
  exit_code: r.exitCode,
  started_at: r.startedAt,
  finished_at: r.finishedAt,
  duration_ms: r.durationMs,
  log: r.log,
  model_sha256: r.modelSha256,
  model_size: r.modelSize,
  baseline: json(r.baseline),
  meta: json(r.meta),
  progress: json(r.progress),
});

export class KyselyTrainingRepository implements TrainingRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertJob(job: TrainingJobRecord, runs: readonly TrainingRunRecord[]): Promise<void> {
    await this.ctx.atomic(async () => {
      await this.ctx
        .db()
        .insertInto('training_jobs')
        .values({
          id: job.id,
          dataset_id: job.datasetId,
          trainer: job.trainer,
          sweep: JSON.stringify(job.sweep),
          metric: job.metric,
          goal: job.goal,
          parallel: job.parallel,
          timeout_ms: job.timeoutMs,
          register: json(job.register),
          created_at: job.createdAt,
          created_by: job.createdBy,
          ...jobMutable(job),
        })
        .execute();
      if (runs.length === 0) return;
      await this.ctx
        .db()
        .insertInto('training_runs')
        .values(
          runs.map((r) => ({
            id: r.id,
            job_id: r.jobId,
            position: r.position,
            dataset_id: r.datasetId,
            trainer: r.trainer,
            params: JSON.stringify(r.params),
            seed: r.seed,
            created_at: r.createdAt,
            ...runMutable(r),
          })),
        )
        .execute();
    });
  }

  async updateJob(job: TrainingJobRecord): Promise<void> {
    await this.ctx.db().updateTable('training_jobs').set(jobMutable(job)).where('id', '=', job.id).execute();
  }

  async updateRun(run: TrainingRunRecord): Promise<void> {
    await this.ctx.db().updateTable('training_runs').set(runMutable(run)).where('id', '=', run.id).execute();
  }

  async setRunProgress(id: string, progress: TrainingRunRecord['progress']): Promise<void> {
    await this.ctx
      .db()
      .updateTable('training_runs')
      .set({ progress: json(progress) })
      .where('id', '=', id)
      .execute();
  }

  async getJob(id: string): Promise<TrainingJobRecord | undefined> {
    const r = await this.ctx.db().selectFrom('training_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toJob(r);
  }

  async listJobs(q: { status?: TrainingJobRecord['status']; limit?: number } = {}): Promise<TrainingJobRecord[]> {
    let query = this.ctx.db().selectFrom('training_jobs').selectAll();
    if (q.status) query = query.where('status', '=', q.status);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 100)
      .execute();
    return rows.map(toJob);
  }

  async getRun(id: string): Promise<TrainingRunRecord | undefined> {
    const r = await this.ctx.db().selectFrom('training_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRun(r);
  }

  async runsOf(jobId: string): Promise<TrainingRunRecord[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('training_runs')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('position')
      .execute();
    return rows.map(toRun);
  }

  async listRuns(q: TrainingRunQuery = {}): Promise<TrainingRunRecord[]> {
    let query = this.ctx.db().selectFrom('training_runs').selectAll();
    if (q.job) query = query.where('job_id', '=', q.job);
    if (q.dataset) query = query.where('dataset_id', '=', q.dataset);
    if (q.status) query = query.where('status', '=', q.status);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('job_id', 'desc')
      .orderBy('position')
      .limit(q.limit ?? 100)
      .execute();
    return rows.map(toRun);
  }
}
