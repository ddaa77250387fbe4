/**
 * @module store/reference-store
 * Where a reference value (the sensor's ground truth) lands: on a record still in the buffer,
 * or — if that record was already synced — as an update in the reference outbox. Synced records
 * of models with reference bindings are remembered for a while (recent_records) for that purpose.
 *
 * Shadow records (a candidate model run beside the serving one) are never joined on their own:
 * the value is joined to the served record, and every shadow twin of it — same model, timestamp
 * and request id — gets the same value in the same transaction, buffered or synced.
 */
import type { AgentDb } from './agent-db.js';

export interface ReferenceTarget {
  seq: number;
  ts: number;
  /** Whether the record already left the buffer (then the value goes out as an update). */
  synced: boolean;
}

interface TwinKey {
  model: string;
  ts: number;
  request_id: string | null;
}

/** A served record of a model in the buffer, near a reading: joinable, or already joined. */
export interface HeldRecord {
  seq: number;
  ts: number;
  /** 1 when the record has no reference yet. */
  open: number;
  /** 1 when the record is on its way to the fleet. */
  sent: number;
}

export interface ReferenceUpdate {
  id: number;
  seq: number;
  reference: number;
}

/** Records one reading may join at once: bounds the transaction of a reading with a wide window. */
const NEAR_LIMIT = 1000;

export class ReferenceStore {
  private readonly wasSent;
  private readonly byRequestBuffered;
  private readonly byRequestSynced;
  private readonly setBuffered;
  private readonly markSynced;
  private readonly addUpdate;
  private readonly readUpdates;
  private readonly deleteUpdates;
  private readonly rememberSynced;
  private readonly pruneSynced;
  private readonly countUpdates;
  private readonly keyOf;
  private readonly bufferedTwins;
  private readonly syncedTwins;
  private readonly servedReference;
  private readonly bufferedNear;
  private readonly syncedOpenNear;
  private readonly setKeepingHold;
  private readonly replaceBuffered;
  private readonly allBufferedTwins;
  private readonly allSyncedTwins;

  /** Told about every reference value that reached a record (input sampling judges errors with it). */
  onApplied: ((seq: number, reference: number) => void) | undefined;
  /** Told after a commit that queued updates (the outbox wakes its reference stream). */
  onUpdatesQueued: (() => void) | undefined;
  private queued = false;

  constructor(private readonly db: AgentDb) {
    this.byRequestBuffered = db.prepare<[string], { seq: number; ts: number }>(
      'SELECT seq, ts FROM records WHERE request_id = ? AND shadow = 0 ORDER BY seq DESC LIMIT 1',
    );
    this.byRequestSynced = db.prepare<[string], { seq: number; ts: number }>(
      'SELECT seq, ts FROM recent_records WHERE request_id = ? AND shadow = 0 ORDER BY seq DESC LIMIT 1',
    );
    this.keyOf = db.prepare<[number, number], TwinKey>(
      'SELECT model, ts, request_id FROM records WHERE seq = ? UNION ALL SELECT model, ts, request_id FROM recent_records WHERE seq = ? LIMIT 1',
    );
    this.bufferedTwins = db.prepare<[string, number, string | null], { seq: number; ts: number }>(
      'SELECT seq, ts FROM records WHERE shadow = 1 AND model = ? AND ts = ? AND request_id IS ? AND reference IS NULL',
    );
    this.syncedTwins = db.prepare<[string, number, string | null], { seq: number; ts: number }>(
      'SELECT seq, ts FROM recent_records WHERE shadow = 1 AND model = ? AND ts = ? AND request_id IS ? AND has_reference = 0',
    );
    this.servedReference = db.prepare<[string, number, string | null], { reference: number | null }>(
      'SELECT reference FROM records WHERE shadow = 0 AND model = ? AND ts = ? AND request_id IS ? AND reference IS NOT NULL LIMIT 1',
    );
    this.setBuffered = db.prepare('UPDATE records SET reference = ?, hold_until = NULL WHERE seq = ?');
    this.setKeepingHold = db.prepare('UPDATE records SET reference = ? WHERE seq = ?');
    this.replaceBuffered = db.prepare<[number, number, number]>(
      'UPDATE records SET reference = ?, hold_until = CASE WHEN ? THEN NULL ELSE hold_until END WHERE seq = ?',
    );
    this.bufferedNear = db.prepare<[string, number, number], HeldRecord>(
      `SELECT seq, ts, reference IS NULL AS open, sent FROM records WHERE model = ? AND ts BETWEEN ? AND ? AND shadow = 0 ORDER BY seq LIMIT ${NEAR_LIMIT}`,
    );
    this.syncedOpenNear = db.prepare<[string, number, number], { seq: number; ts: number }>(
      `SELECT seq, ts FROM recent_records WHERE model = ? AND ts BETWEEN ? AND ? AND has_reference = 0 AND shadow = 0 ORDER BY seq LIMIT ${NEAR_LIMIT}`,
    );
    this.allBufferedTwins = db.prepare<[string, number, string | null], { seq: number; ts: number }>(
      'SELECT seq, ts FROM records WHERE shadow = 1 AND model = ? AND ts = ? AND request_id IS ?',
    );
    this.allSyncedTwins = db.prepare<[string, number, string | null], { seq: number; ts: number }>(
      'SELECT seq, ts FROM recent_records WHERE shadow = 1 AND model = ? AND ts = ? AND request_id IS ?',
    );
    this.wasSent = db.prepare<[number], { sent: number }>('SELECT sent FROM records WHERE seq = ?');
    this.markSynced = db.prepare('UPDATE recent_records SET has_reference = 1 WHERE seq = ?');
    this.addUpdate = db.prepare('INSERT INTO reference_updates (seq, reference) VALUES (?, ?)');
    this.readUpdates = db.prepare<[number, number], ReferenceUpdate>(
      'SELECT id, seq, reference FROM reference_updates WHERE id > ? ORDER BY id LIMIT ?',
    );
    this.deleteUpdates = db.prepare('DELETE FROM reference_updates WHERE id BETWEEN ? AND ?');
    this.countUpdates = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM reference_updates');
    this.rememberSynced = db.prepare(
      `INSERT OR IGNORE INTO recent_records (seq, ts, model, request_id, has_reference, shadow)
       SELECT seq, ts, model, request_id, reference IS NOT NULL, shadow FROM records WHERE seq BETWEEN ? AND ? AND model IN (SELECT value FROM json_each(?))`,
    );
    // Oldest prefix by seq only (seq order is nearly ts order), so pruning stays cheap.
    this.pruneSynced = db.prepare(
      'DELETE FROM recent_records WHERE seq IN (SELECT seq FROM recent_records ORDER BY seq LIMIT 5000) AND ts < ?',
    );
  }

  /** Served records of `model` still in the buffer within ±windowMs of `ts`, with or without a reference. */
  bufferedWithin(model: string, ts: number, windowMs: number): HeldRecord[] {
    return this.bufferedNear.all(model, ts - windowMs, ts + windowMs);
  }

  /** Synced served records of `model` within ±windowMs of `ts` that have no reference yet. */
  syncedOpenWithin(model: string, ts: number, windowMs: number): ReferenceTarget[] {
    return this.syncedOpenNear.all(model, ts - windowMs, ts + windowMs).map((r) => ({ ...r, synced: true }));
  }

  byRequestId(requestId: string): ReferenceTarget | undefined {
    const buffered = this.byRequestBuffered.get(requestId);
    if (buffered) return { ...buffered, synced: false };
    const synced = this.byRequestSynced.get(requestId);
    return synced ? { ...synced, synced: true } : undefined;
  }

  /**
   * Sets the value on a buffered record (releasing its hold) or queues an update for a synced one;
   * shadow twins too. Returns the record's (model, ts, requestId), so a shadow twin stored later
   * can still be given the value (reference-joiner.ts).
   */
  apply(
    target: ReferenceTarget,
    reference: number,
    opts: { keepHold?: boolean } = {},
  ): { model: string; ts: number; requestId: string | undefined } | undefined {
    const key = this.db.transaction(() => {
      const k = this.keyOf.get(target.seq, target.seq);
      this.applyOne(target, reference, opts.keepHold ?? false);
      if (!k) return undefined;
      for (const twin of this.bufferedTwins.all(k.model, k.ts, k.request_id))
        this.applyOne({ ...twin, synced: false }, reference);
      for (const twin of this.syncedTwins.all(k.model, k.ts, k.request_id))
        this.applyOne({ ...twin, synced: true }, reference);
      return k;
    })();
    this.afterCommit();
    this.onApplied?.(target.seq, reference);
    return key ? { model: key.model, ts: key.ts, requestId: key.request_id ?? undefined } : undefined;
  }

  /** The reference already joined to the served record a shadow record twins, if any. */
  servedReferenceOf(model: string, ts: number, requestId: string | undefined): number | undefined {
    return this.servedReference.get(model, ts, requestId ?? null)?.reference ?? undefined;
  }

  /**
   * A nearer value replaces the one a record still held got earlier (timestamp join); shadow
   * twins follow, as updates if they left already. `release` ends the hold: no nearer value can come.
   */
  replace(
    seq: number,
    reference: number,
    release: boolean,
  ): { model: string; ts: number; requestId: string | undefined } | undefined {
    const key = this.db.transaction(() => {
      const k = this.keyOf.get(seq, seq);
      this.replaceBuffered.run(reference, release ? 1 : 0, seq);
      if (!k) return undefined;
      for (const twin of this.allBufferedTwins.all(k.model, k.ts, k.request_id))
        this.applyOne({ ...twin, synced: false }, reference);
      for (const twin of this.allSyncedTwins.all(k.model, k.ts, k.request_id))
        this.applyOne({ ...twin, synced: true }, reference);
      return k;
    })();
    this.afterCommit();
    this.onApplied?.(seq, reference);
    return key ? { model: key.model, ts: key.ts, requestId: key.request_id ?? undefined } : undefined;
  }

  private applyOne(target: ReferenceTarget, reference: number, keepHold = false): void {
    if (!target.synced) {
      (keepHold ? this.setKeepingHold : this.setBuffered).run(reference, target.seq);
      // Already on its way without the value (in flight): the server may store it as sent,
      // so the value also goes out as an update. A re-send carries it anyway; both are idempotent.
      if (this.wasSent.get(target.seq)?.sent !== 1) return;
    } else {
      this.markSynced.run(target.seq);
    }
    this.addUpdate.run(target.seq, reference);
    this.queued = true;
  }

  private afterCommit(): void {
    if (!this.queued) return;
    this.queued = false;
    this.onUpdatesQueued?.();
  }

  /** Called inside the ack transaction: remember synced records of these models. */
  remember(seqFrom: number, seqTo: number, models: readonly string[]): void {
    this.rememberSynced.run(seqFrom, seqTo, JSON.stringify(models));
  }

  forgetOlderThan(ts: number): number {
    return this.pruneSynced.run(ts).changes;
  }

  updatesAfter(id: number, limit: number): ReferenceUpdate[] {
    return this.readUpdates.all(id, limit);
  }

  /** Removes updates the fleet stored (or refused: it will never take them). */
  acknowledgeUpdates(idFrom: number, idTo: number): number {
    return this.deleteUpdates.run(idFrom, idTo).changes;
  }

  pendingUpdates(): number {
    return this.countUpdates.get()!.n;
  }
}
