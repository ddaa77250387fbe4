/**
 * @module store/record-buffer
 * The durable store of prediction records, read by the outbox's telemetry stream. `append`
 * resolves only after the record's transaction committed; concurrent appends made in the same
 * tick share one transaction (group commit), so fsync cost is paid per batch, not per request.
 *
 * Sequence numbers are SQLite AUTOINCREMENT row ids: never reused, even after deletes, so
 * (stream, seq) identifies a record forever and the server can deduplicate re-sends.
 */
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { Statement } from 'better-sqlite3';
import type { AgentDb } from './agent-db.js';

/** An input's bytes, or how to make them (JSON inputs are serialised only if a sample is kept). */
export type RawInputBytes = Uint8Array | (() => Uint8Array);

export type NewRecord = Omit<TelemetryRecord, 'seq'> & {
  /** Sync waits until then (or until a reference value arrives) so the record leaves with it. */
  holdUntil?: number;
  /** The raw input, handed to onStored listeners (input sampling); never written to the buffer. */
  input?: { contentType: string; data: RawInputBytes; confidence?: number };
};

export type StoredListener = (seq: number, record: NewRecord) => void;

/** Lets the reference joiner attach a waiting reference value, or a hold, as a record is stored. */
export type AppendHook = (record: NewRecord) => NewRecord;

interface Pending {
  record: NewRecord;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

/** A records row as read for sending, in column order (raw mode skips building a row object). */
type RecordRow = [
  seq: number,
  ts: number,
  model: string,
  version: number,
  requestId: string | null,
  output: string,
  prediction: number | null,
  latencyMs: number,
  features: string,
  reference: number | null,
  shadow: number,
];

export class RecordBuffer {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private readonly insert;
  private readonly selectAfter;
  private readonly deleteRange;
  private readonly countStmt;
  private readonly countAfterStmt;
  private readonly nthAfterStmt;
  private readonly moveToDeadLetter;
  private readonly listeners = new Set<() => void>();
  private readonly storedListeners = new Set<StoredListener>();

  constructor(private readonly db: AgentDb) {
    this.insert = db.prepare(
      `INSERT INTO records (ts, model, version, request_id, output, prediction, latency_ms, features, reference, hold_until, shadow)
       VALUES (@ts, @model, @version, @requestId, @output, @prediction, @latencyMs, @features, @reference, @holdUntil, @shadow)`,
    );
    // Stops before the first record still on hold: seqs must leave in order, and holds are short.
    this.selectAfter = db
      .prepare<[number, number, number, number], RecordRow>(
        `SELECT seq, ts, model, version, request_id, output, prediction, latency_ms, features, reference, shadow FROM records WHERE seq > ?
           AND seq < coalesce((SELECT min(seq) FROM records WHERE hold_until IS NOT NULL AND hold_until > ? AND seq > ?), 9007199254740991)
         ORDER BY seq LIMIT ?`,
      )
      .raw(true);
    this.deleteRange = db.prepare('DELETE FROM records WHERE seq BETWEEN ? AND ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM records');
    this.countAfterStmt = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM records WHERE seq > ?');
    this.nthAfterStmt = db.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM records WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?',
    );
    this.moveToDeadLetter = db.prepare(
      `INSERT OR REPLACE INTO dead_letters (seq, body, reason, rejected_at)
       SELECT seq, json_object('ts', ts, 'model', model, 'version', version, 'output', output, 'features', features), ?, ?
       FROM records WHERE seq BETWEEN ? AND ?`,
    );
  }

  private hook: AppendHook | undefined;
  /** Only needed when reference values may arrive while a record is in flight. */
  private markSentStmt: Statement<[number, number]> | undefined;
  private keepRecent: ((seqFrom: number, seqTo: number) => void) | undefined;

  setAppendHook(hook: AppendHook): void {
    this.hook = hook;
  }

  /** Start recording which records were sent, so a value arriving mid-flight is not lost. */
  trackSent(): void {
    this.markSentStmt = this.db.prepare('UPDATE records SET sent = 1 WHERE seq BETWEEN ? AND ?');
  }

  markSent(seqFrom: number, seqTo: number): void {
    this.markSentStmt?.run(seqFrom, seqTo);
  }

  /** Called inside the ack transaction, before acknowledged records are deleted. */
  setBeforeAcknowledge(fn: (seqFrom: number, seqTo: number) => void): void {
    this.keepRecent = fn;
  }

  append(record: NewRecord): Promise<number> {
    const final = this.hook ? this.hook(record) : record;
    return new Promise((resolve, reject) => {
      this.pending.push({ record: final, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let seqs: number[];
    try {
      seqs = this.db.transaction(() =>
        batch.map(({ record: r }) =>
          Number(
            this.insert.run({
              ts: r.ts,
              model: r.model,
              version: r.version,
              requestId: r.requestId ?? null,
              output: JSON.stringify(r.output),
              prediction: r.prediction ?? null,
              latencyMs: r.latencyMs,
              features: JSON.stringify(r.features),
              reference: r.reference ?? null,
              holdUntil: r.holdUntil ?? null,
              shadow: r.shadow ? 1 : 0,
            }).lastInsertRowid,
          ),
        ),
      )();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    batch.forEach((p, i) => p.resolve(seqs[i]!));
    for (const l of this.listeners) l();
    if (this.storedListeners.size > 0) {
      batch.forEach((p, i) => {
        for (const l of this.storedListeners) l(seqs[i]!, p.record);
      });
    }
  }

  /** Called with every committed record (and its transient raw input). */
  onStored(listener: StoredListener): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** Called after every committed group; the outbox uses it to wake up. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readAfter(seq: number, limit: number, now = Date.now()): TelemetryRecord[] {
    return this.selectAfter.all(seq, now, seq, limit).map(rowToRecord);
  }

  /** Removes records the server confirmed as stored. */
  acknowledge(seqFrom: number, seqTo: number): number {
    // Forgetting acknowledged records needs no fsync of its own: if a power cut loses this
    // commit, the records are sent again and the server drops the duplicates. The next FULL
    // commit (a new record) makes it durable anyway. Saves one fsync per batch on the sync path.
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(() => {
        this.keepRecent?.(seqFrom, seqTo);
        return this.deleteRange.run(seqFrom, seqTo).changes;
      })();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Keeps records the server refused, out of the sync path, for inspection. Returns how many moved. */
  deadLetter(seqFrom: number, seqTo: number, reason: string): number {
    return this.db.transaction(() => {
      this.moveToDeadLetter.run(reason, Date.now(), seqFrom, seqTo);
      return this.deleteRange.run(seqFrom, seqTo).changes;
    })();
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** Records newer than `seq`: what is still to send after a batch ending at `seq`. */
  countAfter(seq: number): number {
    return this.countAfterStmt.get(seq)!.n;
  }

  /** At least `n` records (held or not) have a seq above `seq`: walks at most n index entries. */
  hasAfter(seq: number, n: number): boolean {
    return this.nthAfterStmt.get(seq, n - 1) !== undefined;
  }
}

function rowToRecord(row: RecordRow): TelemetryRecord {
  const record: TelemetryRecord = {
    seq: row[0],
    ts: row[1],
    model: row[2],
    version: row[3],
    output: JSON.parse(row[5]) as number[],
    prediction: row[6],
    latencyMs: row[7],
    features: JSON.parse(row[8]) as Record<string, number>,
    reference: row[9],
  };
  if (row[4] !== null) record.requestId = row[4];
  if (row[10] === 1) record.shadow = true;
  return record;
}
