/**
 * @module keys/keys-schema — one fleet-db migration for the signing chain and the registry.
 *
 * signing_keys: every online manifest signing key the server made (the secret halves live in
 * files under <data>/keys/, 0600; a retired key's file is deleted). keysets: every root-signed
 * keyset, newest = highest version; a pending key's unsigned keyset waits in signing_keys.
 * model_versions gains the registry's metadata (stored beside the manifest, not signed into it),
 * its status and lineage.
 */
export const KEYS_MIGRATION = `
  CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at INTEGER,
    pending_keyset TEXT
  );
  CREATE TABLE keysets (
    version INTEGER PRIMARY KEY,
    envelope TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  ALTER TABLE model_versions ADD COLUMN status TEXT NOT NULL DEFAULT 'registered';
  ALTER TABLE model_versions ADD COLUMN status_reason TEXT;
  ALTER TABLE model_versions ADD COLUMN status_at INTEGER;
  ALTER TABLE model_versions ADD COLUMN description TEXT;
  ALTER TABLE model_versions ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN training_summary TEXT;
  ALTER TABLE model_versions ADD COLUMN lineage TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN resigned_at INTEGER;`;
