/**
 * @module store/telemetry-store
 * Prediction records as synced from devices. Inserts are idempotent on (device, stream, seq),
 * so the agent may re-send anything it has no ack for. Shadow records (a candidate version run
 * beside the serving one) are rows like any other, flagged `shadow`; live error is computed per
 * (model, version, shadow) over rows that have both a prediction and a reference.
 */
import type { LiveError, TelemetryRecord, TelemetryRow } from '@edgeloop/protocol';
import type { FleetDb } from './fleet-db.js';

export type StoredRecord = TelemetryRow;

export interface TelemetryQuery {
  device?: string;
  model?: string;
  version?: number;
  afterId?: number;
  limit?: number;
  /** Oldest first from afterId (paging) instead of the newest records. */
  order?: 'newest' | 'oldest';
  /** true: only shadow records; false: only served ones; absent: both. */
  shadow?: boolean;
}

export interface LiveErrorQuery {
  model: string;
  version?: number;
  /** true: the version's shadow records; false: its served records; absent: each separately. */
  shadow?: boolean;
  /** Only these devices (e.g. a rollout wave). */
  devices?: readonly string[];
  /** Records made at or after this time (ms). */
  since?: number;
}

const COLUMNS = ['device_id', 'stream', 'seq', 'ts', 'received_at', 'model', 'version', 'request_id', 'output', 'prediction', 'latency_ms', 'features', 'reference', 'historical', 'shadow'];
/** Rows per INSERT statement: one call into SQLite per 32 records instead of one per record. */
const ROWS_PER_INSERT = 32;

function insertSql(rows: number): string {
  const values = `(${COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO telemetry (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => values).join(', ')}
          ON CONFLICT(device_id, stream, seq) DO NOTHING`;
}

/** Fills one row's parameters, in COLUMNS order, at args[at]. */
function setRow(args: unknown[], at: number, deviceId: string, stream: string, r: TelemetryRecord, now: number, historical: number): void {
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

export class TelemetryStore {
  private readonly insert;
  private readonly insertMany;

  constructor(private readonly db: FleetDb) {
    this.insert = db.prepare(insertSql(1));
    this.insertMany = db.prepare(insertSql(ROWS_PER_INSERT));
  }

  /** Returns how many records were new (duplicates of already stored ones are skipped). */
  insertBatch(deviceId: string, stream: string, records: readonly TelemetryRecord[], now = Date.now(), historical = false): number {
    return this.db.transaction(() => {
      const flag = historical ? 1 : 0;
      let added = 0;
      let i = 0;
      if (records.length >= ROWS_PER_INSERT) {
        const args = new Array<unknown>(ROWS_PER_INSERT * COLUMNS.length);
        for (; i + ROWS_PER_INSERT <= records.length; i += ROWS_PER_INSERT) {
          for (let j = 0; j < ROWS_PER_INSERT; j++) setRow(args, j * COLUMNS.length, deviceId, stream, records[i + j]!, now, flag);
          added += this.insertMany.run(args).changes;
        }
      }
      const args = new Array<unknown>(COLUMNS.length);
      for (; i < records.length; i++) {
        setRow(args, 0, deviceId, stream, records[i]!, now, flag);
        added += this.insert.run(args).changes;
      }
      return added;
    })();
  }

  /** Runs fn in one transaction: the ingest stores several batches with one commit (group commit). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Sets late reference values; returns how many records matched. */
  updateReferences(deviceId: string, stream: string, updates: ReadonlyArray<{ seq: number; reference: number }>): number {
    const stmt = this.db.prepare('UPDATE telemetry SET reference = ? WHERE device_id = ? AND stream = ? AND seq = ?');
    return this.db.transaction(() => updates.reduce((n, u) => n + stmt.run(u.reference, deviceId, stream, u.seq).changes, 0))();
  }

  query(q: TelemetryQuery = {}): StoredRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.device) { where.push('device_id = ?'); args.push(q.device); }
    if (q.model) { where.push('model = ?'); args.push(q.model); }
    if (q.version !== undefined) { where.push('version = ?'); args.push(q.version); }
    if (q.afterId !== undefined) { where.push('id > ?'); args.push(q.afterId); }
    if (q.shadow !== undefined) { where.push('shadow = ?'); args.push(q.shadow ? 1 : 0); }
    const order = q.order === 'oldest' ? 'ASC' : 'DESC';
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 10_000);
    const sql = `SELECT * FROM telemetry ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as Array<Record<string, unknown>>).map((r) => ({
      id: r.id as number,
      deviceId: r.device_id as string,
      stream: r.stream as string,
      seq: r.seq as number,
      ts: r.ts as number,
      receivedAt: r.received_at as number,
      model: r.model as string,
      version: r.version as number,
      requestId: r.request_id as string | null,
      output: JSON.parse(r.output as string) as number[],
      prediction: r.prediction as number | null,
      latencyMs: r.latency_ms as number,
      features: JSON.parse(r.features as string) as Record<string, number>,
      reference: r.reference as number | null,
      historical: r.historical === 1,
      shadow: r.shadow === 1,
    }));
  }

  /**
   * Live error vs reference values per (version, shadow) of a model: MAE and RMSE over records
   * with both a prediction and a reference. A shadow candidate and the version serving beside it
   * see the same inputs and the same references, so their figures compare like for like.
   */
  liveError(q: LiveErrorQuery): LiveError[] {
    const where = ['model = ?', 'prediction IS NOT NULL', 'reference IS NOT NULL'];
    const args: unknown[] = [q.model];
    if (q.version !== undefined) { where.push('version = ?'); args.push(q.version); }
    if (q.shadow !== undefined) { where.push('shadow = ?'); args.push(q.shadow ? 1 : 0); }
    if (q.since !== undefined) { where.push('ts >= ?'); args.push(q.since); }
    if (q.devices) { where.push('device_id IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(q.devices)); }
    const rows = this.db
      .prepare(
        `SELECT version, shadow, count(*) AS n, avg(abs(prediction - reference)) AS mae, avg((prediction - reference) * (prediction - reference)) AS mse
         FROM telemetry WHERE ${where.join(' AND ')} GROUP BY version, shadow ORDER BY version, shadow`,
      )
      .all(...args) as Array<{ version: number; shadow: number; n: number; mae: number | null; mse: number | null }>;
    const found = rows.map((r) => ({ model: q.model, version: r.version, shadow: r.shadow === 1, n: r.n, mae: r.mae, rmse: r.mse === null ? null : Math.sqrt(r.mse) }));
    // Asked for one exact (version, shadow) pair: say "no data" explicitly rather than returning nothing.
    if (found.length === 0 && q.version !== undefined && q.shadow !== undefined) return [{ model: q.model, version: q.version, shadow: q.shadow, n: 0, mae: null, rmse: null }];
    return found;
  }

  count(deviceId?: string): number {
    const row = deviceId
      ? this.db.prepare('SELECT count(*) AS n FROM telemetry WHERE device_id = ?').get(deviceId)
      : this.db.prepare('SELECT count(*) AS n FROM telemetry').get();
    return (row as { n: number }).n;
  }
}
