/**
 * @module monitoring/local-windows
 * The agent's own per-minute rollups of every committed record (served and shadow), keyed by
 * model × version × role and by device time (the record's ts, the capture time when the client
 * gave one), in a bounded in-memory ring: the last `keepMinutes` minutes per key. Device rules
 * merge the minutes of their window; nothing is rescanned.
 *
 * O(1) per record: a ring slot is found by arithmetic on the minute, and a record older than
 * the ring (a late capture time) is dropped from the windows, not the buffer. Reference values
 * joined after their record fold in as late references (reference and error parts only).
 */
import {
  emptyRollup,
  foldLateReference,
  foldRecord,
  mergeRollup,
  MINUTE_MS,
  windowStart,
  type Rollup,
  type RollupInput,
  type RollupRole,
} from '@edgeloop/protocol';
import type { VersionSpec } from './version-spec.js';

export interface WindowRecord extends RollupInput {
  ts: number;
  model: string;
  version: number;
  shadow?: boolean;
}

interface Slot {
  start: number;
  rollup: Rollup;
}

interface Ring {
  spec: VersionSpec;
  role: RollupRole;
  slots: Array<Slot | undefined>;
  newest: number;
}

export function roleOf(r: { shadow?: boolean | undefined }): RollupRole {
  return r.shadow ? 'shadow' : 'serving';
}

export function windowKey(model: string, version: number, role: RollupRole): string {
  return `${model}\u0000${version}\u0000${role}`;
}

export class LocalWindows {
  private readonly rings = new Map<string, Ring>();
  private newestTs = -Infinity;
  /** Records older than the ring when they arrived (never in any window). */
  tooOld = 0;

  constructor(
    /** The version's spec, or undefined for a version not (or no longer) loaded: not folded. */
    private readonly specOf: (model: string, version: number) => VersionSpec | undefined,
    private readonly keepMinutes = 60,
  ) {}

  /** Device time now: the newest record ts seen (undefined before the first record). */
  now(): number | undefined {
    return Number.isFinite(this.newestTs) ? this.newestTs : undefined;
  }

  fold(rec: WindowRecord): void {
    const slot = this.slotFor(rec.model, rec.version, roleOf(rec), rec.ts);
    if (!slot) return;
    foldRecord(slot.rollup, slot.spec.spec, rec);
    if (rec.ts > this.newestTs) this.newestTs = rec.ts;
  }

  /** A reference value joined after its record was folded (the record's prediction given again). */
  foldLateReference(rec: Omit<WindowRecord, 'features'>, reference: number): void {
    const ring = this.rings.get(windowKey(rec.model, rec.version, roleOf(rec)));
    if (!ring) return;
    const start = windowStart(rec.ts, MINUTE_MS);
    const slot = ring.slots[this.index(start)];
    if (slot?.start !== start) return;
    foldLateReference(slot.rollup, ring.spec.spec, rec.prediction, reference);
  }

  /** The merge of the minutes of [fromTs, toTs) (by minute start) of one key; undefined: no such key. */
  merged(model: string, version: number, role: RollupRole, fromTs: number, toTs: number): Rollup | undefined {
    const ring = this.rings.get(windowKey(model, version, role));
    if (!ring) return undefined;
    const out = emptyRollup(ring.spec.spec.classes !== undefined);
    for (const slot of ring.slots) {
      if (slot && slot.start >= windowStart(fromTs, MINUTE_MS) && slot.start < toTs) mergeRollup(out, slot.rollup);
    }
    return out;
  }

  /** The minutes of one key in time order (edge summaries, tests). */
  minutes(model: string, version: number, role: RollupRole): Slot[] {
    const ring = this.rings.get(windowKey(model, version, role));
    if (!ring) return [];
    return ring.slots.filter((s): s is Slot => s !== undefined).sort((a, b) => a.start - b.start);
  }

  keys(): Array<{ spec: VersionSpec; role: RollupRole }> {
    return [...this.rings.values()].map((r) => ({ spec: r.spec, role: r.role }));
  }

  /** Forget the windows of versions no longer loaded. */
  retain(keep: (model: string, version: number) => boolean): void {
    for (const [key, ring] of this.rings) if (!keep(ring.spec.model, ring.spec.version)) this.rings.delete(key);
  }

  private index(start: number): number {
    return Math.floor(start / MINUTE_MS) % this.keepMinutes;
  }

  private slotFor(
    model: string,
    version: number,
    role: RollupRole,
    ts: number,
  ): { rollup: Rollup; spec: VersionSpec } | undefined {
    const key = windowKey(model, version, role);
    let ring = this.rings.get(key);
    if (!ring) {
      const spec = this.specOf(model, version);
      if (!spec) return undefined;
      ring = { spec, role, slots: new Array<Slot | undefined>(this.keepMinutes), newest: -Infinity };
      this.rings.set(key, ring);
    }
    const start = windowStart(ts, MINUTE_MS);
    if (start <= ring.newest - this.keepMinutes * MINUTE_MS) {
      this.tooOld++;
      return undefined;
    }
    if (start > ring.newest) ring.newest = start;
    const i = this.index(start);
    let slot = ring.slots[i];
    if (slot?.start !== start) {
      // The slot held a minute a whole ring ago (or nothing): it starts over.
      slot = { start, rollup: emptyRollup(ring.spec.spec.classes !== undefined) };
      ring.slots[i] = slot;
    }
    return { rollup: slot.rollup, spec: ring.spec };
  }
}
