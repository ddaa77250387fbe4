/**
 * @module store/repositories/assignment-repository
 * Assignment rows keyed (device, model): one instance over `assignments` (the version a device
 * serves) and one over `shadow_assignments` (a candidate run beside it, never answering). The two
 * are separate tables so a shadow comes and goes while the serving row stays as it is.
 */
import type { Selectable } from 'kysely';
import type { AssignmentStatus } from '@edgeloop/protocol';
import type { AssignmentRepository } from '../fleet-store.js';
import type { AssignmentsTable } from '../schema.js';
import { count, type RepositoryContext } from './context.js';

const view = (a: Selectable<AssignmentsTable>): AssignmentStatus => ({
  model: a.model,
  version: a.version,
  state: a.state,
  code: a.code,
  reason: a.reason,
  updatedAt: a.updated_at,
});

const IN_CHUNK = 500;

export class KyselyAssignmentRepository implements AssignmentRepository {
  constructor(
    private readonly ctx: RepositoryContext,
    private readonly table: 'assignments' | 'shadow_assignments',
  ) {}

  async set(deviceId: string, model: string, version: number, now = Date.now()): Promise<void> {
    await this.ctx
      .db()
      .insertInto(this.table)
      .values({ device_id: deviceId, model, version, state: 'assigned', code: null, reason: null, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['device_id', 'model']).doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
          state: 'assigned',
          code: null,
          reason: null,
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async get(deviceId: string, model: string): Promise<AssignmentStatus | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom(this.table)
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('model', '=', model)
      .executeTakeFirst();
    return r && view(r);
  }

  async listForDevice(deviceId: string): Promise<AssignmentStatus[]> {
    return (
      await this.ctx
        .db()
        .selectFrom(this.table)
        .selectAll()
        .where('device_id', '=', deviceId)
        .orderBy('model')
        .execute()
    ).map(view);
  }

  async listForDevices(deviceIds: readonly string[]): Promise<Map<string, AssignmentStatus[]>> {
    const out = new Map<string, AssignmentStatus[]>();
    for (let i = 0; i < deviceIds.length; i += IN_CHUNK) {
      const chunk = deviceIds.slice(i, i + IN_CHUNK);
      const rows = await this.ctx
        .db()
        .selectFrom(this.table)
        .selectAll()
        .where('device_id', 'in', chunk)
        .orderBy('device_id')
        .orderBy('model')
        .execute();
      for (const r of rows) {
        const list = out.get(r.device_id);
        if (list) list.push(view(r));
        else out.set(r.device_id, [view(r)]);
      }
    }
    return out;
  }

  async versionCounts(): Promise<Array<{ model: string; version: number; count: number }>> {
    const rows = await this.ctx
      .db()
      .selectFrom(this.table)
      .select((eb) => ['model', 'version', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy(['model', 'version'])
      .orderBy('model')
      .orderBy('version')
      .execute();
    return rows.map((r) => ({ model: r.model, version: r.version, count: Number(r.n) }));
  }

  async forDevices(model: string, deviceIds: readonly string[]): Promise<Map<string, AssignmentStatus>> {
    const out = new Map<string, AssignmentStatus>();
    for (let i = 0; i < deviceIds.length; i += IN_CHUNK) {
      const chunk = deviceIds.slice(i, i + IN_CHUNK);
      if (chunk.length === 0) continue;
      const rows = await this.ctx
        .db()
        .selectFrom(this.table)
        .selectAll()
        .where('model', '=', model)
        .where('device_id', 'in', chunk)
        .execute();
      for (const r of rows) out.set(r.device_id, view(r));
    }
    return out;
  }

  async setReportedState(
    deviceId: string,
    model: string,
    version: number,
    report: { state: string; code: string | null; reason: string | null },
    now = Date.now(),
  ): Promise<boolean> {
    const r = await this.ctx
      .db()
      .updateTable(this.table)
      .set({ state: report.state, code: report.code, reason: report.reason, updated_at: now })
      .where('device_id', '=', deviceId)
      .where('model', '=', model)
      .where('version', '=', version)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }

  async remove(deviceId: string, model: string, version?: number): Promise<boolean> {
    let q = this.ctx.db().deleteFrom(this.table).where('device_id', '=', deviceId).where('model', '=', model);
    if (version !== undefined) q = q.where('version', '=', version);
    return count((await q.executeTakeFirst()).numDeletedRows) > 0;
  }

  removeVersion(model: string, version: number): Promise<string[]> {
    return this.ctx.atomic(async () => {
      const devices = await this.devicesWith(model, version);
      await this.ctx.db().deleteFrom(this.table).where('model', '=', model).where('version', '=', version).execute();
      return devices;
    });
  }

  async devicesWith(model: string, version: number): Promise<string[]> {
    return (
      await this.ctx
        .db()
        .selectFrom(this.table)
        .select('device_id')
        .where('model', '=', model)
        .where('version', '=', version)
        .orderBy('device_id')
        .execute()
    ).map((r) => r.device_id);
  }

  async versions(): Promise<Array<{ name: string; version: number }>> {
    return this.ctx
      .db()
      .selectFrom(this.table)
      .select(['model as name', 'version'])
      .distinct()
      .orderBy('model')
      .orderBy('version')
      .execute();
  }

  async devices(): Promise<string[]> {
    return (
      await this.ctx.db().selectFrom(this.table).select('device_id').distinct().orderBy('device_id').execute()
    ).map((r) => r.device_id);
  }
}
