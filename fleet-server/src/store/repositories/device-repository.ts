/**
 * @module store/repositories/device-repository
 * The `devices` table: presence (birth, death, last seen), what each device runs, the operator's
 * group, tags and disabled flag, the per-device counters the fleet keeps (desired-state counter,
 * update-report cursor, bytes sent) and what the fleet asked of its retraining samples. It also
 * owns `device_models`, the rows form of what each device runs, written with devices.running in
 * one step so the two never disagree (the list query, device-list-query.ts, reads it).
 */
import type { Selectable } from 'kysely';
import type { Birth, RunningModel } from '@edgeloop/protocol';
import type {
  DeviceFacetCounts,
  DeviceListFilter,
  DevicePage,
  DevicePageQuery,
  DeviceRepository,
  DeviceSelector,
} from '../fleet-store.js';
import type { DevicesTable } from '../schema.js';
import type { DeviceInfo, DeviceRecord } from '../store-types.js';
import { count, parseJson, type RepositoryContext } from './context.js';
import type { DeviceGroupCache } from './device-groups.js';
import { deviceFacets, deviceFilter, pageDevices } from './device-list-query.js';

const toRecord = (r: Selectable<DevicesTable>): DeviceRecord => ({
  id: r.id,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  online: r.online === 1,
  session: r.session,
  info: parseJson<DeviceInfo>(r.info, {}),
  running: parseJson<RunningModel[]>(r.running, []),
  backlog: r.backlog,
  dropped: r.dropped,
  records: r.records,
  bytesSent: r.bytes_sent,
  group: r.device_group,
  tags: parseJson<Record<string, string>>(r.tags, {}),
  disabled: r.disabled === 1,
});

/** Chunks of ids per IN (...) list: well under every database's bound-parameter limit. */
const IN_CHUNK = 500;

export class KyselyDeviceRepository implements DeviceRepository {
  constructor(
    private readonly ctx: RepositoryContext,
    private readonly groups?: DeviceGroupCache,
  ) {}

  private filter(f: DeviceListFilter) {
    return deviceFilter(this.ctx.dialect, f);
  }

  /** Replaces the device's rows in device_models by what it runs (the last entry of a name wins). */
  private async setDeviceModels(deviceId: string, running: readonly RunningModel[]): Promise<void> {
    const db = this.ctx.db();
    await db.deleteFrom('device_models').where('device_id', '=', deviceId).execute();
    const byName = new Map(running.map((m) => [m.name, m.version]));
    if (byName.size === 0) return;
    await db
      .insertInto('device_models')
      .values([...byName].map(([model, version]) => ({ device_id: deviceId, model, version })))
      .execute();
  }

  async recordBirth(birth: Birth, now = Date.now()): Promise<void> {
    const info: DeviceInfo = {
      agentVersion: birth.agentVersion,
      arch: birth.arch,
      platform: birth.platform,
      hardware: birth.hardware ?? null,
      runtime: birth.runtime,
      cpus: birth.cpus,
      memTotalMb: birth.memTotalMb,
      stream: birth.stream,
    };
    // Built inside the unit: outside one, ctx.db() would wait for the unit to end.
    const upsert = () =>
      this.ctx
        .db()
        .insertInto('devices')
        .values({
          id: birth.deviceId,
          first_seen: now,
          last_seen: now,
          online: 1,
          session: birth.session,
          info: JSON.stringify(info),
          running: JSON.stringify(birth.models),
          backlog: birth.backlog,
          dropped: birth.dropped ?? 0,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            last_seen: eb.ref('excluded.last_seen'),
            online: 1,
            session: eb.ref('excluded.session'),
            info: eb.ref('excluded.info'),
            running: eb.ref('excluded.running'),
            backlog: eb.ref('excluded.backlog'),
            dropped: this.ctx.dialect.greatest(eb.ref('devices.dropped'), eb.ref('excluded.dropped')),
          })),
        );
    await this.ctx.atomic(async () => {
      await upsert().execute();
      await this.setDeviceModels(birth.deviceId, birth.models);
    });
  }

  async recordDeath(deviceId: string, session: number): Promise<boolean> {
    const r = await this.ctx
      .db()
      .updateTable('devices')
      .set({ online: 0 })
      .where('id', '=', deviceId)
      .where('session', '<=', session)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }

  async touch(
    deviceId: string,
    backlog: number | undefined,
    addedRecords: number,
    dropped?: number,
    now = Date.now(),
  ): Promise<void> {
    await this.ctx
      .db()
      .updateTable('devices')
      .set((eb) => ({
        last_seen: now,
        ...(backlog !== undefined ? { backlog } : {}),
        records: eb('records', '+', addedRecords),
        ...(dropped !== undefined ? { dropped: this.ctx.dialect.greatest(eb.ref('dropped'), eb.val(dropped)) } : {}),
      }))
      .where('id', '=', deviceId)
      .execute();
  }

  async ensure(deviceId: string, now = Date.now()): Promise<boolean> {
    const r = await this.ctx
      .db()
      .insertInto('devices')
      .values({ id: deviceId, first_seen: now, last_seen: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return count(r.numInsertedOrUpdatedRows) > 0;
  }

  async exists(deviceId: string): Promise<boolean> {
    return (
      (await this.ctx.db().selectFrom('devices').select('id').where('id', '=', deviceId).executeTakeFirst()) !==
      undefined
    );
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const r = await this.ctx.db().selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    return r && toRecord(r);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, DeviceRecord>> {
    const out = new Map<string, DeviceRecord>();
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      if (chunk.length === 0) continue;
      for (const r of await this.ctx.db().selectFrom('devices').selectAll().where('id', 'in', chunk).execute())
        out.set(r.id, toRecord(r));
    }
    return out;
  }

  async list(filter: DeviceListFilter = {}): Promise<DeviceRecord[]> {
    return (
      await this.ctx.db().selectFrom('devices').selectAll().where(this.filter(filter)).orderBy('id').execute()
    ).map(toRecord);
  }

  page(query: DevicePageQuery): Promise<DevicePage> {
    return pageDevices(this.ctx, query, toRecord);
  }

  facets(): Promise<DeviceFacetCounts> {
    return deviceFacets(this.ctx);
  }

  async select(sel: DeviceSelector): Promise<string[]> {
    if (!sel.all && sel.group === undefined && sel.tags === undefined && sel.devices === undefined) return [];
    const f: DeviceListFilter = {
      ...(sel.group !== undefined ? { group: sel.group } : {}),
      ...(sel.tags ? { tags: sel.tags } : {}),
      ...(sel.includeDisabled ? {} : { disabled: false }),
    };
    const ids = (
      await this.ctx.db().selectFrom('devices').select('id').where(this.filter(f)).orderBy('id').execute()
    ).map((r) => r.id);
    if (sel.devices === undefined) return ids;
    const wanted = new Set(sel.devices);
    return ids.filter((id) => wanted.has(id));
  }

  async setLabels(
    deviceId: string,
    labels: { group?: string | null; tags?: Record<string, string> },
  ): Promise<boolean> {
    const set = {
      ...(labels.group !== undefined ? { device_group: labels.group } : {}),
      ...(labels.tags !== undefined ? { tags: JSON.stringify(labels.tags) } : {}),
    };
    if (Object.keys(set).length === 0) return this.exists(deviceId);
    const r = await this.ctx.db().updateTable('devices').set(set).where('id', '=', deviceId).executeTakeFirst();
    if (labels.group !== undefined) this.groups?.invalidate(deviceId);
    return count(r.numUpdatedRows) > 0;
  }

  async setDisabled(deviceId: string, disabled: boolean): Promise<boolean> {
    const r = await this.ctx
      .db()
      .updateTable('devices')
      .set({ disabled: disabled ? 1 : 0 })
      .where('id', '=', deviceId)
      .executeTakeFirst();
    return count(r.numUpdatedRows) > 0;
  }

  async isDisabled(deviceId: string): Promise<boolean> {
    return (
      (await this.ctx.db().selectFrom('devices').select('disabled').where('id', '=', deviceId).executeTakeFirst())
        ?.disabled === 1
    );
  }

  registerEnrolled(
    deviceId: string,
    labels: { group: string | null; tags: Record<string, string> },
    info: Partial<Pick<DeviceInfo, 'arch' | 'hardware'>> = {},
    now = Date.now(),
  ): Promise<void> {
    this.groups?.invalidate(deviceId);
    const done = this.ctx.atomic(async () => {
      const db = this.ctx.db();
      const existing = await db
        .selectFrom('devices')
        .select(['tags', 'device_group'])
        .where('id', '=', deviceId)
        .executeTakeFirst();
      if (existing) {
        const tags = { ...parseJson<Record<string, string>>(existing.tags, {}), ...labels.tags };
        await db
          .updateTable('devices')
          .set({ device_group: labels.group ?? existing.device_group, tags: JSON.stringify(tags) })
          .where('id', '=', deviceId)
          .execute();
        return;
      }
      await db
        .insertInto('devices')
        .values({
          id: deviceId,
          first_seen: now,
          last_seen: null,
          device_group: labels.group,
          tags: JSON.stringify(labels.tags),
          info:
            info.arch || info.hardware
              ? JSON.stringify({ arch: info.arch ?? null, hardware: info.hardware ?? null })
              : null,
        })
        .execute();
    });
    // Again once written: a fold in between may have cached the old group.
    return done.finally(() => this.groups?.invalidate(deviceId));
  }

  setRunningModel(deviceId: string, model: RunningModel): Promise<void> {
    return this.ctx.atomic(async () => {
      const row = await this.ctx
        .db()
        .selectFrom('devices')
        .select('running')
        .where('id', '=', deviceId)
        .executeTakeFirst();
      if (!row) return;
      const running = parseJson<RunningModel[]>(row.running, []).filter((m) => m.name !== model.name);
      running.push(model);
      await this.ctx
        .db()
        .updateTable('devices')
        .set({ running: JSON.stringify(running) })
        .where('id', '=', deviceId)
        .execute();
      await this.setDeviceModels(deviceId, running);
    });
  }

  async reportCursor(deviceId: string) {
    const r = await this.ctx
      .db()
      .selectFrom('devices')
      .select(['session', 'report_session', 'report_seq'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
    return r && { session: r.session, reportSession: r.report_session, reportSeq: r.report_seq };
  }

  async lockReportCursor(deviceId: string) {
    // A write that changes nothing: it takes the row lock (PostgreSQL waits for a concurrent holder
    // and returns the row as that one committed it) on both databases without dialect SQL.
    const r = await this.ctx
      .db()
      .updateTable('devices')
      .set((eb) => ({ report_seq: eb.ref('report_seq') }))
      .where('id', '=', deviceId)
      .returning(['session', 'report_session', 'report_seq'])
      .executeTakeFirst();
    return r && { session: r.session, reportSession: r.report_session, reportSeq: r.report_seq };
  }

  async setReportCursor(deviceId: string, session: number, reportSeq: number): Promise<void> {
    await this.ctx
      .db()
      .updateTable('devices')
      .set({ report_session: session, report_seq: reportSeq })
      .where('id', '=', deviceId)
      .execute();
  }

  async nextDesiredCounter(deviceId: string, now = Date.now()): Promise<number> {
    const row = await this.ctx
      .db()
      .updateTable('devices')
      .set((eb) => ({ desired_counter: this.ctx.dialect.greatest(eb('desired_counter', '+', 1), eb.val(now)) }))
      .where('id', '=', deviceId)
      .returning('desired_counter')
      .executeTakeFirst();
    if (!row) throw new Error(`cannot issue a desired state for unknown device ${deviceId}`);
    return Number(row.desired_counter);
  }

  async desiredCounter(deviceId: string): Promise<number> {
    return (
      (
        await this.ctx
          .db()
          .selectFrom('devices')
          .select('desired_counter')
          .where('id', '=', deviceId)
          .executeTakeFirst()
      )?.desired_counter ?? 0
    );
  }

  async addBytesSent(deviceId: string, bytes: number): Promise<void> {
    await this.ctx
      .db()
      .updateTable('devices')
      .set((eb) => ({ bytes_sent: eb('bytes_sent', '+', bytes) }))
      .where('id', '=', deviceId)
      .execute();
  }

  async setSampleUploadUntil(deviceId: string, until: number): Promise<void> {
    await this.ctx.db().updateTable('devices').set({ sample_upload_until: until }).where('id', '=', deviceId).execute();
  }

  async setSampleCapture(deviceId: string, capture: unknown): Promise<void> {
    await this.ctx
      .db()
      .updateTable('devices')
      .set({ sample_capture: capture === null || capture === undefined ? null : JSON.stringify(capture) })
      .where('id', '=', deviceId)
      .execute();
  }

  async sampleRequests(deviceId: string): Promise<{ uploadUntil: number | null; capture: unknown }> {
    const r = await this.ctx
      .db()
      .selectFrom('devices')
      .select(['sample_upload_until', 'sample_capture'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
    return { uploadUntil: r?.sample_upload_until ?? null, capture: parseJson<unknown>(r?.sample_capture, null) };
  }
}
