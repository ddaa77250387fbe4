/**
 * @module transfer/transfer-schema
 * The fleet-db migration of the transfer + shadow area (see store/fleet-db.ts):
 * - telemetry.shadow: records made by a shadow model beside the serving one;
 * - shadow_assignments: a candidate version per (device, model) that runs in shadow. Its own table,
 *   because assignments' key is (device_id, model) and the serving assignment stays in place;
 * - devices.bytes_sent and transfer_bytes: artifact bytes sent per device (running total) and per
 *   device, artifact and transport (http | mqtt).
 */
export const TRANSFER_MIGRATION = `
  ALTER TABLE telemetry ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN bytes_sent INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE shadow_assignments (
    device_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, model)
  );
  CREATE TABLE transfer_bytes (
    device_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    transport TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, sha256, transport)
  );`;
