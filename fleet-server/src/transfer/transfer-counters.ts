/**
 * @module transfer/transfer-counters
 * Artifact bytes sent per device, per artifact and transport. Counted in memory as bytes leave and
 * written in one transaction every `flushMs` (and on close): one fsync per flush instead of one
 * per 64 KiB block keeps accounting off the transfer's critical path. The running total per
 * device is `devices.bytes_sent` (shown as bytesSent in the device view); the detail is in
 * `transfer_bytes`.
 */
import type { FleetDb } from '../store/fleet-db.js';

export type Transport = 'http' | 'mqtt';

interface Pending {
  deviceId: string;
  sha256: string;
  transport: Transport;
  bytes: number;
  requests: number;
}

export interface TransferDetail {
  sha256: string;
  transport: Transport;
  bytes: number;
  requests: number;
  updatedAt: number;
}

export class TransferCounters {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private readonly upsert;
  private readonly addTotal;

  constructor(private readonly db: FleetDb, flushMs = 500) {
    this.upsert = db.prepare(
      `INSERT INTO transfer_bytes (device_id, sha256, transport, bytes, requests, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(device_id, sha256, transport) DO UPDATE SET bytes = bytes + excluded.bytes, requests = requests + excluded.requests,
         updated_at = excluded.updated_at`,
    );
    this.addTotal = db.prepare('UPDATE devices SET bytes_sent = bytes_sent + ? WHERE id = ?');
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  /** `requests`: 1 when this call starts a request (HTTP range, MQTT fetch), 0 for further bytes of it. */
  add(deviceId: string, sha256: string, transport: Transport, bytes: number, requests = 0): void {
    const key = `${deviceId}\u0000${sha256}\u0000${transport}`;
    const p = this.pending.get(key);
    if (p) {
      p.bytes += bytes;
      p.requests += requests;
    } else {
      this.pending.set(key, { deviceId, sha256, transport, bytes, requests });
    }
  }

  flush(now = Date.now()): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.db.transaction(() => {
      for (const p of batch) {
        this.upsert.run(p.deviceId, p.sha256, p.transport, p.bytes, p.requests, now);
        this.addTotal.run(p.bytes, p.deviceId);
      }
    })();
  }

  /** Total bytes sent to the device, including what is not flushed yet. */
  bytesSent(deviceId: string): number {
    const row = this.db.prepare('SELECT bytes_sent AS n FROM devices WHERE id = ?').get(deviceId) as { n: number } | undefined;
    let n = row?.n ?? 0;
    for (const p of this.pending.values()) if (p.deviceId === deviceId) n += p.bytes;
    return n;
  }

  /** Per artifact and transport (flushed figures). */
  detail(deviceId: string): TransferDetail[] {
    this.flush();
    return (this.db.prepare('SELECT sha256, transport, bytes, requests, updated_at AS updatedAt FROM transfer_bytes WHERE device_id = ? ORDER BY updated_at DESC').all(deviceId) as TransferDetail[]);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
