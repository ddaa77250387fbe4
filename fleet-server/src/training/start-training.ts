/**
 * @module training/start-training
 * The training service as a server runs it: the trainers it offers (configured ones plus the
 * built-in), its work folder under the data directory, its timeouts and run slots, and, on a
 * SQLite store, the jobs a previous process left running settled as failed.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { FleetConfig } from '../config.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { DatasetSource } from './dataset-source.js';
import { TrainingService } from './training-service.js';
import { trainerTable } from './trainers.js';

export interface TrainingParts {
  config: FleetConfig;
  store: FleetStore;
  datasets: DatasetSource;
  artifacts: BlobStore;
  registry: ModelRegistry;
  audit: AuditLog;
  log: Logger;
  /** True when this server alone owns the store (SQLite): what it finds running died with it. */
  soleOwner: boolean;
}

export async function startTraining(p: TrainingParts): Promise<TrainingService> {
  const { config } = p;
  const training = new TrainingService({
    store: p.store,
    datasets: p.datasets,
    artifacts: p.artifacts,
    registry: p.registry,
    audit: p.audit,
    log: p.log,
    trainers: trainerTable(config.training.trainers),
    workDir: join(config.dataDir, 'training'),
    defaultTimeoutMs: config.training.timeoutMs,
    ...(config.training.maxConcurrentRuns ? { maxConcurrentRuns: config.training.maxConcurrentRuns } : {}),
  });
  if (p.soleOwner) await training.recoverInterrupted();
  return training;
}
