/**
 * @module store/sample-store
 * Retraining samples from devices: metadata in SQLite, bytes content-addressed on disk (the
 * artifact store's layout), so a re-sent sample costs nothing and a file's name is its hash.
 */
import { sampleCaptureSchema, type Sample, type SampleCapture, type SampleSummary } from '@edgeloop/protocol';
import type { ArtifactStore } from '../registry/artifact-store.js';
import type { FleetDb } from './fleet-db.js';

export type SampleRow = SampleSummary;

export class SampleStore {
  constructor(
    private readonly db: FleetDb,
    private readonly files: ArtifactStore,
  ) {}

  /** Returns false when this (device, stream, seq) was stored before (a re-send). */
  insert(deviceId: string, sample: Sample, now = Date.now()): boolean {
    const { sha256, size } = this.files.put(sample.data);
    return (
      this.db
        .prepare(
          `INSERT INTO samples (device_id, stream, seq, model, version, ts, reason, prediction, reference, content_type, sha256, bytes, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, stream, seq) DO NOTHING`,
        )
        .run(deviceId, sample.stream, sample.seq, sample.model, sample.version, sample.ts, sample.reason, sample.prediction, sample.reference,
          sample.contentType, sha256, size, now).changes > 0
    );
  }

  list(q: { device?: string; model?: string; limit?: number } = {}): SampleRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.device) { where.push('device_id = ?'); args.push(q.device); }
    if (q.model) { where.push('model = ?'); args.push(q.model); }
    const sql = `SELECT * FROM samples ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.min(Math.max(q.limit ?? 100, 1), 10_000)}`;
    return (this.db.prepare(sql).all(...args) as Array<Record<string, unknown>>).map(toRow);
  }

  get(id: number): SampleRow | undefined {
    const row = this.db.prepare('SELECT * FROM samples WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? toRow(row) : undefined;
  }

  setUploadUntil(deviceId: string, until: number): void {
    this.db.prepare('UPDATE devices SET sample_upload_until = ? WHERE id = ?').run(until, deviceId);
  }

  uploadUntil(deviceId: string): number | undefined {
    const row = this.db.prepare('SELECT sample_upload_until AS t FROM devices WHERE id = ?').get(deviceId) as { t: number | null } | undefined;
    return row?.t ?? undefined;
  }

  setCapture(deviceId: string, capture: SampleCapture): void {
    this.db.prepare('UPDATE devices SET sample_capture = ? WHERE id = ?').run(JSON.stringify(capture), deviceId);
  }

  clearCapture(deviceId: string): void {
    this.db.prepare('UPDATE devices SET sample_capture = NULL WHERE id = ?').run(deviceId);
  }

  /** The device's capture window, also once it has passed (the caller compares with the clock). */
  capture(deviceId: string): SampleCapture | undefined {
    const row = this.db.prepare('SELECT sample_capture AS c FROM devices WHERE id = ?').get(deviceId) as { c: string | null } | undefined;
    if (!row?.c) return undefined;
    const parsed = sampleCaptureSchema.safeParse(JSON.parse(row.c));
    return parsed.success ? parsed.data : undefined;
  }
}

function toRow(r: Record<string, unknown>): SampleRow {
  return {
    id: r.id as number, deviceId: r.device_id as string, stream: r.stream as string, seq: r.seq as number, model: r.model as string,
    version: r.version as number, ts: r.ts as number, reason: r.reason as string, prediction: r.prediction as number | null,
    reference: r.reference as number | null, contentType: r.content_type as string, sha256: r.sha256 as string, bytes: r.bytes as number,
    receivedAt: r.received_at as number,
  };
}
