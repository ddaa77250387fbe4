/**
 * @module deploy/shadow-assignments
 * Shadow assignments: a candidate version that a device runs beside the version it serves, on the
 * same inputs, recording its outputs without ever answering with them (shadow rollouts).
 * Kept apart from `assignments`, whose key is (device, model): the serving assignment stays as it
 * is while a shadow comes and goes. At most one shadow per (device, model). Table: transfer-schema.ts.
 */
import type { AssignmentStatus } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';

interface Row { device_id: string; model: string; version: number; state: string; code: string | null; reason: string | null; updated_at: number }

const view = (a: Row): AssignmentStatus => ({ model: a.model, version: a.version, state: a.state, code: a.code, reason: a.reason, updatedAt: a.updated_at });

export class ShadowAssignments {
  constructor(private readonly db: FleetDb) {}

  set(deviceId: string, model: string, version: number, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO shadow_assignments (device_id, model, version, state, code, reason, updated_at) VALUES (?, ?, ?, 'assigned', NULL, NULL, ?)
         ON CONFLICT(device_id, model) DO UPDATE SET version = excluded.version, state = 'assigned', code = NULL, reason = NULL, updated_at = excluded.updated_at`,
      )
      .run(deviceId, model, version, now);
  }

  /** Returns whether there was a shadow to remove. */
  remove(deviceId: string, model: string): boolean {
    return this.db.prepare('DELETE FROM shadow_assignments WHERE device_id = ? AND model = ?').run(deviceId, model).changes > 0;
  }

  get(deviceId: string, model: string): AssignmentStatus | undefined {
    const row = this.db.prepare('SELECT * FROM shadow_assignments WHERE device_id = ? AND model = ?').get(deviceId, model) as Row | undefined;
    return row ? view(row) : undefined;
  }

  list(deviceId: string): AssignmentStatus[] {
    return (this.db.prepare('SELECT * FROM shadow_assignments WHERE device_id = ? ORDER BY model').all(deviceId) as Row[]).map(view);
  }
}
