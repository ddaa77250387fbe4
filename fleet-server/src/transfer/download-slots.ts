/**
 * @module transfer/download-slots
 * The cap on devices downloading at the same time (HTTP and MQTT share it). A device holds a slot
 * from its first request until it has fetched the artifact's last byte, or until it has been idle
 * for `idleMs` (it went offline mid-transfer; when it comes back it queues again). Devices beyond
 * the cap wait in arrival order; their requests are answered when a slot frees up.
 *
 * Why devices and not requests: a download is many small requests, and admitting requests would
 * let 1,000 devices each get a little and all finish late; admitting devices lets the first ones
 * finish (and start serving) at full speed while the rest wait their turn.
 */

export interface DownloadSlotsOptions {
  /** Devices downloading at once; the rest queue. */
  maxConcurrent: number;
  /** A slot whose device made no request for this long is given to the next device. */
  idleMs: number;
}

export type Admission = { admitted: true } | { admitted: false; position: number; ready: Promise<void> };

interface Waiter {
  deviceId: string;
  ready: Promise<void>;
  resolve: () => void;
}

export class DownloadSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter>();
  private readonly sweeper: NodeJS.Timeout;
  /** Devices admitted so far (a device that re-queues after idling counts again). */
  admissions = 0;

  constructor(readonly opts: DownloadSlotsOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(1000, opts.idleMs / 2)));
    this.sweeper.unref();
  }

  /** Admits the device now (it holds or gets a slot) or tells it where it waits. */
  enter(deviceId: string, now = Date.now()): Admission {
    if (this.active.has(deviceId)) {
      this.active.set(deviceId, now);
      return { admitted: true };
    }
    const queued = this.waiting.get(deviceId);
    if (queued)
      return { admitted: false, position: [...this.waiting.keys()].indexOf(deviceId) + 1, ready: queued.ready };
    if (this.active.size < this.opts.maxConcurrent && this.waiting.size === 0) {
      this.admit(deviceId, now);
      return { admitted: true };
    }
    let resolve!: () => void;
    const ready = new Promise<void>((r) => (resolve = r));
    this.waiting.set(deviceId, { deviceId, ready, resolve });
    return { admitted: false, position: this.waiting.size, ready };
  }

  /** Called as bytes go out, so a device that is busy downloading keeps its slot. */
  touch(deviceId: string, now = Date.now()): void {
    if (this.active.has(deviceId)) this.active.set(deviceId, now);
  }

  /** The device has everything (or gave up): its slot goes to the next in line. */
  release(deviceId: string): void {
    if (this.active.delete(deviceId)) this.fill();
  }

  stats(): { active: number; waiting: number; maxConcurrent: number; admissions: number } {
    return {
      active: this.active.size,
      waiting: this.waiting.size,
      maxConcurrent: this.opts.maxConcurrent,
      admissions: this.admissions,
    };
  }

  close(): void {
    clearInterval(this.sweeper);
    // Whoever still waits is let through, so no request hangs on a server that is shutting down.
    for (const w of this.waiting.values()) w.resolve();
    this.waiting.clear();
  }

  sweep(now = Date.now()): void {
    let freed = false;
    for (const [deviceId, last] of this.active) {
      if (now - last >= this.opts.idleMs) {
        this.active.delete(deviceId);
        freed = true;
      }
    }
    if (freed) this.fill();
  }

  private fill(now = Date.now()): void {
    for (const w of this.waiting.values()) {
      if (this.active.size >= this.opts.maxConcurrent) return;
      this.waiting.delete(w.deviceId);
      this.admit(w.deviceId, now);
      w.resolve();
    }
  }

  private admit(deviceId: string, now: number): void {
    this.active.set(deviceId, now);
    this.admissions++;
  }
}
