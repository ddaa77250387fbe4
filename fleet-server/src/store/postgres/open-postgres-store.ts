/**
 * @module store/postgres/open-postgres-store
 * The fleet store on PostgreSQL: a pg pool (numbers for int8), migrations under an advisory lock,
 * telemetry partitions made and retired by a maintenance pass (one before the store is handed
 * out, then hourly), and the shared Kysely repositories with PostgreSQL's dialect adapter and
 * batch insert. Several fleet servers may open the same database.
 */
import { Kysely, PostgresDialect } from 'kysely';
import type { KyselyFleetStore as Store } from '../kysely-fleet-store.js';
import { KyselyFleetStore } from '../kysely-fleet-store.js';
import type { Database } from '../schema.js';
import { migratePostgres } from './migrations.js';
import { openPostgresPool, redactUrl } from './pg-pool.js';
import { postgresDialect } from './postgres-dialect.js';
import { PostgresTelemetryWriter } from './postgres-telemetry-writer.js';
import { postgresCoordination } from './postgres-leader-lease.js';
import { PostgresBlobStore } from './postgres-blob-store.js';
import { checkPartitionPolicy, startPartitionMaintenance, type PartitionPass } from './telemetry-partitions.js';

export interface PostgresStoreOptions {
  /**
   * Days of telemetry kept, by the records' own time (whole daily partitions are dropped).
   * Default: EDGELOOP_TELEMETRY_RETENTION_DAYS if set, else 30. 1..3650.
   */
  telemetryRetentionDays?: number;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** Hears every maintenance pass and failure; default: failures and retention of out-of-range rows go to console.warn. */
  onMaintenance?: (pass: PartitionPass | Error) => void;
  /** Maintenance interval (default one hour). */
  maintenanceIntervalMs?: number;
  /** An idle pooled connection failed (the next query opens a new one); default: console.warn. */
  onIdleError?: (err: Error) => void;
}

function retentionFromEnv(): number | undefined {
  const text = process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS;
  if (text === undefined || text === '') return undefined;
  const days = Number(text);
  if (!/^\d+$/.test(text.trim()))
    throw new Error(`EDGELOOP_TELEMETRY_RETENTION_DAYS must be a whole number of days, got "${text}"`);
  return days;
}

function warnOnTrouble(pass: PartitionPass | Error): void {
  if (pass instanceof Error)
    console.warn(`telemetry partition maintenance failed (retried next pass): ${pass.message}`);
  else if (pass.pruned > 0)
    console.warn(
      `telemetry retention removed ${pass.pruned} records whose device time was already past retention (device clocks behind?)`,
    );
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const policy = checkPartitionPolicy({ retentionDays: options.telemetryRetentionDays ?? retentionFromEnv() });
  const pool = openPostgresPool(url, {
    max: options.maxConnections ?? 10,
    onIdleError:
      options.onIdleError ??
      ((err) =>
        console.warn(`fleet store: an idle PostgreSQL connection failed (${err.message}); the next query reconnects`)),
  });
  let maintenance: Awaited<ReturnType<typeof startPartitionMaintenance>> | undefined;
  try {
    await migratePostgres(pool);
    maintenance = await startPartitionMaintenance(
      pool,
      policy,
      options.onMaintenance ?? warnOnTrouble,
      options.maintenanceIntervalMs,
    );
  } catch (err) {
    await pool.end();
    throw new Error(`cannot open the PostgreSQL fleet store at ${redactUrl(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const running = maintenance;
  const coordination = postgresCoordination(url);
  // Kysely ends its pool on destroy, before the store's onClose; the pool is ended here instead,
  // once maintenance has stopped, so a pass in progress never meets an ended pool.
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: { connect: () => pool.connect(), end: async () => undefined } }),
  });
  return new KyselyFleetStore(kysely, postgresDialect, {
    telemetryWriter: (ctx) => new PostgresTelemetryWriter(ctx, pool),
    cluster: coordination,
    blobStore: (namespace, stagingDir) => new PostgresBlobStore(pool, namespace, stagingDir),
    onClose: async () => {
      await coordination.close();
      await running.stop();
      await pool.end();
    },
  });
}
