/**
 * @module store/postgres/postgres-telemetry-writer
 * The telemetry hot path of the PostgreSQL store: telemetry-writer.ts's one-call batch insert and
 * batch of reference values, run through Kysely on the connection of the unit of work in
 * progress, so they commit (or roll back) with everything else done in that transaction; and
 * the ingest's group commit: one call inside a unit of work, else COPY in a transaction of its
 * own (telemetry-copy.ts).
 */
import { CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { RepositoryContext } from '../repositories/context.js';
import type { TelemetryWriter } from '../repositories/telemetry-repository.js';
import { commitBatches } from './telemetry-copy.js';
import type { IngestBatch, StoredBatch } from '../fleet-store.js';
import type { BatchFold } from '../repositories/ingest-rollups.js';
import {
  foldStored,
  insertTelemetry,
  storeBatches,
  updateReferences,
  type ReferenceUpdateResult,
  type SqlRunner,
} from './telemetry-writer.js';

export function kyselyRunner(ctx: RepositoryContext): SqlRunner {
  return async <R extends object>(text: string, values: unknown[]) => {
    const res = await ctx.db().executeQuery<R>(CompiledQuery.raw(text, values));
    return { rows: res.rows, rowCount: Number(res.numAffectedRows ?? 0) };
  };
}

export class PostgresTelemetryWriter implements TelemetryWriter {
  private readonly run: SqlRunner;

  /**
   * Groups on separate pooled connections overlap: one is inserted while another waits for its
   * commit's fsync. The ingest keeps a device out of two groups at once.
   */
  constructor(
    ctx: RepositoryContext,
    private readonly pool: pg.Pool,
    readonly parallelWrites = 2,
  ) {
    this.run = kyselyRunner(ctx);
  }

  commitBatches(batches: readonly IngestBatch[], now: number, fold?: BatchFold): Promise<StoredBatch[]> {
    return commitBatches(this.pool, batches, now, fold);
  }

  async storeBatches(batches: readonly IngestBatch[], now: number, fold?: BatchFold): Promise<StoredBatch[]> {
    const stored = await storeBatches(this.run, batches, now);
    if (fold) await foldStored(this.run, batches, stored, now, fold);
    return stored;
  }

  insertRows(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now: number,
    historical: boolean,
  ): Promise<number> {
    return insertTelemetry(this.run, deviceId, stream, records, now, historical);
  }

  setReferences(
    deviceId: string,
    stream: string,
    updates: ReadonlyArray<{ seq: number; reference: number }>,
    now: number,
  ): Promise<ReferenceUpdateResult> {
    return updateReferences(this.run, deviceId, stream, updates, now);
  }
}
