/**
 * @module store/fleet-db
 * The fleet server's SQLite database and its migrations. Telemetry is keyed by
 * (device, stream, seq): the primary key is what makes re-sent records land exactly once.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { applyMigrations } from '@edgeloop/protocol';
import { ensurePrivateDir, preparePrivateSqlite } from '@edgeloop/protocol/state-dir';
import { AUDIT_MIGRATION } from '../audit/audit-schema.js';
import { DEVICE_COUNTERS_MIGRATION } from '../deploy/desired-schema.js';
import { IDENTITY_MIGRATION } from '../identity/identity-schema.js';
import { KEYS_MIGRATION } from '../keys/keys-schema.js';
import { ROLLOUT_MIGRATION } from '../rollouts/rollout-schema.js';
import { TRANSFER_MIGRATION } from '../transfer/transfer-schema.js';

export type FleetDb = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER,
     online INTEGER NOT NULL DEFAULT 0,
     session INTEGER NOT NULL DEFAULT 0,
     info TEXT,
     running TEXT NOT NULL DEFAULT '[]',
     backlog INTEGER NOT NULL DEFAULT 0,
     records INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE model_versions (
     name TEXT NOT NULL,
     version INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     size INTEGER NOT NULL,
     envelope TEXT NOT NULL,
     manifest TEXT NOT NULL,
     key_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE assignments (
     device_id TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     state TEXT NOT NULL,
     code TEXT,
     reason TEXT,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, model)
   );
   CREATE TABLE update_events (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     state TEXT NOT NULL,
     code TEXT,
     reason TEXT,
     report_seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     received_at INTEGER NOT NULL
   );
   CREATE INDEX update_events_device ON update_events (device_id, id);
   CREATE TABLE telemetry (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     request_id TEXT,
     output TEXT NOT NULL,
     prediction REAL,
     latency_ms REAL NOT NULL,
     features TEXT NOT NULL,
     reference REAL,
     UNIQUE (device_id, stream, seq)
   );
   CREATE INDEX telemetry_device ON telemetry (device_id, id);
   CREATE INDEX telemetry_model ON telemetry (model, version, id);`,
  // Buffer-cap drops reported by devices; records forwarded after an outage.
  `ALTER TABLE devices ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE telemetry ADD COLUMN historical INTEGER NOT NULL DEFAULT 0;`,
  // Raw inputs devices keep for retraining, and the operator's request to upload them.
  `CREATE TABLE samples (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     reason TEXT NOT NULL,
     prediction REAL,
     reference REAL,
     content_type TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     UNIQUE (device_id, stream, seq)
   );
   CREATE INDEX samples_model ON samples (model, version, id);
   ALTER TABLE devices ADD COLUMN sample_upload_until INTEGER;`,
  // One migration per feature area, kept beside the code that owns it.
  AUDIT_MIGRATION,
  IDENTITY_MIGRATION,
  KEYS_MIGRATION,
  ROLLOUT_MIGRATION,
  TRANSFER_MIGRATION,
  // Capture windows the fleet opens on a device (store/sample-store.ts).
  `ALTER TABLE devices ADD COLUMN sample_capture TEXT;`,
  // Signed desired states (counter) and update reports bound to their session.
  DEVICE_COUNTERS_MIGRATION,
];

export function openFleetDb(path: string): FleetDb {
  if (path !== ':memory:') {
    ensurePrivateDir(dirname(path));
    preparePrivateSqlite(path);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Acks go out only after commit; FULL makes "acked" survive a power cut of the server too.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  applyMigrations(db, MIGRATIONS, 'fleet database');
  return db;
}
