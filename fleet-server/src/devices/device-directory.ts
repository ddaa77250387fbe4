/**
 * @module devices/device-directory
 * Devices as the REST API and the operator see them: the device row with what it runs, its
 * serving and shadow assignments and how far each got, its open alerts, plus its update history.
 * Reads only; what changes a device lives with the area that changes it (ingest, identity, deploy).
 *
 * A list of any length costs a fixed number of queries: the device rows (filtered, sorted and
 * paged by the store), then the assignments, shadows and alert counts of those devices in one
 * batch each.
 */
import type { DeviceFacets, DeviceSummary } from '@edgeloop/protocol';
import type {
  DeviceListFilter,
  DevicePageCursor,
  DevicePageQuery,
  DeviceRecord,
  DeviceSelector,
  FleetStore,
  UpdateEvent,
} from '../store/fleet-store.js';
import { decodeDeviceCursor, encodeDeviceCursor } from './device-cursor.js';

export type DeviceView = DeviceSummary;
export type { DeviceListFilter, DevicePageQuery, DeviceSelector };

/** A page of the device list: `cursor` is the opaque text the next request sends back. */
export interface DeviceListPage {
  devices: DeviceView[];
  total: number;
  nextCursor: string | null;
}

export class DeviceDirectory {
  constructor(private readonly store: FleetStore) {}

  async get(deviceId: string): Promise<DeviceView | undefined> {
    const row = await this.store.devices.get(deviceId);
    return row && (await this.views([row]))[0];
  }

  async list(filter: DeviceListFilter = {}): Promise<DeviceView[]> {
    return this.views(await this.store.devices.list(filter));
  }

  /**
   * Filtered, sorted and (with `limit`) paged. `cursor` is a previous page's nextCursor; it
   * throws a DeviceCursorError when the cursor was not made by this list with the same sort.
   */
  async page(query: Omit<DevicePageQuery, 'after'> & { cursor?: string }): Promise<DeviceListPage> {
    const { cursor, ...q } = query;
    const sort = q.sort ?? 'id';
    const order = q.order ?? 'asc';
    const after: DevicePageCursor | undefined =
      cursor === undefined ? undefined : decodeDeviceCursor(cursor, sort, order);
    const page = await this.store.devices.page({ ...q, ...(after ? { after } : {}) });
    return {
      devices: await this.views(page.devices),
      total: page.total,
      nextCursor: page.next ? encodeDeviceCursor(page.next, sort, order) : null,
    };
  }

  /** What the list's filters can choose from, with counts. */
  async facets(): Promise<DeviceFacets> {
    const [f, assigned] = await Promise.all([this.store.devices.facets(), this.store.assignments.versionCounts()]);
    const models = new Map<string, DeviceFacets['models'][number]>();
    const entry = (model: string, version: number) => {
      const k = `${model}\u0000${version}`;
      let e = models.get(k);
      if (!e) models.set(k, (e = { model, version, running: 0, assigned: 0 }));
      return e;
    };
    for (const r of f.running) entry(r.model, r.version).running = r.count;
    for (const a of assigned) entry(a.model, a.version).assigned = a.count;
    return {
      total: f.total,
      online: f.online,
      disabled: f.disabled,
      groups: f.groups,
      hardware: f.hardware,
      agentVersions: f.agentVersions,
      models: [...models.values()].sort((a, b) =>
        a.model === b.model ? a.version - b.version : a.model < b.model ? -1 : 1,
      ),
    };
  }

  exists(deviceId: string): Promise<boolean> {
    return this.store.devices.exists(deviceId);
  }

  /**
   * Device ids matching the selector, sorted by id (rollout waves are cut from this order).
   * `{ all: true }` is every enabled device; `{ group: 'site-a', tags: { hw: 'pi4' } }` those in the
   * group with that tag; `devices` restricts to the listed ids (unknown ids are left out).
   */
  selectDevices(sel: DeviceSelector): Promise<string[]> {
    return this.store.devices.select(sel);
  }

  /** Update reports, newest first. */
  events(deviceId: string, limit = 50): Promise<UpdateEvent[]> {
    return this.store.updateEvents.list(deviceId, limit);
  }

  private async views(rows: readonly DeviceRecord[]): Promise<DeviceView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [assignments, shadows, alerts] = await Promise.all([
      this.store.assignments.listForDevices(ids),
      this.store.shadows.listForDevices(ids),
      // Past a few pages, one grouped count of every open alert beats many IN lists.
      this.store.monitoring.openDeviceAlertCounts(ids.length > 1_000 ? undefined : ids),
    ]);
    return rows.map((r) => ({
      id: r.id,
      online: r.online,
      lastSeen: r.lastSeen,
      firstSeen: r.firstSeen,
      session: r.session,
      agentVersion: r.info.agentVersion ?? null,
      arch: r.info.arch ?? null,
      platform: r.info.platform ?? null,
      hardware: r.info.hardware ?? null,
      runtime: r.info.runtime ?? null,
      stream: r.info.stream ?? null,
      models: r.running,
      assignments: assignments.get(r.id) ?? [],
      backlog: r.backlog,
      dropped: r.dropped,
      records: r.records,
      bytesSent: r.bytesSent,
      shadows: shadows.get(r.id) ?? [],
      group: r.group,
      tags: r.tags,
      disabled: r.disabled,
      openAlerts: alerts.get(r.id) ?? 0,
    }));
  }
}
