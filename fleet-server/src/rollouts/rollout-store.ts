/**
 * @module rollouts/rollout-store
 * Rollouts and their per-device rows in fleet.db, plus the few reads of other tables the engine
 * decides from (devices' presence and what they run, assignment rows). The engine keeps no state
 * of its own beyond this, which is what makes rollouts survive a restart.
 */
import type { RolloutDeviceState, RolloutDeviceView, RolloutState, RolloutStrategy, RolloutSummary, RolloutTarget } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';
import type { AssignmentFact } from './device-state.js';
import { parseStoredParams, type RolloutParams } from './rollout-params.js';
import type { Wave } from './wave-plan.js';

/** The stored rollout: the REST summary's fields plus what only the engine needs. */
export interface Rollout
  extends Pick<
    RolloutSummary,
    | 'id' | 'model' | 'version' | 'baselineVersion' | 'strategy' | 'role' | 'target' | 'state' | 'reason'
    | 'createdBy' | 'createdAt' | 'updatedAt' | 'finishedAt' | 'currentWave' | 'holding' | 'rollbackVersions'
  > {
  params: RolloutParams;
  waves: Wave[];
  promotedAt: number | null;
  judgedSince: number;
}

/** A device's row in a rollout: the REST view's fields plus the engine's bookkeeping. */
export interface RolloutDevice extends RolloutDeviceView {
  rolloutId: string;
  position: number;
  acknowledged: boolean;
}

export interface DevicePresence {
  online: boolean;
  lastSeen: number | null;
  /** Version of the model the device says it runs. */
  running: number | null;
}

interface RolloutRow {
  id: string; model: string; version: number; baseline_version: number | null; strategy: string; role: string; target: string; params: string;
  waves: string; state: string; reason: string | null; created_by: string; created_at: number; updated_at: number; finished_at: number | null;
  current_wave: number; holding: number; promoted_at: number | null; judged_since: number; rollback_versions: string;
}

interface DeviceRow {
  rollout_id: string; device_id: string; wave: number; position: number; state: string; previous_version: number | null;
  assigned_at: number | null; state_at: number; times: string; reason: string | null; acknowledged: number;
}

const toRollout = (r: RolloutRow): Rollout => ({
  id: r.id,
  model: r.model,
  version: r.version,
  baselineVersion: r.baseline_version,
  strategy: r.strategy as RolloutStrategy,
  role: r.role === 'shadow' ? 'shadow' : 'serve',
  target: JSON.parse(r.target) as RolloutTarget,
  params: parseStoredParams(r.params),
  waves: JSON.parse(r.waves) as Wave[],
  state: r.state as RolloutState,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  currentWave: r.current_wave,
  holding: r.holding === 1,
  promotedAt: r.promoted_at,
  judgedSince: r.judged_since,
  rollbackVersions: JSON.parse(r.rollback_versions) as Record<string, number>,
});

const toDevice = (r: DeviceRow): RolloutDevice => ({
  rolloutId: r.rollout_id,
  deviceId: r.device_id,
  wave: r.wave,
  position: r.position,
  state: r.state as RolloutDeviceState,
  previousVersion: r.previous_version,
  assignedAt: r.assigned_at,
  stateAt: r.state_at,
  times: JSON.parse(r.times) as RolloutDevice['times'],
  reason: r.reason,
  acknowledged: r.acknowledged === 1,
});

export class RolloutStore {
  constructor(readonly db: FleetDb) {}

  insert(r: Rollout, devices: readonly RolloutDevice[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO rollouts (id, model, version, baseline_version, strategy, role, target, params, waves, state, reason, created_by, created_at,
             updated_at, finished_at, current_wave, holding, promoted_at, judged_since, rollback_versions)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(r.id, r.model, r.version, r.baselineVersion, r.strategy, r.role, JSON.stringify(r.target), JSON.stringify(r.params), JSON.stringify(r.waves),
          r.state, r.reason, r.createdBy, r.createdAt, r.updatedAt, r.finishedAt, r.currentWave, r.holding ? 1 : 0, r.promotedAt, r.judgedSince,
          JSON.stringify(r.rollbackVersions));
      const stmt = this.db.prepare(
        `INSERT INTO rollout_devices (rollout_id, device_id, wave, position, state, previous_version, assigned_at, state_at, times, reason, acknowledged)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const d of devices) {
        stmt.run(d.rolloutId, d.deviceId, d.wave, d.position, d.state, d.previousVersion, d.assignedAt, d.stateAt, JSON.stringify(d.times), d.reason, d.acknowledged ? 1 : 0);
      }
    })();
  }

  /** Writes every mutable field of the rollout. */
  update(r: Rollout): void {
    this.db
      .prepare(
        `UPDATE rollouts SET strategy = ?, params = ?, waves = ?, state = ?, reason = ?, updated_at = ?, finished_at = ?, current_wave = ?, holding = ?,
           promoted_at = ?, judged_since = ?, rollback_versions = ?, role = ? WHERE id = ?`,
      )
      .run(r.strategy, JSON.stringify(r.params), JSON.stringify(r.waves), r.state, r.reason, r.updatedAt, r.finishedAt, r.currentWave, r.holding ? 1 : 0,
        r.promotedAt, r.judgedSince, JSON.stringify(r.rollbackVersions), r.role, r.id);
  }

  updateDevice(d: RolloutDevice): void {
    this.db
      .prepare(
        `UPDATE rollout_devices SET wave = ?, state = ?, previous_version = ?, assigned_at = ?, state_at = ?, times = ?, reason = ?, acknowledged = ?
         WHERE rollout_id = ? AND device_id = ?`,
      )
      .run(d.wave, d.state, d.previousVersion, d.assignedAt, d.stateAt, JSON.stringify(d.times), d.reason, d.acknowledged ? 1 : 0, d.rolloutId, d.deviceId);
  }

  get(id: string): Rollout | undefined {
    const r = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
    return r ? toRollout(r) : undefined;
  }

  list(q: { model?: string; state?: string; limit?: number } = {}): Rollout[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.model) {
      where.push('model = ?');
      args.push(q.model);
    }
    if (q.state) {
      where.push('state = ?');
      args.push(q.state);
    }
    const sql = `SELECT * FROM rollouts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, Math.min(q.limit ?? 100, 1000)) as RolloutRow[]).map(toRollout);
  }

  /** Rollouts the engine has work for: active ones, and rolled-back ones with devices still to return. */
  workList(): Rollout[] {
    return (this.db
      .prepare(
        `SELECT * FROM rollouts r WHERE r.state IN ('running', 'paused')
           OR (r.state = 'rolled-back' AND EXISTS (SELECT 1 FROM rollout_devices d WHERE d.rollout_id = r.id
                AND d.state IN ('assigned', 'downloading', 'verified', 'active', 'healthy', 'failed', 'rejected', 'timed-out')))
           OR (r.state = 'aborted' AND r.role = 'shadow' AND EXISTS (SELECT 1 FROM rollout_devices d WHERE d.rollout_id = r.id
                AND d.state IN ('assigned', 'downloading', 'verified', 'active', 'healthy', 'failed', 'rejected', 'timed-out')))
         ORDER BY created_at`,
      )
      .all() as RolloutRow[]).map(toRollout);
  }

  activeFor(model: string): Rollout | undefined {
    const r = this.db.prepare("SELECT * FROM rollouts WHERE model = ? AND state IN ('running', 'paused')").get(model) as RolloutRow | undefined;
    return r ? toRollout(r) : undefined;
  }

  devices(rolloutId: string): RolloutDevice[] {
    return (this.db.prepare('SELECT * FROM rollout_devices WHERE rollout_id = ? ORDER BY position').all(rolloutId) as DeviceRow[]).map(toDevice);
  }

  /** Presence and the running version of `model` for each device. */
  presence(model: string, deviceIds: readonly string[]): Map<string, DevicePresence> {
    const out = new Map<string, DevicePresence>();
    const stmt = this.db.prepare('SELECT online, last_seen, running FROM devices WHERE id = ?');
    for (const id of deviceIds) {
      const r = stmt.get(id) as { online: number; last_seen: number | null; running: string } | undefined;
      if (!r) continue;
      const running = (JSON.parse(r.running) as Array<{ name: string; version: number }>).find((m) => m.name === model);
      out.set(id, { online: r.online === 1, lastSeen: r.last_seen, running: running?.version ?? null });
    }
    return out;
  }

  /** The device's assignment row for the model (serve role). */
  assignments(model: string, deviceIds: readonly string[]): Map<string, AssignmentFact & { updatedAt: number }> {
    const out = new Map<string, AssignmentFact & { updatedAt: number }>();
    const stmt = this.db.prepare('SELECT version, state, code, reason, updated_at FROM assignments WHERE device_id = ? AND model = ?');
    for (const id of deviceIds) {
      const r = stmt.get(id, model) as { version: number; state: string; code: string | null; reason: string | null; updated_at: number } | undefined;
      if (r) out.set(id, { version: r.version, state: r.state, code: r.code, reason: r.reason, updatedAt: r.updated_at });
    }
    return out;
  }

  /** Undoes an assignment for a device that served nothing of this model before the rollout. */
  removeAssignment(deviceId: string, model: string, version: number): void {
    this.db.prepare('DELETE FROM assignments WHERE device_id = ? AND model = ? AND version = ?').run(deviceId, model, version);
  }
}
