/**
 * @module broker/intake-flow
 * Back-pressure for device messages the embedded broker hands to the ingest in-process: a
 * device that sends faster than its messages are handled is read no further (its connection
 * paused), so its bytes wait in the kernel's socket buffers, then on the device, whose outbox
 * batches more and sends less while its window is full. The server never queues a device's
 * messages beyond what it already read.
 *
 * A message is taken (its handler starts at once: what was read is handled) and its device
 * read on while
 * - the device has at most `perDevice` messages being handled,
 * - the whole broker has at most `total`, and
 * - the ingest does not report itself saturated (`saturated`, polled while a device is held).
 * Otherwise the device's connection is paused until its and the fleet's counts fall and the
 * ingest recovers. So at most `total` messages plus one socket read per device are in memory.
 */

export interface IntakeLimits {
  /** Messages of one device being handled before it is read no further. */
  perDevice: number;
  /** Messages of all devices being handled before devices are read no further. */
  total: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = { perDevice: 16, total: 2048 };

/** How often a held device is looked at again while the ingest says it is saturated. */
const SATURATED_POLL_MS = 20;

/** A device's connection: the flow stops and restarts reading it. */
export interface Reader {
  pause(): void;
  resume(): void;
}

export class IntakeFlow {
  private readonly counts = new Map<string, number>();
  private inFlight = 0;
  /** Devices not read now, in the order they were paused. */
  private readonly held = new Map<string, Reader>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: IntakeLimits = DEFAULT_INTAKE_LIMITS,
    /** The ingest's saturation signal (asked per message, so cheap): true = read no more for now. */
    private readonly saturated: () => boolean = () => false,
  ) {}

  /** Messages being handled now. */
  get handling(): number {
    return this.inFlight;
  }

  /** Devices not read now. */
  get holding(): number {
    return this.held.size;
  }

  /**
   * One message of device `key`, read from `reader`, is being handled; the device is paused if
   * it must wait. Returns what to call when the message is handled (idempotent).
   */
  take(key: string, reader: Reader): () => void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.inFlight++;
    if (!this.held.has(key) && !this.mayRead(key)) {
      this.held.set(key, reader);
      reader.pause();
      if (this.saturated()) this.pollWhileSaturated();
    }
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      this.inFlight--;
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
      this.pump();
    };
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private mayRead(key: string): boolean {
    return (
      (this.counts.get(key) ?? 0) <= this.limits.perDevice && this.inFlight <= this.limits.total && !this.saturated()
    );
  }

  private pump(): void {
    if (this.held.size === 0 || this.inFlight > this.limits.total) return;
    if (this.saturated()) return this.pollWhileSaturated();
    // Devices held for their own count stay paused; at most total / perDevice of them exist.
    for (const [key, reader] of this.held) {
      if (this.inFlight > this.limits.total) break;
      if ((this.counts.get(key) ?? 0) > this.limits.perDevice) continue;
      this.held.delete(key);
      reader.resume();
    }
  }

  /** Nothing else wakes a held device when no message is in flight and the ingest is saturated. */
  private pollWhileSaturated(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, SATURATED_POLL_MS);
    this.timer.unref();
  }
}
