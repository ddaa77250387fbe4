/**
 * @module transfer/transfer-counters
 * Artifact bytes sent per device, per artifact and transport. Counted in memory as bytes leave and
 * written in one transaction every `flushMs` (and on close): one fsync per flush instead of one
 * per 64 KiB block keeps accounting off the transfer's critical path. The running total per
 * device is `devices.bytes_sent` (shown as bytesSent in the device view); the detail is in
 * `transfer_bytes`.
 */
import type { FleetStore } from '../store/fleet-store.js';

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
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: FleetStore,
    flushMs = 500,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.timer = setInterval(() => void this.flush().catch(this.onError), flushMs);
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

  /** Writes what was counted since the last flush, in one transaction; flushes run one at a time. */
  flush(now = Date.now()): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.store.transaction(async (tx) => {
          await tx.transfers.add(batch, now);
          for (const p of batch) await tx.devices.addBytesSent(p.deviceId, p.bytes);
        });
      } catch (err) {
        // Not lost: counted again with whatever comes next.
        for (const p of batch) this.add(p.deviceId, p.sha256, p.transport, p.bytes, p.requests);
        throw err;
      }
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Total bytes sent to the device, including what is not flushed yet. */
  async bytesSent(deviceId: string): Promise<number> {
    let n = (await this.store.devices.get(deviceId))?.bytesSent ?? 0;
    for (const p of this.pending.values()) if (p.deviceId === deviceId) n += p.bytes;
    return n;
  }

  /** Per artifact and transport (flushed figures). */
  async detail(deviceId: string): Promise<TransferDetail[]> {
    await this.flush();
    return this.store.transfers.detail(deviceId);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}
