/**
 * @module store/kysely-fleet-store
 * The FleetStore over any Kysely database: the repositories plus the unit of work. A transaction
 * is carried in AsyncLocalStorage, so everything fn does — through `tx` or through code that only
 * knows the store — runs in it, and a nested transaction joins it instead of waiting for the
 * connection the outer one holds. Work that outlives its transaction (a callback fired later)
 * falls back to the store's own connection rather than a finished transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import type { FleetStore } from './fleet-store.js';
import type { RepositoryContext } from './repositories/context.js';
import { KyselyAssignmentRepository } from './repositories/assignment-repository.js';
import { KyselyBrokerUserRepository } from './repositories/broker-user-repository.js';
import { KyselyConsoleSessionRepository } from './repositories/console-session-repository.js';
import { KyselyDatasetRepository } from './repositories/dataset-repository.js';
import { KyselyDeviceRepository } from './repositories/device-repository.js';
import { DeviceGroupCache } from './repositories/device-groups.js';
import {
  KyselyAdminTokenRepository,
  KyselyCredentialRepository,
  KyselyEnrollmentTokenRepository,
} from './repositories/identity-repositories.js';
import { KyselyKeyRepository } from './repositories/key-repository.js';
import { KyselyModelVersionRepository } from './repositories/model-version-repository.js';
import { KyselyRolloutRepository } from './repositories/rollout-repository.js';
import { KyselyRollupRepository } from './repositories/rollup-repository.js';
import {
  KyselyAuditRepository,
  KyselySampleRepository,
  KyselyTransferRepository,
  KyselyUpdateEventRepository,
} from './repositories/small-repositories.js';
import { KyselyTrainingRepository } from './repositories/training-repository.js';
import { KyselyMonitoringRepository } from './repositories/monitoring-repository.js';
import { KyselyLoopRepository } from './repositories/loop-repository.js';
import { KyselyChangeMarkRepository } from './repositories/change-marks.js';
import { KyselyTelemetryRepository, type TelemetryWriter } from './repositories/telemetry-repository.js';
import type { Database } from './schema.js';
import { soleCoordination, type ClusterCoordination } from './leader-lease.js';
import type { BlobNamespace, BlobStore } from './blobs/blob-store.js';
import type { SqlDialect } from './sql-dialect.js';

interface OpenTransaction {
  db: Kysely<Database>;
  open: boolean;
}

export interface KyselyStoreOptions {
  /** The telemetry hot path: each database's own batch insert (cached statements, one unnest call). */
  telemetryWriter: (ctx: RepositoryContext) => TelemetryWriter;
  /** Before the Kysely instance is destroyed (e.g. wait for a WAL fsync in flight). */
  beforeClose?: () => Promise<void> | void;
  /** After the Kysely instance is destroyed (e.g. stop a partition manager). */
  onClose?: () => Promise<void> | void;
  /** Default: the store belongs to one process, which always leads. */
  cluster?: ClusterCoordination;
  /** Blobs kept in the database itself (FleetStore.blobStore). */
  blobStore?: (namespace: BlobNamespace, stagingDir: string) => BlobStore;
}

export class KyselyFleetStore implements FleetStore {
  private readonly current = new AsyncLocalStorage<OpenTransaction>();
  readonly ctx: RepositoryContext;
  readonly devices;
  readonly assignments;
  readonly shadows;
  readonly updateEvents;
  readonly models;
  readonly telemetry;
  readonly samples;
  readonly audit;
  readonly credentials;
  readonly brokerUsers;
  readonly enrollmentTokens;
  readonly adminTokens;
  readonly consoleSessions;
  readonly keys;
  readonly rollouts;
  readonly transfers;
  readonly training;
  readonly datasets;
  readonly rollups;
  readonly monitoring;
  readonly loop;
  readonly changes;
  readonly cluster: ClusterCoordination;
  readonly blobStore: ((namespace: BlobNamespace, stagingDir: string) => BlobStore) | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly root: Kysely<Database>,
    dialect: SqlDialect,
    private readonly opts: KyselyStoreOptions,
  ) {
    this.ctx = {
      db: () => {
        const tx = this.current.getStore();
        return tx?.open ? tx.db : this.root;
      },
      dialect,
      inTransaction: () => this.inTransaction(),
      atomic: (fn) => this.transaction(() => fn()),
    };
    const ctx = this.ctx;
    // The ingest's rollup fold reads devices' groups through this cache; label changes drop entries.
    const groups = new DeviceGroupCache();
    this.devices = new KyselyDeviceRepository(ctx, groups);
    this.assignments = new KyselyAssignmentRepository(ctx, 'assignments');
    this.shadows = new KyselyAssignmentRepository(ctx, 'shadow_assignments');
    this.updateEvents = new KyselyUpdateEventRepository(ctx);
    this.models = new KyselyModelVersionRepository(ctx);
    this.rollups = new KyselyRollupRepository(ctx);
    this.telemetry = new KyselyTelemetryRepository(ctx, opts.telemetryWriter(ctx), this.devices, this.rollups, groups);
    this.samples = new KyselySampleRepository(ctx);
    this.audit = new KyselyAuditRepository(ctx);
    this.credentials = new KyselyCredentialRepository(ctx);
    this.brokerUsers = new KyselyBrokerUserRepository(ctx);
    this.enrollmentTokens = new KyselyEnrollmentTokenRepository(ctx);
    this.adminTokens = new KyselyAdminTokenRepository(ctx);
    this.consoleSessions = new KyselyConsoleSessionRepository(ctx);
    this.keys = new KyselyKeyRepository(ctx);
    this.rollouts = new KyselyRolloutRepository(ctx);
    this.transfers = new KyselyTransferRepository(ctx);
    this.training = new KyselyTrainingRepository(ctx);
    this.datasets = new KyselyDatasetRepository(ctx);
    this.rollups = new KyselyRollupRepository(ctx);
    this.monitoring = new KyselyMonitoringRepository(ctx);
    this.loop = new KyselyLoopRepository(ctx);
    this.changes = new KyselyChangeMarkRepository(ctx);
    this.cluster = opts.cluster ?? soleCoordination;
    this.blobStore = opts.blobStore;
  }

  /** Whether the caller runs inside a unit of work. */
  inTransaction(): boolean {
    return this.current.getStore()?.open === true;
  }

  async transaction<T>(fn: (tx: FleetStore) => Promise<T>): Promise<T> {
    if (this.inTransaction()) return fn(this);
    return this.root.transaction().execute(async (trx) => {
      const tx: OpenTransaction = { db: trx, open: true };
      try {
        return await this.current.run(tx, () => fn(this));
      } finally {
        tx.open = false;
      }
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.opts.beforeClose?.();
      await this.root.destroy();
      await this.opts.onClose?.();
    })();
    return this.closed;
  }
}
