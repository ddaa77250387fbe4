/**
 * @module store/sqlite/sqlite-telemetry-writer
 * The telemetry hot path on SQLite. Kysely prepares every statement anew; this keeps prepared
 * multi-row INSERT statements of 1 and ROWS_PER_INSERT rows for the life of the connection, so
 * a batch of 500 records costs a handful of calls into SQLite with no SQL compiled.
 *
 * Safe only inside a unit of work: the repository calls it within its transaction, which holds
 * the one connection, so no other statement can slip in between these synchronous calls.
 */
import type Database from 'better-sqlite3';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { TelemetryWriter } from '../repositories/telemetry-repository.js';

const COLUMNS = [
  'device_id',
  'stream',
  'seq',
  'ts',
  'received_at',
  'model',
  'version',
  'request_id',
  'output',
  'prediction',
  'latency_ms',
  'features',
  'reference',
  'historical',
  'shadow',
];
/** Rows per statement: 64 × 15 parameters stays far below SQLite's limit of 32766. */
const ROWS_PER_INSERT = 64;

function insertSql(rows: number): string {
  const values = `(${COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO telemetry (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => values).join(', ')}
          ON CONFLICT(device_id, stream, seq) DO NOTHING`;
}

/** Fills one row's parameters, in COLUMNS order, at args[at]. */
function setRow(
  args: unknown[],
  at: number,
  deviceId: string,
  stream: string,
  r: TelemetryRecord,
  now: number,
  historical: number,
): void {
  args[at] = deviceId;
  args[at + 1] = stream;
  args[at + 2] = r.seq;
  args[at + 3] = r.ts;
  args[at + 4] = now;
  args[at + 5] = r.model;
  args[at + 6] = r.version;
  args[at + 7] = r.requestId ?? null;
  args[at + 8] = JSON.stringify(r.output);
  args[at + 9] = r.prediction ?? null;
  args[at + 10] = r.latencyMs;
  args[at + 11] = JSON.stringify(r.features);
  args[at + 12] = r.reference ?? null;
  args[at + 13] = historical;
  args[at + 14] = r.shadow ? 1 : 0;
}

export class SqliteTelemetryWriter implements TelemetryWriter {
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;
  private readonly manyArgs = new Array<unknown>(ROWS_PER_INSERT * COLUMNS.length);
  private readonly oneArgs = new Array<unknown>(COLUMNS.length);

  constructor(db: Database.Database) {
    this.one = db.prepare(insertSql(1));
    this.many = db.prepare(insertSql(ROWS_PER_INSERT));
  }

  async insertRows(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now: number,
    historical: boolean,
  ): Promise<number> {
    const flag = historical ? 1 : 0;
    let added = 0;
    let i = 0;
    for (; i + ROWS_PER_INSERT <= records.length; i += ROWS_PER_INSERT) {
      for (let j = 0; j < ROWS_PER_INSERT; j++)
        setRow(this.manyArgs, j * COLUMNS.length, deviceId, stream, records[i + j]!, now, flag);
      added += this.many.run(this.manyArgs).changes;
    }
    for (; i < records.length; i++) {
      setRow(this.oneArgs, 0, deviceId, stream, records[i]!, now, flag);
      added += this.one.run(this.oneArgs).changes;
    }
    return added;
  }
}
