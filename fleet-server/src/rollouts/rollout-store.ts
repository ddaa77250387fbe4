/**
 * @module rollouts/rollout-store
 * Rollouts as the engine works with them, over the fleet store: its rollout rows (plans and
 * parameters checked on the way in), plus the few reads of other areas it decides from — the
 * devices' presence and what they run, and their serving or shadow assignment rows. The engine
 * keeps no state of its own beyond this, which is what makes rollouts survive a restart.
 */
import type {
  AssignmentStatus,
  RolloutDeviceState,
  RolloutDeviceView,
  RolloutState,
  RolloutStrategy,
  RolloutSummary,
  RolloutTarget,
} from '@edgeloop/protocol';
import type { FleetStore, RolloutDeviceRecord, RolloutRecord } from '../store/fleet-store.js';
import type { AssignmentFact } from './device-state.js';
import { parseStoredParams, type RolloutParams } from './rollout-params.js';
import type { Wave } from './wave-plan.js';

/** The stored rollout: the REST summary's fields plus what only the engine needs. */
export interface Rollout extends Pick<
  RolloutSummary,
  | 'id'
  | 'model'
  | 'version'
  | 'baselineVersion'
  | 'strategy'
  | 'role'
  | 'target'
  | 'state'
  | 'reason'
  | 'createdBy'
  | 'createdAt'
  | 'updatedAt'
  | 'finishedAt'
  | 'currentWave'
  | 'holding'
  | 'rollbackVersions'
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

/** Device states that still hold the candidate: a finished rollout with such devices has work left. */
const RETURNING: readonly RolloutDeviceState[] = [
  'assigned',
  'downloading',
  'verified',
  'active',
  'healthy',
  'failed',
  'rejected',
  'timed-out',
];

const toRollout = (r: RolloutRecord): Rollout => ({
  ...r,
  strategy: r.strategy as RolloutStrategy,
  target: r.target as RolloutTarget,
  params: parseStoredParams(r.params),
  waves: r.waves as Wave[],
  state: r.state as RolloutState,
});

const toDevice = (d: RolloutDeviceRecord): RolloutDevice => ({
  ...d,
  state: d.state as RolloutDeviceState,
  times: d.times as RolloutDevice['times'],
});

const toRecord = (d: RolloutDevice): RolloutDeviceRecord => ({ ...d, times: d.times as Record<string, number> });

const fact = (a: AssignmentStatus): AssignmentFact & { updatedAt: number } => ({
  version: a.version,
  state: a.state,
  code: a.code,
  reason: a.reason,
  updatedAt: a.updatedAt,
});

export class RolloutStore {
  constructor(readonly store: FleetStore) {}

  /** false when another rollout of the model is running or paused. */
  insert(r: Rollout, devices: readonly RolloutDevice[]): Promise<boolean> {
    return this.store.rollouts.insert(r, devices.map(toRecord));
  }

  /** Writes every mutable field of the rollout. */
  update(r: Rollout): Promise<void> {
    return this.store.rollouts.update(r);
  }

  updateDevice(d: RolloutDevice): Promise<void> {
    return this.store.rollouts.updateDevice(toRecord(d));
  }

  async get(id: string): Promise<Rollout | undefined> {
    const r = await this.store.rollouts.get(id);
    return r && toRollout(r);
  }

  async list(q: { model?: string; state?: string; limit?: number } = {}): Promise<Rollout[]> {
    return (await this.store.rollouts.list(q)).map(toRollout);
  }

  /** Rollouts the engine has work for: active ones, and rolled-back ones with devices still to return. */
  async workList(): Promise<Rollout[]> {
    return (await this.store.rollouts.workList(RETURNING)).map(toRollout);
  }

  async activeFor(model: string): Promise<Rollout | undefined> {
    const r = await this.store.rollouts.activeFor(model);
    return r && toRollout(r);
  }

  async devices(rolloutId: string): Promise<RolloutDevice[]> {
    return (await this.store.rollouts.devices(rolloutId)).map(toDevice);
  }

  /** Presence and the running version of `model` for each device. */
  async presence(model: string, deviceIds: readonly string[]): Promise<Map<string, DevicePresence>> {
    const out = new Map<string, DevicePresence>();
    for (const [id, d] of await this.store.devices.getMany(deviceIds)) {
      out.set(id, {
        online: d.online,
        lastSeen: d.lastSeen,
        running: d.running.find((m) => m.name === model)?.version ?? null,
      });
    }
    return out;
  }

  /** The devices' serving assignment rows for the model. */
  async assignments(
    model: string,
    deviceIds: readonly string[],
  ): Promise<Map<string, AssignmentFact & { updatedAt: number }>> {
    return new Map([...(await this.store.assignments.forDevices(model, deviceIds))].map(([id, a]) => [id, fact(a)]));
  }

  /** The devices' shadow assignment rows for the model (state as their agents reported it). */
  async shadowAssignments(model: string, deviceIds: readonly string[]): Promise<Map<string, AssignmentFact>> {
    return new Map([...(await this.store.shadows.forDevices(model, deviceIds))].map(([id, a]) => [id, fact(a)]));
  }

  /** Undoes an assignment for a device that served nothing of this model before the rollout. */
  async removeAssignment(deviceId: string, model: string, version: number): Promise<void> {
    await this.store.assignments.remove(deviceId, model, version);
  }
}
