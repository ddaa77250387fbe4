/**
 * @module sensors/reference-joiner
 * Joins sensor reference values to predictions — the heart of live error on the device.
 *
 * By timestamp: every prediction of the bound model gets the reading nearest to it in time
 * within the binding's window. A reading may be the nearest for several predictions, so it
 * stays available for the window; a prediction joined to a reading from before it stays held,
 * and a later, nearer reading replaces the value while it is (a reading at or after the
 * prediction settles it, since readings of one sensor come in time order).
 * By correlation: to the prediction whose request id the payload names.
 *
 * A value that arrives before its prediction waits (bounded, in memory) and is attached as the
 * prediction is stored; one that arrives after updates the buffered record, or, if the record
 * was synced already, goes out as a reference update. Predictions that can still be joined are
 * held in the buffer briefly so that usually the record leaves with its reference.
 *
 * What became of each value is counted (stats) for /metrics; conditions that make values
 * useless for a while — a sensor clock ahead of this device's, values that can never join —
 * are logged once at warn level, each value at debug.
 */
import type { Logger } from 'pino';
import type { NewRecord } from '../store/record-buffer.js';
import type { ReferenceStore } from '../store/reference-store.js';
import { holdMsOf, type ReferenceBinding } from './sensor-config.js';
import type { SensorReading } from './payload.js';

interface Waiting {
  binding: ReferenceBinding;
  reading: SensorReading;
  expiresAt: number;
  /** Joined to at least one prediction already: not counted as expired when it leaves. */
  joined: boolean;
}

/** A held record joined to a reading from before it: a nearer reading may still come. */
interface Provisional {
  ts: number;
  distance: number;
}

const MAX_WAITING = 1000;
const MAX_PROVISIONAL = 10_000;
/** Remembered values for shadow twins: a shadow runs within moments of its served record. */
const MAX_TWIN_VALUES = 2000;
/** A reading cannot be measured after it arrived: beyond this, the sensor's clock is ahead. */
export const MAX_SKEW_MS = 1000;
/** Skewed readings in a row before the warning: one odd timestamp is not a clock problem. */
const SKEW_WARN_AFTER = 3;

const twinKey = (r: { model: string; ts: number; requestId?: string | undefined }) =>
  `${r.model}\u0000${r.ts}\u0000${r.requestId ?? ''}`;
/** How long a correlated value waits for a prediction with its request id. */
const CORRELATION_WAIT_MS = 60_000;

export type JoinOutcome = 'joined' | 'updated-synced' | 'waiting' | 'skewed' | 'unmatched';

/** What became of reference values: exported in /metrics. */
export interface JoinStats {
  /** Joined to at least one prediction (buffered or synced). */
  joined: number;
  /** Waited for a prediction in their window; none came. */
  expired: number;
  /** Can never join: no request id in the payload, or one no prediction carried. */
  unmatched: number;
  /** Stamped ahead of this device's clock by more than the window (at most MAX_SKEW_MS): not joined. */
  skewed: number;
  /** Of joined: values that went out as updates of synced records. */
  updatedSynced: number;
  /** Of joined: values that replaced a farther one on a held record. */
  replaced: number;
}

export class ReferenceJoiner {
  private readonly bindingByModel = new Map<string, ReferenceBinding>();
  private waiting: Waiting[] = [];
  private readonly twinValues = new Map<string, number>();
  /** Keyed by seq; only records still buffered and unsent are ever replaced. */
  private readonly provisional = new Map<number, Provisional>();
  /** Distance of the reading a record got in onAppend, until onStored knows its seq. */
  private readonly joinedBefore = new WeakMap<NewRecord, Provisional>();
  private readonly skewRun = new Map<string, number>();
  private readonly warned = new Set<string>();
  readonly stats: JoinStats = { joined: 0, expired: 0, unmatched: 0, skewed: 0, updatedSynced: 0, replaced: 0 };

  constructor(
    private readonly store: ReferenceStore,
    bindings: readonly ReferenceBinding[],
    private readonly log: Logger,
  ) {
    // The config allows one reference binding per model (sensor-config.ts).
    for (const b of bindings) this.bindingByModel.set(b.model, b);
  }

  /**
   * Called with every committed record: a shadow record stored without a value whose served
   * twin got one meanwhile gets it now; a record joined to an earlier reading becomes replaceable;
   * a served record stored without a value takes one that arrived while it was being committed
   * (joinWaitingOnCommit).
   */
  onStored(seq: number, record: NewRecord): void {
    const joinedBefore = this.joinedBefore.get(record);
    if (joinedBefore) this.keepProvisional(seq, joinedBefore);
    if (record.reference !== null && record.reference !== undefined) return;
    if (!record.shadow) return this.joinWaitingOnCommit(seq, record);
    const value = this.twinValues.get(twinKey(record));
    if (value !== undefined) this.store.apply({ seq, ts: record.ts, synced: false }, value);
  }

  /**
   * A value that arrived after this record passed the append hook but before its group commit
   * found no row to join and waits; nothing else would ever match it, and the record would leave
   * without it once its hold ran out.
   */
  private joinWaitingOnCommit(seq: number, record: NewRecord): void {
    const binding = this.bindingByModel.get(record.model);
    if (binding === undefined || this.waiting.length === 0) return;
    if (binding.join.by === 'correlation' && record.requestId === undefined) return;
    this.expire(Date.now());
    const taken = this.takeWaiting(binding, record);
    if (!taken) return;
    if (taken.before) this.keepProvisional(seq, taken.before);
    const key = this.store.apply({ seq, ts: record.ts, synced: false }, taken.value, {
      keepHold: taken.before !== undefined,
    });
    if (key) this.rememberTwinValue(twinKey(key), taken.value);
  }

  /**
   * The waiting value a new served record takes, if any: a correlated value leaves the list; a
   * timestamped reading stays (later predictions may be nearer to it). `before` is set when the
   * reading is from before the record and the record is held, so a nearer one may replace it.
   */
  private takeWaiting(
    binding: ReferenceBinding,
    record: NewRecord,
  ): { value: number; before?: Provisional } | undefined {
    if (binding.join.by === 'correlation') {
      const i = this.waiting.findIndex((w) => w.binding === binding && w.reading.correlationId === record.requestId);
      if (i < 0) return undefined;
      const [w] = this.waiting.splice(i, 1);
      this.stats.joined++;
      return { value: w!.reading.value };
    }
    const w = this.nearestWaiting(binding, record.ts);
    if (!w) return undefined;
    if (!w.joined) this.stats.joined++;
    w.joined = true;
    if (w.reading.ts >= record.ts || holdMsOf(binding) === 0) return { value: w.reading.value };
    return { value: w.reading.value, before: { ts: record.ts, distance: record.ts - w.reading.ts } };
  }

  /** Values recently joined to served records, by (model, ts, requestId): what their shadow twins need. */
  private rememberTwinValue(key: string, value: number): void {
    this.twinValues.delete(key);
    this.twinValues.set(key, value);
    if (this.twinValues.size > MAX_TWIN_VALUES) this.twinValues.delete(this.twinValues.keys().next().value!);
  }

  private keepProvisional(seq: number, p: Provisional): void {
    this.provisional.set(seq, p);
    if (this.provisional.size > MAX_PROVISIONAL) this.provisional.delete(this.provisional.keys().next().value!);
  }

  /** Models whose synced records must stay joinable for late values. */
  boundModels(): string[] {
    return [...this.bindingByModel.keys()];
  }

  /** Append hook: attach a value that was waiting for this prediction; hold the record if it can still be joined. */
  onAppend(record: NewRecord, now = Date.now()): NewRecord {
    const binding = this.bindingByModel.get(record.model);
    if (binding === undefined || (record.reference !== null && record.reference !== undefined)) return record;
    // Without a request id no correlated value can ever reach this record: do not hold it.
    if (binding.join.by === 'correlation' && record.requestId === undefined) return record;
    const hold = holdMsOf(binding);
    const held = hold > 0 ? { ...record, holdUntil: now + hold } : record;
    if (record.shadow) {
      // A shadow record twins a served one (same ts, request id): it takes the served record's
      // value if it has one already, else waits like it; ReferenceStore.apply sets both later.
      const served =
        this.store.servedReferenceOf(record.model, record.ts, record.requestId) ?? this.twinValues.get(twinKey(record));
      return served !== undefined ? { ...record, reference: served } : held;
    }
    this.expire(now);
    const taken = this.takeWaiting(binding, record);
    if (!taken) return held;
    this.rememberTwinValue(twinKey(record), taken.value);
    if (!taken.before) return { ...record, reference: taken.value };
    // Joined to a reading from before it: a nearer one may still come, so keep holding.
    const result = { ...held, reference: taken.value };
    this.joinedBefore.set(result, taken.before);
    return result;
  }

  private nearestWaiting(binding: ReferenceBinding, ts: number): Waiting | undefined {
    if (binding.join.by !== 'timestamp') return undefined;
    let best: Waiting | undefined;
    for (const w of this.waiting) {
      if (w.binding !== binding) continue;
      const d = Math.abs(w.reading.ts - ts);
      // Ties go to the later reading: it settles the record, no hold needed.
      if (
        d <= binding.join.windowMs &&
        (!best ||
          d < Math.abs(best.reading.ts - ts) ||
          (d === Math.abs(best.reading.ts - ts) && w.reading.ts > best.reading.ts))
      )
        best = w;
    }
    return best;
  }

  accept(binding: ReferenceBinding, reading: SensorReading, now = Date.now()): JoinOutcome {
    if (binding.join.by === 'correlation') return this.acceptCorrelated(binding, reading, now);
    const windowMs = binding.join.windowMs;
    const ahead = reading.ts - now;
    if (ahead > Math.min(windowMs, MAX_SKEW_MS)) {
      this.stats.skewed++;
      const run = (this.skewRun.get(binding.name) ?? 0) + 1;
      this.skewRun.set(binding.name, run);
      if (run >= SKEW_WARN_AFTER) {
        this.warnOnce(
          `skew:${binding.name}`,
          { binding: binding.name, aheadMs: ahead, inARow: run },
          "sensor readings are stamped ahead of this device's clock, so they would join the wrong predictions; they are not joined: sync both clocks (NTP), or drop timestampPath to time readings by arrival",
        );
      }
      this.log.debug(
        { binding: binding.name, aheadMs: ahead },
        "sensor reading stamped ahead of this device's clock: not joined",
      );
      return 'skewed';
    }
    this.skewRun.delete(binding.name);
    let joined = false;
    let updatedSynced = false;
    for (const r of this.store.bufferedWithin(binding.model, reading.ts, windowMs)) {
      const distance = Math.abs(r.ts - reading.ts);
      const settles = reading.ts >= r.ts;
      if (r.open === 1) {
        const keepHold = !settles && r.sent === 0;
        const key = this.store.apply({ seq: r.seq, ts: r.ts, synced: false }, reading.value, { keepHold });
        if (key) this.rememberTwinValue(twinKey(key), reading.value);
        if (keepHold) this.keepProvisional(r.seq, { ts: r.ts, distance });
        joined = true;
        continue;
      }
      const p = this.provisional.get(r.seq);
      if (!p) continue;
      if (r.sent === 1) {
        this.provisional.delete(r.seq); // left with its value; too late to change
        continue;
      }
      if (distance >= p.distance) continue;
      const key = this.store.replace(r.seq, reading.value, settles);
      if (key) this.rememberTwinValue(twinKey(key), reading.value);
      if (settles) this.provisional.delete(r.seq);
      else p.distance = distance;
      this.stats.replaced++;
      joined = true;
    }
    // Records synced without a value (their hold ended first) get it as an update.
    for (const target of this.store.syncedOpenWithin(binding.model, reading.ts, windowMs)) {
      const key = this.store.apply(target, reading.value);
      if (key) this.rememberTwinValue(twinKey(key), reading.value);
      updatedSynced = joined = true;
    }
    if (joined) this.stats.joined++;
    if (updatedSynced) this.stats.updatedSynced++;
    this.pruneProvisional(reading.ts - windowMs);
    // Predictions still to come may be nearer to this reading than to any other.
    this.enqueue({ binding, reading, expiresAt: Math.max(now, reading.ts) + windowMs, joined }, now);
    return joined ? (updatedSynced ? 'updated-synced' : 'joined') : 'waiting';
  }

  private acceptCorrelated(binding: ReferenceBinding, reading: SensorReading, now: number): JoinOutcome {
    if (reading.correlationId === undefined) {
      this.unmatched(binding, 'no request id in the payload');
      return 'unmatched';
    }
    const target = this.store.byRequestId(reading.correlationId);
    if (target) {
      const key = this.store.apply(target, reading.value);
      if (key) this.rememberTwinValue(twinKey(key), reading.value);
      this.stats.joined++;
      if (target.synced) this.stats.updatedSynced++;
      return target.synced ? 'updated-synced' : 'joined';
    }
    // The prediction may not exist yet: wait for it, but not forever.
    this.enqueue({ binding, reading, expiresAt: now + CORRELATION_WAIT_MS, joined: false }, now);
    return 'waiting';
  }

  private enqueue(w: Waiting, now: number): void {
    this.expire(now);
    if (this.waiting.length >= MAX_WAITING) this.leave(this.waiting.shift()!);
    this.waiting.push(w);
  }

  /** Records older than any reading still to come can no longer change. */
  private pruneProvisional(before: number): void {
    for (const [seq, p] of this.provisional) if (p.ts < before) this.provisional.delete(seq);
  }

  private expire(now: number): void {
    if (this.waiting.length === 0 || this.waiting.every((w) => w.expiresAt >= now)) return;
    const kept: Waiting[] = [];
    for (const w of this.waiting) {
      if (w.expiresAt >= now) kept.push(w);
      else this.leave(w);
    }
    this.waiting = kept;
  }

  /** A value leaves the waiting list: counted by what it achieved. */
  private leave(w: Waiting): void {
    if (w.joined) return;
    if (w.binding.join.by === 'correlation') {
      this.unmatched(
        w.binding,
        `no prediction with request id "${w.reading.correlationId}" within ${CORRELATION_WAIT_MS / 1000} s`,
      );
      return;
    }
    this.stats.expired++;
    this.log.debug(
      { binding: w.binding.name, ts: w.reading.ts },
      'reference value expired without a prediction in its window',
    );
  }

  private unmatched(binding: ReferenceBinding, why: string): void {
    this.stats.unmatched++;
    this.log.debug({ binding: binding.name, why }, 'reference value can never join');
    this.warnOnce(
      `unmatched:${binding.name}`,
      { binding: binding.name, why },
      'a reference value can never join a prediction: a label must carry the request id (x-request-id) of a prediction of its model made on this device; such values are counted in edgeloop_sensor_reference_values_total{outcome="unmatched"} and logged at debug level',
    );
  }

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(fields, msg);
  }
}
