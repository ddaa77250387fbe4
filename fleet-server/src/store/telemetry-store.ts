/**
 * @module store/telemetry-store
 * Prediction records as synced from devices. Inserts are idempotent on (device, stream, seq),
 * so the agent may re-send anything it has no ack for.
 */
import type { TelemetryRecord, TelemetryRow } from '@edgeloop/protocol';
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
}

export class TelemetryStore {
  private readonly insert;

  constructor(private readonly db: FleetDb) {
    this.insert = db.prepare(
      `INSERT INTO telemetry (device_id, stream, seq, ts, received_at, model, version, request_id, output, prediction, latency_ms, features, reference, historical)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(device_id, stream, seq) DO NOTHING`,
    );
  }

  /** Returns how many records were new (duplicates of already stored ones are skipped). */
  insertBatch(deviceId: string, stream: string, records: readonly TelemetryRecord[], now = Date.now(), historical = false): number {
    return this.db.transaction(() => {
      let added = 0;
      for (const r of records) {
        added += this.insert.run(
          deviceId, stream, r.seq, r.ts, now, r.model, r.version, r.requestId ?? null, JSON.stringify(r.output),
          r.prediction ?? null, r.latencyMs, JSON.stringify(r.features), r.reference ?? null, historical ? 1 : 0,
        ).changes;
      }
      return added;
    })();
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
    }));
  }

  count(deviceId?: string): number {
    const row = deviceId
      ? this.db.prepare('SELECT count(*) AS n FROM telemetry WHERE device_id = ?').get(deviceId)
      : this.db.prepare('SELECT count(*) AS n FROM telemetry').get();
    return (row as { n: number }).n;
  }
}
