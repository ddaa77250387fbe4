/**
 * @module store/repositories/rollout-repository
 * `rollouts` and `rollout_devices`: everything the rollout engine decides from, so a restarted
 * server continues every rollout where it was. At most one rollout per model is running or
 * paused; a unique index enforces it even for two racing requests (insert answers false).
 */
import type { Selectable } from 'kysely';
import type { RolloutRepository } from '../fleet-store.js';
import type { RolloutDevicesTable, RolloutsTable } from '../schema.js';
import type { RolloutDeviceRecord, RolloutRecord } from '../store-types.js';
import { count, parseJson, type RepositoryContext } from './context.js';

const ACTIVE = ['running', 'paused'];

const toRollout = (r: Selectable<RolloutsTable>): RolloutRecord => ({
  id: r.id,
  model: r.model,
  version: r.version,
  baselineVersion: r.baseline_version,
  strategy: r.strategy,
  role: r.role === 'shadow' ? 'shadow' : 'serve',
  target: JSON.parse(r.target) as unknown,
  params: JSON.parse(r.params) as unknown,
  waves: JSON.parse(r.waves) as unknown,
  state: r.state,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  currentWave: r.current_wave,
  holding: r.holding === 1,
  promotedAt: r.promoted_at,
  judgedSince: r.judged_since,
  rollbackVersions: parseJson<Record<string, number>>(r.rollback_versions, {}),
});

const toDevice = (r: Selectable<RolloutDevicesTable>): RolloutDeviceRecord => ({
  rolloutId: r.rollout_id,
  deviceId: r.device_id,
  wave: r.wave,
  position: r.position,
  state: r.state,
  previousVersion: r.previous_version,
  assignedAt: r.assigned_at,
  stateAt: r.state_at,
  times: parseJson<Record<string, number>>(r.times, {}),
  reason: r.reason,
  acknowledged: r.acknowledged === 1,
});

const mutable = (r: RolloutRecord) => ({
  strategy: r.strategy,
  params: JSON.stringify(r.params),
  waves: JSON.stringify(r.waves),
  state: r.state,
  reason: r.reason,
  updated_at: r.updatedAt,
  finished_at: r.finishedAt,
  current_wave: r.currentWave,
  holding: r.holding ? 1 : 0,
  promoted_at: r.promotedAt,
  judged_since: r.judgedSince,
  rollback_versions: JSON.stringify(r.rollbackVersions),
  role: r.role,
});

const deviceColumns = (d: RolloutDeviceRecord) => ({
  wave: d.wave,
  state: d.state,
  previous_version: d.previousVersion,
  assigned_at: d.assignedAt,
  state_at: d.stateAt,
  times: JSON.stringify(d.times),
  reason: d.reason,
  acknowledged: d.acknowledged ? 1 : 0,
});

/** Rows per multi-row insert of rollout devices (11 parameters each). */
const DEVICE_ROWS_PER_INSERT = 200;

export class KyselyRolloutRepository implements RolloutRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  insert(r: RolloutRecord, devices: readonly RolloutDeviceRecord[]): Promise<boolean> {
    return this.ctx.atomic(async () => {
      const db = this.ctx.db();
      const inserted = await db
        .insertInto('rollouts')
        .values({
          id: r.id,
          model: r.model,
          version: r.version,
          baseline_version: r.baselineVersion,
          target: JSON.stringify(r.target),
          created_by: r.createdBy,
          created_at: r.createdAt,
          ...mutable(r),
        })
        // Any conflict: the id, or the one-active-rollout-per-model index.
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (count(inserted.numInsertedOrUpdatedRows) === 0) return false;
      for (let i = 0; i < devices.length; i += DEVICE_ROWS_PER_INSERT) {
        const chunk = devices.slice(i, i + DEVICE_ROWS_PER_INSERT);
        await db
          .insertInto('rollout_devices')
          .values(
            chunk.map((d) => ({
              rollout_id: d.rolloutId,
              device_id: d.deviceId,
              position: d.position,
              ...deviceColumns(d),
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async update(r: RolloutRecord): Promise<void> {
    await this.ctx.db().updateTable('rollouts').set(mutable(r)).where('id', '=', r.id).execute();
  }

  async updateDevice(d: RolloutDeviceRecord): Promise<void> {
    await this.ctx
      .db()
      .updateTable('rollout_devices')
      .set(deviceColumns(d))
      .where('rollout_id', '=', d.rolloutId)
      .where('device_id', '=', d.deviceId)
      .execute();
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const r = await this.ctx.db().selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRollout(r);
  }

  async list(q: { model?: string; state?: string; limit?: number } = {}): Promise<RolloutRecord[]> {
    let query = this.ctx.db().selectFrom('rollouts').selectAll();
    if (q.model) query = query.where('model', '=', q.model);
    if (q.state) query = query.where('state', '=', q.state);
    return (
      await query
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(Math.min(q.limit ?? 100, 1000))
        .execute()
    ).map(toRollout);
  }

  async workList(returning: readonly string[]): Promise<RolloutRecord[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('rollouts as r')
      .selectAll('r')
      .where((eb) => {
        const hasReturning = eb.exists(
          eb
            .selectFrom('rollout_devices as d')
            .select('d.device_id')
            .whereRef('d.rollout_id', '=', 'r.id')
            .where('d.state', 'in', [...returning]),
        );
        return eb.or([
          eb('r.state', 'in', ACTIVE),
          eb.and([eb('r.state', '=', 'rolled-back'), hasReturning]),
          eb.and([eb('r.state', '=', 'aborted'), eb('r.role', '=', 'shadow'), hasReturning]),
        ]);
      })
      .orderBy('r.created_at')
      .execute();
    return rows.map(toRollout);
  }

  async activeFor(model: string): Promise<RolloutRecord | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom('rollouts')
      .selectAll()
      .where('model', '=', model)
      .where('state', 'in', ACTIVE)
      .executeTakeFirst();
    return r && toRollout(r);
  }

  async devices(rolloutId: string): Promise<RolloutDeviceRecord[]> {
    return (
      await this.ctx
        .db()
        .selectFrom('rollout_devices')
        .selectAll()
        .where('rollout_id', '=', rolloutId)
        .orderBy('position')
        .execute()
    ).map(toDevice);
  }
}
