/**
 * @module store/agent-db
 * The agent's single SQLite file: the record buffer, accepted models and small counters live in
 * one database so a model activation and its anti-rollback counter commit atomically.
 *
 * WAL + synchronous=FULL: a record the API answered 200 for has been fsynced, so neither a
 * kill -9 nor a power cut loses it. Group commit (record-buffer.ts) keeps that affordable.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { applyMigrations } from '@edgeloop/protocol';
import { ensurePrivateDir, preparePrivateSqlite } from '@edgeloop/protocol/state-dir';

export type AgentDb = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE records (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     request_id TEXT,
     output TEXT NOT NULL,
     prediction REAL,
     latency_ms REAL NOT NULL,
     features TEXT NOT NULL,
     reference REAL
   );
   CREATE TABLE dead_letters (
     seq INTEGER PRIMARY KEY,
     body TEXT NOT NULL,
     reason TEXT NOT NULL,
     rejected_at INTEGER NOT NULL
   );
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE models (
     name TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     path TEXT NOT NULL,
     envelope TEXT NOT NULL,
     activated_at INTEGER NOT NULL
   );
   CREATE TABLE accepted_versions (
     name TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     sha256 TEXT NOT NULL
   );`,
  // Reference values from sensors: records wait (hold_until) for their reference before sync;
  // synced records stay findable for a while (recent_records) so a late reference can still be
  // sent as an update (reference_updates outbox).
  `ALTER TABLE records ADD COLUMN hold_until INTEGER;
   ALTER TABLE records ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX records_held ON records (seq) WHERE hold_until IS NOT NULL;
   CREATE INDEX records_model_ts ON records (model, ts);
   CREATE INDEX records_request_id ON records (request_id) WHERE request_id IS NOT NULL;
   CREATE TABLE recent_records (
     seq INTEGER PRIMARY KEY,
     ts INTEGER NOT NULL,
     model TEXT NOT NULL,
     request_id TEXT,
     has_reference INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX recent_model_ts ON recent_records (model, ts);
   CREATE INDEX recent_request_id ON recent_records (request_id) WHERE request_id IS NOT NULL;
   CREATE TABLE reference_updates (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     seq INTEGER NOT NULL,
     reference REAL NOT NULL
   );`,
  // Raw inputs kept for retraining; the bytes live in files under <data>/samples/.
  `CREATE TABLE samples (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     seq INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     reason TEXT NOT NULL,
     prediction REAL,
     reference REAL,
     content_type TEXT NOT NULL,
     file TEXT NOT NULL,
     bytes INTEGER NOT NULL
   );`,
  // Shadow records: made by a candidate model run beside the serving one (same ts and request id).
  `ALTER TABLE records ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE recent_records ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;`,
  // Update reports wait here for the fleet's ack (outbox/update-report-stream.ts); body is the
  // report without what is stamped as it goes out (session, reportSeq, stream, id).
  `CREATE TABLE update_reports (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ts INTEGER NOT NULL,
     body TEXT NOT NULL
   );`,
  // On-device monitoring: local alerts and edge summaries wait here for the fleet's ack
  // (monitoring/alert-stream.ts, monitoring/summary-stream.ts); body is the message without
  // what is stamped as it goes out (stream, seq = id).
  `CREATE TABLE local_alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     body TEXT NOT NULL
   );
   CREATE TABLE edge_summaries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     body TEXT NOT NULL
   );`,
];

export function openAgentDb(path: string): AgentDb {
  if (path !== ':memory:') {
    ensurePrivateDir(dirname(path));
    preparePrivateSqlite(path);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Bounded WAL: checkpoint regularly instead of letting it grow under constant readers.
  db.pragma('wal_autocheckpoint = 1000');
  applyMigrations(db, MIGRATIONS, 'agent database');
  return db;
}

export class KeyValue {
  private readonly getStmt;
  private readonly setStmt;
  constructor(db: AgentDb) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
    this.setStmt = db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
  }
  get(key: string): string | undefined {
    return this.getStmt.get(key)?.value;
  }
  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }
  /** Atomically increments a persisted counter and returns the new value. */
  next(key: string): number {
    const value = Number(this.get(key) ?? '0') + 1;
    this.set(key, String(value));
    return value;
  }
}
