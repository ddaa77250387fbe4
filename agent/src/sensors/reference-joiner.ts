/**
 * @module sensors/reference-joiner
 * Joins sensor reference values to predictions — the heart of live error on the device.
 *
 * By timestamp: the value goes to the prediction of the bound model nearest in time within the
 * binding's window. By correlation: to the prediction whose request id the payload names.
 * A value that arrives before its prediction waits (bounded, in memory) and is attached as the
 * prediction is stored; one that arrives after the prediction updates the buffered record, or,
 * if the record was synced already, goes out as a reference update. New predictions of bound
 * models are held in the buffer briefly so that usually the record leaves with its reference.
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
}

const MAX_WAITING = 1000;
/** Remembered values for shadow twins: a shadow runs within moments of its served record. */
const MAX_TWIN_VALUES = 2000;

const twinKey = (r: { model: string; ts: number; requestId?: string | undefined }) => `${r.model}\u0000${r.ts}\u0000${r.requestId ?? ''}`;
/** How long a correlated value waits for a prediction with its request id. */
const CORRELATION_WAIT_MS = 60_000;

export type JoinOutcome = 'joined' | 'updated-synced' | 'waiting' | 'dropped';

export class ReferenceJoiner {
  private readonly holdByModel = new Map<string, number>();
  private waiting: Waiting[] = [];
  private readonly twinValues = new Map<string, number>();
  readonly stats = { joined: 0, updatedSynced: 0, joinedOnArrival: 0, expired: 0 };

  constructor(
    private readonly store: ReferenceStore,
    bindings: readonly ReferenceBinding[],
    private readonly log: Logger,
  ) {
    for (const b of bindings) this.holdByModel.set(b.model, Math.max(this.holdByModel.get(b.model) ?? 0, holdMsOf(b)));
  }

  /**
   * A shadow record stored without a value whose served twin got one meanwhile (between the
   * append hook and the commit, or after the served record was synced and left the buffer):
   * give it the value now. A served record stored without a value takes one that arrived while
   * it was being committed (joinWaitingOnCommit). Called with every committed record.
   */
  onStored(seq: number, record: NewRecord): void {
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
    if (this.waiting.length === 0 || !this.holdByModel.has(record.model)) return;
    this.expire(Date.now());
    const i = this.waiting.findIndex((w) => w.binding.model === record.model && matches(w, record));
    if (i < 0) return;
    const [w] = this.waiting.splice(i, 1);
    const key = this.store.apply({ seq, ts: record.ts, synced: false }, w!.reading.value);
    if (key) this.rememberTwinValue(twinKey(key), w!.reading.value);
    this.stats.joined++;
  }

  /** Values recently joined to served records, by (model, ts, requestId): what their shadow twins need. */
  private rememberTwinValue(key: string, value: number): void {
    this.twinValues.delete(key);
    this.twinValues.set(key, value);
    if (this.twinValues.size > MAX_TWIN_VALUES) this.twinValues.delete(this.twinValues.keys().next().value!);
  }

  /** Models whose synced records must stay joinable for late values. */
  boundModels(): string[] {
    return [...this.holdByModel.keys()];
  }

  /** Append hook: attach a value that was waiting for this prediction, else hold the record. */
  onAppend(record: NewRecord, now = Date.now()): NewRecord {
    const hold = this.holdByModel.get(record.model);
    if (hold === undefined || (record.reference !== null && record.reference !== undefined)) return record;
    if (record.shadow) {
      // A shadow record twins a served one (same ts, request id): it takes the served record's
      // value if it has one already, else waits like it; ReferenceStore.apply sets both later.
      const served = this.store.servedReferenceOf(record.model, record.ts, record.requestId) ?? this.twinValues.get(twinKey(record));
      if (served !== undefined) return { ...record, reference: served };
      return hold > 0 ? { ...record, holdUntil: now + hold } : record;
    }
    this.expire(now);
    const i = this.waiting.findIndex((w) => w.binding.model === record.model && matches(w, record));
    if (i >= 0) {
      const [w] = this.waiting.splice(i, 1);
      this.stats.joinedOnArrival++;
      this.rememberTwinValue(twinKey(record), w!.reading.value);
      return { ...record, reference: w!.reading.value };
    }
    return hold > 0 ? { ...record, holdUntil: now + hold } : record;
  }

  accept(binding: ReferenceBinding, reading: SensorReading, now = Date.now()): JoinOutcome {
    const target =
      binding.join.by === 'correlation'
        ? reading.correlationId !== undefined ? this.store.byRequestId(reading.correlationId) : undefined
        : this.store.nearest(binding.model, reading.ts, binding.join.windowMs);
    if (target) {
      const key = this.store.apply(target, reading.value);
      if (key) this.rememberTwinValue(twinKey(key), reading.value);
      if (target.synced) this.stats.updatedSynced++;
      else this.stats.joined++;
      return target.synced ? 'updated-synced' : 'joined';
    }
    if (binding.join.by === 'correlation' && reading.correlationId === undefined) return 'dropped';
    // The prediction may not exist yet: wait for it, but only as long as it could still match.
    const expiresAt = binding.join.by === 'timestamp' ? Math.max(now, reading.ts) + binding.join.windowMs : now + CORRELATION_WAIT_MS;
    this.expire(now);
    if (this.waiting.length >= MAX_WAITING) {
      this.waiting.shift();
      this.stats.expired++;
    }
    this.waiting.push({ binding, reading, expiresAt });
    return 'waiting';
  }

  private expire(now: number): void {
    const before = this.waiting.length;
    this.waiting = this.waiting.filter((w) => w.expiresAt >= now);
    const gone = before - this.waiting.length;
    if (gone > 0) {
      this.stats.expired += gone;
      this.log.debug({ count: gone }, 'reference values expired without a matching prediction');
    }
  }
}

function matches(w: Waiting, record: NewRecord): boolean {
  const b = w.binding;
  if (b.join.by === 'correlation') return record.requestId !== undefined && record.requestId === w.reading.correlationId;
  return Math.abs(record.ts - w.reading.ts) <= b.join.windowMs;
}
