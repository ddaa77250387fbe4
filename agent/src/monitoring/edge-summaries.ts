/**
 * @module monitoring/edge-summaries
 * Bandwidth mode: instead of every telemetry record, each closed device window (summaryWindowMs,
 * aligned to the epoch like the fleet's device windows) of each model version × role goes to the
 * fleet as one edge summary: the rollup of its records on the version's BinSpec, named by specId.
 * Rollups are exact merges, so the fleet's metrics from summaries equal those from the records.
 *
 * Records are folded into open windows as they are committed; a window closes once device time
 * (the newest record's ts) is `graceMs` past its end, so stragglers and late reference values
 * still land in it. A record or reference for a window already closed goes out as a second
 * summary of the same window, which the fleet adds to the first. At stop, and when bandwidth mode
 * ends, the open windows go out as they are. Only a crash loses open windows (their records stay
 * in the buffer).
 */
import {
  binSpecId,
  emptyRollup,
  foldLateReference,
  foldRecord,
  rollupToWire,
  windowStart,
  type Rollup,
  type RollupRole,
} from '@edgeloop/protocol';
import { roleOf, type WindowRecord } from './local-windows.js';
import type { MonitoringQueue } from './monitoring-queue.js';
import type { QueuedSummary } from './monitoring-streams.js';
import type { VersionSpec } from './version-spec.js';

/** How long past a window's end (device time) it stays open for stragglers and late references. */
export const SUMMARY_GRACE_MS = 30_000;

interface OpenWindow {
  spec: VersionSpec;
  role: RollupRole;
  windowStart: number;
  rollup: Rollup;
}

export class EdgeSummaries {
  private readonly open = new Map<string, OpenWindow>();
  private newest = -Infinity;
  /** Summaries queued since start. */
  sent = 0;

  constructor(
    private readonly queue: MonitoringQueue<QueuedSummary>,
    readonly windowMs: number,
    private readonly specOf: (model: string, version: number) => VersionSpec | undefined,
    private readonly graceMs = SUMMARY_GRACE_MS,
  ) {}

  fold(rec: WindowRecord): void {
    const w = this.windowFor(rec);
    if (!w) return;
    foldRecord(w.rollup, w.spec.spec, rec);
    if (rec.ts > this.newest) this.newest = rec.ts;
  }

  /** A reference value joined after its record was folded. */
  lateReference(rec: Omit<WindowRecord, 'features'>, reference: number): void {
    const w = this.windowFor(rec);
    if (w) foldLateReference(w.rollup, w.spec.spec, rec.prediction, reference);
  }

  /** Queues every window device time has passed (plus grace). */
  closeDue(): void {
    if (!Number.isFinite(this.newest)) return;
    const before = this.newest - this.graceMs;
    for (const [key, w] of this.open) {
      if (w.windowStart + this.windowMs > before) continue;
      this.open.delete(key);
      this.emit(w);
    }
  }

  /** Queues the open windows as they are (stop, end of bandwidth mode). */
  closeAll(): void {
    for (const w of this.open.values()) this.emit(w);
    this.open.clear();
  }

  openWindows(): number {
    return this.open.size;
  }

  private emit(w: OpenWindow): void {
    if (w.rollup.count === 0 && w.rollup.reference.n === 0) return;
    this.queue.add({
      model: w.spec.model,
      version: w.spec.version,
      role: w.role,
      specId: binSpecId(w.spec.spec),
      windowStart: w.windowStart,
      windowMs: this.windowMs,
      rollup: rollupToWire(w.rollup),
    });
    this.sent++;
  }

  private windowFor(rec: Omit<WindowRecord, 'features'>): OpenWindow | undefined {
    const spec = this.specOf(rec.model, rec.version);
    if (!spec) return undefined;
    const role = roleOf(rec);
    const ws = windowStart(rec.ts, this.windowMs);
    const key = `${rec.model}\u0000${rec.version}\u0000${role}\u0000${ws}`;
    let w = this.open.get(key);
    if (!w) {
      w = { spec, role, windowStart: ws, rollup: emptyRollup(spec.spec.classes !== undefined) };
      this.open.set(key, w);
    }
    return w;
  }
}
