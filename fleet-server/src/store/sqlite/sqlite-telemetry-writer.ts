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
import type { BatchFold } from '../repositories/ingest-rollups.js';
import { freshRecords, type TelemetryWriter } from '../repositories/telemetry-repository.js';
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

interface StoredSeq {
  seq: number;
  reference: number | null;
}

function seqBounds(records: readonly TelemetryRecord[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of records) {
    if (r.seq < lo) lo = r.seq;
    if (r.seq > hi) hi = r.seq;
  }
  return { lo, hi };
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
  private readonly highestSeq: Database.Statement;
  private readonly storedSeqs: Database.Statement;
  private readonly insertRollup: Database.Statement;
  readonly commitBatches?: (batches: readonly IngestBatch[], now: number, fold?: BatchFold) => Promise<StoredBatch[]>;

  /** Without `durable` (an in-memory database) the ingest's groups go through storeBatches in a unit of work. */
  constructor(
    private readonly db: Database.Database,
    durable?: DurableCommit,
  ) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.parallelWrites = durable ? 2 : 1;
    if (durable) this.commitBatches = (batches, now, fold) => this.commitDurably(durable, batches, now, fold);
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
    this.highestSeq = db.prepare('SELECT max(seq) AS seq FROM telemetry WHERE device_id = ? AND stream = ?').pluck();
    this.storedSeqs = db.prepare(
      'SELECT seq, reference FROM telemetry WHERE device_id = ? AND stream = ? AND seq BETWEEN ? AND ?',
    );
    this.insertRollup = db.prepare(
      'INSERT INTO rollups (model, version, role, scope, window_start, window_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  async storeBatches(batches: readonly IngestBatch[], now: number, fold?: BatchFold): Promise<StoredBatch[]> {
    return this.storeSync(batches, now, fold);
  }

  private async commitDurably(
    durable: DurableCommit,
    batches: readonly IngestBatch[],
    now: number,
    fold: BatchFold | undefined,
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
          const out = this.storeSync(batches, now, fold);
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

  /**
   * The records go in, then (with `fold`) their rollups. Which records were new is known exactly:
   * one connection writes, so the seqs stored before the insert are all there is. The usual batch
   * lies wholly above its stream's highest seq and needs no second look; another is compared with
   * what its seq range held before.
   */
  private storeSync(batches: readonly IngestBatch[], now: number, fold: BatchFold | undefined): StoredBatch[] {
    const out: StoredBatch[] = [];
    const fresh: Array<readonly TelemetryRecord[]> = [];
    for (const b of batches) {
      const registered = this.ensure.run(b.deviceId, now, now).changes > 0;
      let added = 0;
      if (b.records.length > 0) {
        const { lo, hi } = seqBounds(b.records);
        const highest = fold ? (this.highestSeq.get(b.deviceId, b.stream) as number | null) : null;
        const before =
          fold && highest !== null && lo <= highest ? this.storedSeqs.all(b.deviceId, b.stream, lo, hi) : undefined;
        added = this.insertSync(b.deviceId, b.stream, b.records, now, b.historical);
        const applied = added > 0 ? this.applyPending(b.deviceId, b.stream, lo, hi) : undefined;
        if (fold) fresh.push(added === 0 ? [] : this.newRecords(b.records, before as StoredSeq[] | undefined, applied));
      } else if (fold) fresh.push([]);
      const dropped = b.dropped ?? null;
      this.touch.run(now, b.backlog ?? null, added, dropped, dropped, b.deviceId);
      out.push({ added, registered });
    }
    if (fold)
      for (const r of fold.rows(batches, fresh))
        this.insertRollup.run(r.model, r.version, r.role, r.scope, r.window_start, r.window_ms, r.body);
    return out;
  }

  /** The batch's records that were not stored before it, with the waiting references they took. */
  private newRecords(
    records: readonly TelemetryRecord[],
    before: StoredSeq[] | undefined,
    applied: Map<number, number> | undefined,
  ): TelemetryRecord[] {
    const had = new Set(before?.map((r) => r.seq));
    const stored = new Map<number, number | null>();
    for (const r of records) if (!had.has(r.seq)) stored.set(r.seq, applied?.get(r.seq) ?? r.reference ?? null);
    return freshRecords(records, stored);
  }

  /** Late reference values that waited for these records; returns those applied, by seq. */
  private applyPending(deviceId: string, stream: string, lo: number, hi: number): Map<number, number> | undefined {
    const waiting = this.waiting.all(deviceId, stream, lo, hi) as Array<{ seq: number; reference: number }>;
    if (waiting.length === 0) return undefined;
    const applied = new Map<number, number>();
    for (const p of waiting)
      if (this.applyWaiting.run(p.reference, deviceId, stream, p.seq).changes > 0) {
        this.takeWaiting.run(deviceId, stream, p.seq);
        applied.set(p.seq, p.reference);
      }
    return applied;
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
