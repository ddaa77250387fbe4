/**
 * @module store/training-store-types
 * The store's side of training: the `training` repository (training_jobs, training_runs).
 */
import type { TrainingJobRecord, TrainingRunRecord } from './store-types.js';

export interface TrainingRunQuery {
  job?: string;
  dataset?: string;
  status?: TrainingRunRecord['status'];
  limit?: number;
}

export interface TrainingRepository {
  /** The job and all its runs, in one step. */
  insertJob(job: TrainingJobRecord, runs: readonly TrainingRunRecord[]): Promise<void>;
  /** Writes every mutable field of the job. */
  updateJob(job: TrainingJobRecord): Promise<void>;
  /** Writes every mutable field of the run. */
  updateRun(run: TrainingRunRecord): Promise<void>;
  /** Only the progress (written often while a run trains). */
  setRunProgress(id: string, progress: TrainingRunRecord['progress']): Promise<void>;
  getJob(id: string): Promise<TrainingJobRecord | undefined>;
  /** Newest first. */
  listJobs(q?: { status?: TrainingJobRecord['status']; limit?: number }): Promise<TrainingJobRecord[]>;
  getRun(id: string): Promise<TrainingRunRecord | undefined>;
  /** A job's runs by position. */
  runsOf(jobId: string): Promise<TrainingRunRecord[]>;
  /** Newest job first, by position within a job. */
  listRuns(q?: TrainingRunQuery): Promise<TrainingRunRecord[]>;
}
