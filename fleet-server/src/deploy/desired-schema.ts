/**
 * @module deploy/desired-schema
 * Per-device counters the fleet keeps for what it sends and takes: the last desired-state
 * counter issued (anti-replay on the device), and the session and sequence number of the last
 * update report taken (so a report can only speak for the connection it came on).
 */
export const DEVICE_COUNTERS_MIGRATION = `
  ALTER TABLE devices ADD COLUMN desired_counter INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN report_session INTEGER;
  ALTER TABLE devices ADD COLUMN report_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE update_events ADD COLUMN session INTEGER;
`;
