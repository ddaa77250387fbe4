/**
 * @module store/sqlite/sqlite-telemetry-writer
 * The telemetry hot path on SQLite. Kysely prepares every statement anew; this keeps prepared
 * multi-row INSERT statements of 1 and ROWS_PER_INSERT rows for the life of the connection, so
 * a batch of 500 records costs a handful of calls into SQLite with no SQL compiled. The ingest's
 * group commit (storeBatches) adds prepared statements for the device row (ensure, touch) and
 * for late reference values waiting for the records, so a whole group compiles nothing either.
 *
 * storeBatches and insertRows are safe only inside a unit of work: the repository calls them
 * within its transaction, which holds the one connection, so no other statement can slip in
 * between these synchronous calls.
 *
 * commitBatches (the ingest's group commit outside a unit of work, on a database file) takes the
 * connection itself and commits with synchronous=NORMAL: the commit does not fsync the WAL on
 * the main thread; WalSync fsyncs it in the threadpool and the call resolves only after that, so
 * an ack still means durable. While one group waits for its fsync the next is inserted
 * (parallelWrites 2). Every other transaction keeps synchronous=FULL: durable when it returns.
 */
import type Database from 'better-sqlite3';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { IngestBatch, StoredBatch } from '../fleet-store.js';
import type { TelemetryWriter } from '../repositories/telemetry-repository.js';
import type { WalCheckpointer } from './wal-checkpointer.js';
import type { WalSync } from './wal-sync.js';

/** Runs fn while holding the store's one connection (no Kysely transaction can be open meanwhile). */
export type Exclusive = <T>(fn: () => T) => Promise<T>;

/** What commitBatches needs: the WAL's fsync, the connection, and (optionally) checkpoints off the main thread. */
export interface DurableCommit {
  wal: WalSync;
  exclusive: Exclusive;
  checkpointer?: WalCheckpointer;
}

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

  private readonly ensure: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly waiting: Database.Statement;
  private readonly applyWaiting: Database.Statement;
  private readonly takeWaiting: Database.Statement;

  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  readonly parallelWrites: number;
  readonly commitBatches?: (batches: readonly IngestBatch[], now: number) => Promise<StoredBatch[]>;

  /** Without `durable` (an in-memory database) the ingest's groups go through storeBatches in a unit of work. */
  constructor(
    private readonly db: Database.Database,
    durable?: DurableCommit,
  ) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.parallelWrites = durable ? 2 : 1;
    if (durable) this.commitBatches = (batches, now) => this.commitDurably(durable, batches, now);
    this.one = db.prepare(insertSql(1));
    this.many = db.prepare(insertSql(ROWS_PER_INSERT));
    this.ensure = db.prepare(
      'INSERT INTO devices (id, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING',
    );
    this.touch = db.prepare(
      `UPDATE devices SET last_seen = ?, backlog = coalesce(?, backlog), records = records + ?,
              dropped = CASE WHEN ? IS NULL THEN dropped ELSE max(dropped, ?) END
        WHERE id = ?`,
    );
    this.waiting = db.prepare(
      'SELECT seq, reference FROM pending_references WHERE device_id = ? AND stream = ? AND seq BETWEEN ? AND ?',
    );
    this.applyWaiting = db.prepare('UPDATE telemetry SET reference = ? WHERE device_id = ? AND stream = ? AND seq = ?');
    this.takeWaiting = db.prepare('DELETE FROM pending_references WHERE device_id = ? AND stream = ? AND seq = ?');
  }

  async storeBatches(batches: readonly IngestBatch[], now: number): Promise<StoredBatch[]> {
    return this.storeSync(batches, now);
  }

  private async commitDurably(
    durable: DurableCommit,
    batches: readonly IngestBatch[],
    now: number,
  ): Promise<StoredBatch[]> {
    // Refuse before writing: after a failed fsync the WAL on disk cannot be trusted.
    if (durable.wal.failed) throw durable.wal.failed;
    const stored = await durable.exclusive(() => {
      // SQLite refuses to change the level inside a transaction: switch around it, always back to FULL.
      // db.pragma, not a statement prepared once: SQLite applies a synchronous PRAGMA when it
      // is prepared, so a prepared one ran again may leave the level where the last prepare set it.
      this.db.pragma('synchronous = NORMAL');
      try {
        this.begin.run();
        try {
          const out = this.storeSync(batches, now);
          this.commit.run();
          let records = 0;
          for (const b of batches) records += b.records.length;
          durable.checkpointer?.committed(records);
          return out;
        } catch (err) {
          if (this.db.inTransaction) this.rollback.run();
          throw err;
        }
      } finally {
        this.db.pragma('synchronous = FULL');
      }
    });
    await durable.wal.sync();
    return stored;
  }

  private storeSync(batches: readonly IngestBatch[], now: number): StoredBatch[] {
    const out: StoredBatch[] = [];
    for (const b of batches) {
      const registered = this.ensure.run(b.deviceId, now, now).changes > 0;
      const added = b.records.length === 0 ? 0 : this.insertSync(b.deviceId, b.stream, b.records, now, b.historical);
      if (added > 0) this.applyPending(b.deviceId, b.stream, b.records);
      const dropped = b.dropped ?? null;
      this.touch.run(now, b.backlog ?? null, added, dropped, dropped, b.deviceId);
      out.push({ added, registered });
    }
    return out;
  }

  /** Late reference values that waited for these records. */
  private applyPending(deviceId: string, stream: string, records: readonly TelemetryRecord[]): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of records) {
      if (r.seq < lo) lo = r.seq;
      if (r.seq > hi) hi = r.seq;
    }
    const waiting = this.waiting.all(deviceId, stream, lo, hi) as Array<{ seq: number; reference: number }>;
    for (const p of waiting)
      if (this.applyWaiting.run(p.reference, deviceId, stream, p.seq).changes > 0)
        this.takeWaiting.run(deviceId, stream, p.seq);
  }

  async insertRows(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now: number,
    historical: boolean,
  ): Promise<number> {
    return this.insertSync(deviceId, stream, records, now, historical);
  }

  private insertSync(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now: number,
    historical: boolean,
  ): number {
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
