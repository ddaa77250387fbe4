/**
 * @module store/reference-store
 * Where a reference value (the sensor's ground truth) lands: on a record still in the buffer,
 * or — if that record was already synced — as an update in the reference outbox. Synced records
 * of models with reference bindings are remembered for a while (recent_records) for that purpose.
 */
import type { AgentDb } from './agent-db.js';

export interface ReferenceTarget {
  seq: number;
  ts: number;
  /** Whether the record already left the buffer (then the value goes out as an update). */
  synced: boolean;
}

export interface ReferenceUpdate {
  id: number;
  seq: number;
  reference: number;
}

export class ReferenceStore {
  private readonly wasSent;
  private readonly nearestBuffered;
  private readonly nearestSynced;
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

  /** Told about every reference value that reached a record (input sampling judges errors with it). */
  onApplied: ((seq: number, reference: number) => void) | undefined;

  constructor(private readonly db: AgentDb) {
    const nearest = (table: string, noRef: string) =>
      db.prepare<[string, number, number, number], { seq: number; ts: number }>(
        `SELECT seq, ts FROM ${table} WHERE model = ? AND ts BETWEEN ? AND ? AND ${noRef} ORDER BY abs(ts - ?) LIMIT 1`,
      );
    this.nearestBuffered = nearest('records', 'reference IS NULL');
    this.nearestSynced = nearest('recent_records', 'has_reference = 0');
    this.byRequestBuffered = db.prepare<[string], { seq: number; ts: number }>('SELECT seq, ts FROM records WHERE request_id = ? ORDER BY seq DESC LIMIT 1');
    this.byRequestSynced = db.prepare<[string], { seq: number; ts: number }>('SELECT seq, ts FROM recent_records WHERE request_id = ? ORDER BY seq DESC LIMIT 1');
    this.setBuffered = db.prepare('UPDATE records SET reference = ?, hold_until = NULL WHERE seq = ?');
    this.wasSent = db.prepare<[number], { sent: number }>('SELECT sent FROM records WHERE seq = ?');
    this.markSynced = db.prepare('UPDATE recent_records SET has_reference = 1 WHERE seq = ?');
    this.addUpdate = db.prepare('INSERT INTO reference_updates (seq, reference) VALUES (?, ?)');
    this.readUpdates = db.prepare<[number, number], ReferenceUpdate>('SELECT id, seq, reference FROM reference_updates WHERE id > ? ORDER BY id LIMIT ?');
    this.deleteUpdates = db.prepare('DELETE FROM reference_updates WHERE id BETWEEN ? AND ?');
    this.countUpdates = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM reference_updates');
    this.rememberSynced = db.prepare(
      `INSERT OR IGNORE INTO recent_records (seq, ts, model, request_id, has_reference)
       SELECT seq, ts, model, request_id, reference IS NOT NULL FROM records WHERE seq BETWEEN ? AND ? AND model IN (SELECT value FROM json_each(?))`,
    );
    // Oldest prefix by seq only (seq order is nearly ts order), so pruning stays cheap.
    this.pruneSynced = db.prepare('DELETE FROM recent_records WHERE seq IN (SELECT seq FROM recent_records ORDER BY seq LIMIT 5000) AND ts < ?');
  }

  /** The record of `model` nearest to `ts` within ±windowMs that has no reference yet. */
  nearest(model: string, ts: number, windowMs: number): ReferenceTarget | undefined {
    const buffered = this.nearestBuffered.get(model, ts - windowMs, ts + windowMs, ts);
    const synced = this.nearestSynced.get(model, ts - windowMs, ts + windowMs, ts);
    if (buffered && (!synced || Math.abs(buffered.ts - ts) <= Math.abs(synced.ts - ts))) return { ...buffered, synced: false };
    return synced ? { ...synced, synced: true } : undefined;
  }

  byRequestId(requestId: string): ReferenceTarget | undefined {
    const buffered = this.byRequestBuffered.get(requestId);
    if (buffered) return { ...buffered, synced: false };
    const synced = this.byRequestSynced.get(requestId);
    return synced ? { ...synced, synced: true } : undefined;
  }

  /** Sets the value on a buffered record (releasing its hold) or queues an update for a synced one. */
  apply(target: ReferenceTarget, reference: number): void {
    this.db.transaction(() => {
      if (!target.synced) {
        this.setBuffered.run(reference, target.seq);
        // Already on its way without the value (in flight): the server may store it as sent,
        // so the value also goes out as an update. A re-send carries it anyway; both are idempotent.
        if (this.wasSent.get(target.seq)?.sent !== 1) return;
      } else {
        this.markSynced.run(target.seq);
      }
      this.addUpdate.run(target.seq, reference);
    })();
    this.onApplied?.(target.seq, reference);
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

  acknowledgeUpdates(idFrom: number, idTo: number): number {
    return this.deleteUpdates.run(idFrom, idTo).changes;
  }

  pendingUpdates(): number {
    return this.countUpdates.get()!.n;
  }
}
