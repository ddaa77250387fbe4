/**
 * @module devices/device-directory
 * Devices as the REST API and the operator see them: the device row with what it runs, its
 * serving and shadow assignments and how far each got, plus its update history. Reads only;
 * what changes a device lives with the area that changes it (ingest, identity, deploy).
 */
import type { DeviceSummary } from '@edgeloop/protocol';
import type { DeviceListFilter, DeviceRecord, DeviceSelector, FleetStore, UpdateEvent } from '../store/fleet-store.js';

export type DeviceView = DeviceSummary;
export type { DeviceListFilter, DeviceSelector };

export class DeviceDirectory {
  constructor(private readonly store: FleetStore) {}

  async get(deviceId: string): Promise<DeviceView | undefined> {
    const row = await this.store.devices.get(deviceId);
    return row && this.view(row);
  }

  async list(filter: DeviceListFilter = {}): Promise<DeviceView[]> {
    const rows = await this.store.devices.list(filter);
    return Promise.all(rows.map((r) => this.view(r)));
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

  private async view(r: DeviceRecord): Promise<DeviceView> {
    const [assignments, shadows] = await Promise.all([
      this.store.assignments.listForDevice(r.id),
      this.store.shadows.listForDevice(r.id),
    ]);
    return {
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
      assignments,
      backlog: r.backlog,
      dropped: r.dropped,
      records: r.records,
      bytesSent: r.bytesSent,
      shadows,
      group: r.group,
      tags: r.tags,
      disabled: r.disabled,
    };
  }
}
