/** @module audit/audit-schema — fleet-db migration 4: the audit log. */
export const AUDIT_MIGRATION = `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_ts ON audit_log (ts);`;
