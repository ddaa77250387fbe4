/**
 * @module training/training-service
 * Training jobs as the server runs them. A job is accepted only when everything that can be
 * checked up front holds: the trainer is one the server is configured with, the dataset exists,
 * every parameter set of the sweep passes the trainer's `--describe`, and a version to register
 * under is plausible. It is then stored with all its runs (queued) before the answer, and trained
 * in the background (job-executor.ts).
 *
 * A succeeded run's model is registered through the registry's ordinary path (checked, signed,
 * stored) with first-class lineage: the dataset snapshot and the run, the parent version and the
 * trigger. Trainers are commands configured on the server, never taken from a request.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ModelMetadata, RegisterRunRequest, TrainingJobRequest } from '@edgeloop/protocol/rest';
import { sweepSchema } from '@edgeloop/protocol/rest';
import { describeZodError, flatMetrics } from '@edgeloop/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import { RegistryError, type ModelRegistry, type ModelVersionRow } from '../registry/model-registry.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { FleetStore, TrainingJobRecord, TrainingRunRecord } from '../store/fleet-store.js';
import type { DatasetSource } from './dataset-source.js';
import { executeJob } from './job-executor.js';
import { RunSlots } from './run-slots.js';
import { expandSweep, resolveSweep } from './sweep.js';
import { describeTrainer, type TrainerCommand } from './trainer-runner.js';

export const DEFAULT_RUN_TIMEOUT_MS = 30 * 60_000;

export interface TrainingServiceOptions {
  store: FleetStore;
  datasets: DatasetSource;
  artifacts: BlobStore;
  registry: ModelRegistry;
  audit: AuditLog;
  log: Logger;
  /** Trainer name → command (executable first). */
  trainers: Readonly<Record<string, readonly string[]>>;
  /** Scratch space for jobs (one folder each, removed when the job ends). */
  workDir: string;
  defaultTimeoutMs?: number;
  /** Trainers running at once across all jobs (default: the machine's cores). */
  maxConcurrentRuns?: number;
  keepWorkDirs?: boolean;
  maxLogBytes?: number;
}

interface ActiveJob {
  controller: AbortController;
  done: Promise<TrainingJobRecord>;
}

export class TrainingService {
  private readonly active = new Map<string, ActiveJob>();
  private readonly slots: RunSlots;
  private closed = false;

  constructor(private readonly opts: TrainingServiceOptions) {
    this.slots = new RunSlots(opts.maxConcurrentRuns ?? availableParallelism());
  }

  get store() {
    return this.opts.store.training;
  }

  trainerNames(): string[] {
    return Object.keys(this.opts.trainers).sort();
  }

  trainer(name: string): TrainerCommand {
    const command = this.opts.trainers[name];
    if (!command)
      throw new RegistryError(
        400,
        `unknown trainer "${name}"; this server has ${this.trainerNames().join(', ') || 'none'} (trainers are configured on the server: training.trainers)`,
      );
    return { name, command };
  }

  /** Checks the job, stores it with its runs and starts it; the answer is the stored job. */
  async start(req: TrainingJobRequest, actor: string): Promise<TrainingJobRecord> {
    if (this.closed) throw new RegistryError(409, 'the server is stopping; start the job again once it is back');
    const trainer = this.trainer(req.trainer ?? 'builtin');
    if (!(await this.opts.datasets.get(req.dataset)))
      throw new RegistryError(404, `no dataset ${req.dataset}; edgeloop datasets list shows the snapshots`);
    const sweep = sweepSchema.safeParse(req.sweep);
    if (!sweep.success) throw new RegistryError(400, `invalid sweep: ${describeZodError(sweep.error)}`);
    const expanded = expandSweep(sweep.data);
    if (!expanded.ok) throw new RegistryError(400, expanded.error);
    let description;
    try {
      description = await describeTrainer(trainer);
    } catch (err) {
      throw new RegistryError(409, (err as Error).message);
    }
    const resolved = resolveSweep(expanded.plan, description);
    if (!resolved.ok) throw new RegistryError(400, `the sweep does not fit the trainer: ${resolved.errors.join('; ')}`);
    if (req.register) await this.checkRegisterTarget(req.register);

    const now = Date.now();
    const id = `tj-${randomBytes(5).toString('hex')}`;
    const job: TrainingJobRecord = {
      id,
      datasetId: req.dataset,
      trainer: trainer.name,
      sweep: sweep.data,
      metric: expanded.plan.metric,
      goal: expanded.plan.goal,
      parallel: expanded.plan.parallel,
      timeoutMs: req.timeoutMs ?? this.opts.defaultTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      status: 'queued',
      error: null,
      bestRunId: null,
      register: req.register ?? null,
      registered: null,
      createdAt: now,
      createdBy: actor,
      startedAt: null,
      finishedAt: null,
    };
    const runs: TrainingRunRecord[] = resolved.runs.map((params, position) => ({
      id: `${id}-${position + 1}`,
      jobId: id,
      position,
      datasetId: req.dataset,
      trainer: trainer.name,
      params,
      seed: params.seed as number,
      status: 'queued',
      metrics: null,
      error: null,
      exitCode: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      log: '',
      modelSha256: null,
      modelSize: null,
      baseline: null,
      meta: null,
      progress: null,
    }));
    await this.store.insertJob(job, runs);
    await this.opts.audit.record(actor, 'training.start', id, {
      dataset: req.dataset,
      trainer: trainer.name,
      runs: runs.length,
    });
    const controller = new AbortController();
    const done = this.execute(job, trainer, controller.signal, actor);
    this.active.set(id, { controller, done });
    void done.finally(() => this.active.delete(id));
    return job;
  }

  private async execute(
    job: TrainingJobRecord,
    trainer: TrainerCommand,
    signal: AbortSignal,
    actor: string,
  ): Promise<TrainingJobRecord> {
    try {
      return await executeJob(
        {
          training: this.store,
          datasets: this.opts.datasets,
          artifacts: this.opts.artifacts,
          log: this.opts.log,
          workDir: join(this.opts.workDir, job.id),
          slots: this.slots,
          ...(this.opts.keepWorkDirs ? { keepWorkDir: true } : {}),
          ...(this.opts.maxLogBytes ? { maxLogBytes: this.opts.maxLogBytes } : {}),
          settle: (result) => this.registerBest(result, actor),
        },
        job,
        trainer,
        signal,
      );
    } catch (err) {
      this.opts.log.error({ job: job.id, err: (err as Error).message }, 'training job broke');
      const failed: TrainingJobRecord = {
        ...((await this.store.getJob(job.id)) ?? job),
        status: 'failed',
        error: `internal error: ${(err as Error).message}`,
        finishedAt: Date.now(),
      };
      await this.store.updateJob(failed).catch(() => undefined);
      return failed;
    }
  }

  /** Resolves when the job has finished here (immediately when it is not running in this process). */
  async waitFor(jobId: string): Promise<TrainingJobRecord | undefined> {
    const active = this.active.get(jobId);
    if (active) return active.done;
    return this.store.getJob(jobId);
  }

  async cancel(jobId: string, actor: string): Promise<TrainingJobRecord> {
    const job = await this.store.getJob(jobId);
    if (!job) throw new RegistryError(404, `no training job ${jobId}; edgeloop runs list shows them`);
    const active = this.active.get(jobId);
    if (active) {
      active.controller.abort();
      const done = await active.done;
      await this.opts.audit.record(actor, 'training.cancel', jobId);
      return done;
    }
    if (job.status !== 'queued' && job.status !== 'running')
      throw new RegistryError(
        409,
        `training job ${jobId} has already ${job.status === 'cancelled' ? 'been cancelled' : job.status}`,
      );
    // Not running in this process (a restart interrupted it): settle it as cancelled.
    return this.settleInterrupted(job, 'cancelled', 'cancelled');
  }

  /**
   * Jobs a previous process left queued or running: their trainers died with it. Called at start
   * by the one server that owns the store (SQLite); the runs say what happened.
   */
  async recoverInterrupted(): Promise<number> {
    const stale = [
      ...(await this.store.listJobs({ status: 'running', limit: 1000 })),
      ...(await this.store.listJobs({ status: 'queued', limit: 1000 })),
    ].filter((j) => !this.active.has(j.id));
    for (const job of stale)
      await this.settleInterrupted(job, 'failed', 'the server stopped while this job was training; start it again');
    // Work folders of jobs that are no longer running.
    const left = await readdir(this.opts.workDir).catch(() => [] as string[]);
    for (const name of left)
      if (!this.active.has(name))
        await rm(join(this.opts.workDir, name), { recursive: true, force: true }).catch(() => undefined);
    return stale.length;
  }

  private async settleInterrupted(
    job: TrainingJobRecord,
    status: 'failed' | 'cancelled',
    reason: string,
  ): Promise<TrainingJobRecord> {
    for (const run of await this.store.runsOf(job.id)) {
      if (run.status === 'queued' || run.status === 'running')
        await this.store.updateRun({
          ...run,
          status: status === 'cancelled' ? 'cancelled' : 'failed',
          error: reason,
          finishedAt: Date.now(),
        });
    }
    const settled: TrainingJobRecord = { ...job, status, error: reason, finishedAt: Date.now() };
    await this.store.updateJob(settled);
    return settled;
  }

  /** Registers a succeeded run's model as the next version of `req.model`, with its lineage. */
  /** A succeeded job's best run registered as it asked; a failed registration fails the job, saying what to do. */
  private async registerBest(result: TrainingJobRecord, actor: string): Promise<TrainingJobRecord> {
    const target = result.register;
    if (result.status !== 'succeeded' || !target || !result.bestRunId) return result;
    try {
      const row = await this.register(result.bestRunId, target, actor);
      return { ...result, registered: { name: row.name, version: row.version } };
    } catch (err) {
      return {
        ...result,
        status: 'failed',
        error: `the runs trained, but registering the best run failed: ${(err as Error).message}; register it with edgeloop runs register ${result.bestRunId} --model ${target.model}`,
      };
    }
  }

  async register(runId: string, req: RegisterRunRequest, actor: string): Promise<ModelVersionRow> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RegistryError(404, `no training run ${runId}; edgeloop runs list shows them`);
    if (run.status !== 'succeeded' || !run.modelSha256 || run.modelSize === null)
      throw new RegistryError(
        409,
        `training run ${runId} is ${run.status}; only a succeeded run's model can be registered (edgeloop runs list --status succeeded)`,
      );
    let meta: ModelMetadata = run.meta ?? {};
    if (!run.meta && req.parent !== undefined) {
      // Without the trainer's own meta.json, the parent's input and output handling carries over.
      const parent = await this.opts.store.models.get(req.model, req.parent);
      if (parent)
        meta = {
          ...(parent.manifest.preprocessing ? { preprocessing: parent.manifest.preprocessing } : {}),
          ...(parent.manifest.postprocessing ? { postprocessing: parent.manifest.postprocessing } : {}),
        };
    }
    const bytes = await this.opts.artifacts.readRange(run.modelSha256, 0, run.modelSize);
    const row = await this.opts.registry.register({
      name: req.model,
      bytes,
      metadata: {
        ...meta,
        description: meta.description ?? `trained by ${run.trainer} in run ${run.id}`,
        labels: { ...meta.labels, trainer: run.trainer, trainingJob: run.jobId },
        metrics: { ...flatMetrics(run.metrics), ...meta.metrics },
        ...(run.baseline ? { trainingSummary: run.baseline } : {}),
        lineage: {
          datasetId: run.datasetId,
          trainingRunId: run.id,
          ...(req.parent !== undefined ? { parent: req.parent } : {}),
          trigger: req.trigger ?? 'manual',
          ...(req.loopRunId ? { loopRunId: req.loopRunId } : {}),
          ...(req.incidentId ? { incidentId: req.incidentId } : {}),
        },
      },
    });
    await this.opts.audit.record(actor, 'model.push', `${row.name}@${row.version}`, {
      sha256: row.sha256,
      size: row.size,
      keyId: row.keyId,
      lineage: row.lineage,
    });
    return row;
  }

  private async checkRegisterTarget(req: RegisterRunRequest): Promise<void> {
    if (req.parent !== undefined && !(await this.opts.store.models.get(req.model, req.parent)))
      throw new RegistryError(
        400,
        `register.parent: ${req.model} v${req.parent} is not registered; name an existing version (edgeloop models list) or leave parent out`,
      );
  }

  /** Cancels what runs here and waits for it to settle. */
  async close(): Promise<void> {
    this.closed = true;
    const jobs = [...this.active.values()];
    for (const j of jobs) j.controller.abort();
    await Promise.allSettled(jobs.map((j) => j.done));
  }
}
