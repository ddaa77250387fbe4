/**
 * @module store/postgres/postgres-telemetry-writer
 * The telemetry hot path of the PostgreSQL store: telemetry-writer.ts's one-statement batch
 * insert, run through Kysely on the connection of the unit of work in progress, so it commits
 * (or rolls back) with everything else the ingest does in that transaction.
 */
import { CompiledQuery } from 'kysely';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { RepositoryContext } from '../repositories/context.js';
import type { TelemetryWriter } from '../repositories/telemetry-repository.js';
import { insertTelemetry, type SqlRunner } from './telemetry-writer.js';

export function kyselyRunner(ctx: RepositoryContext): SqlRunner {
  return async <R extends object>(text: string, values: unknown[]) => {
    const res = await ctx.db().executeQuery<R>(CompiledQuery.raw(text, values));
    return { rows: res.rows, rowCount: Number(res.numAffectedRows ?? 0) };
  };
}

export class PostgresTelemetryWriter implements TelemetryWriter {
  private readonly run: SqlRunner;

  constructor(ctx: RepositoryContext) {
    this.run = kyselyRunner(ctx);
  }

  insertRows(deviceId: string, stream: string, records: readonly TelemetryRecord[], now: number, historical: boolean): Promise<number> {
    return insertTelemetry(this.run, deviceId, stream, records, now, historical);
  }
}
