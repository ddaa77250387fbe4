/**
 * @module store/repositories/device-groups
 * Which group each device is in, as the ingest's rollup fold needs it for every group commit:
 * cached, so a commit costs no extra round trip for devices seen lately. This server's own label
 * changes drop a device's entry at once; a change made by another server sharing the database is
 * picked up within TTL_MS (until then that device's new records still count for its old group).
 */
import type { RepositoryContext } from './context.js';

const TTL_MS = 10_000;

export class DeviceGroupCache {
  private readonly groups = new Map<string, { group: string | null; at: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  invalidate(deviceId: string): void {
    this.groups.delete(deviceId);
  }

  async lookup(ctx: RepositoryContext, deviceIds: Iterable<string>): Promise<Map<string, string | null>> {
    const now = this.clock();
    const out = new Map<string, string | null>();
    const missing: string[] = [];
    for (const id of new Set(deviceIds)) {
      const hit = this.groups.get(id);
      if (hit && now - hit.at < TTL_MS) out.set(id, hit.group);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = await ctx
        .db()
        .selectFrom('devices')
        .select(['id', 'device_group'])
        .where('id', 'in', chunk)
        .execute();
      const found = new Map(rows.map((r) => [r.id, r.device_group]));
      for (const id of chunk) {
        const group = found.get(id) ?? null;
        out.set(id, group);
        this.groups.set(id, { group, at: now });
      }
    }
    return out;
  }
}
