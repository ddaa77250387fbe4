/**
 * @module identity/identity-schema
 * fleet-db migration for device identity and admin authentication (see store/fleet-db.ts):
 * device groups, tags and the disabled flag on `devices`; per-device broker/HTTP credentials;
 * enrollment tokens; admin API tokens. Every secret is stored as a sha256 hex digest only.
 */
export const IDENTITY_MIGRATION = `
  ALTER TABLE devices ADD COLUMN device_group TEXT;
  ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE devices ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX devices_group ON devices (device_group);
  CREATE TABLE device_credentials (
    device_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    enrolled_with TEXT
  );
  CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    uses INTEGER NOT NULL,
    uses_left INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    device_group TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  );`;
