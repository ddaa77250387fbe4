/**
 * @module rollouts/rollout-schema
 * The fleet-db migration of the rollout engine (see store/fleet-db.ts). Everything the engine
 * decides from lives here, so a restarted server continues every rollout where it was.
 *
 * - `rollouts`: one row per rollout; `waves` is the plan ([{size, cumulative, waitMs, startedAt,
 *   passedAt}], JSON), `params` the parameters with defaults applied. The partial unique index
 *   makes "one active rollout per model" hold even for two racing requests.
 * - `rollout_devices`: the per-device state machine; `times` holds when each state was first
 *   entered (JSON), `previous_version` what the device served before (the rollback target).
 */
export const ROLLOUT_MIGRATION = `
  CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    baseline_version INTEGER,
    strategy TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'serve',
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    waves TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    current_wave INTEGER NOT NULL DEFAULT 0,
    holding INTEGER NOT NULL DEFAULT 0,
    promoted_at INTEGER,
    judged_since INTEGER NOT NULL,
    rollback_versions TEXT NOT NULL DEFAULT '{}'
  );
  CREATE UNIQUE INDEX rollouts_one_active ON rollouts (model) WHERE state IN ('running', 'paused');
  CREATE INDEX rollouts_state ON rollouts (state);
  CREATE TABLE rollout_devices (
    rollout_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    previous_version INTEGER,
    assigned_at INTEGER,
    state_at INTEGER NOT NULL,
    times TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rollout_id, device_id)
  );
  CREATE INDEX rollout_devices_device ON rollout_devices (device_id);`;
