/**
 * @module console/pages/devices/device-query
 * The device table's filter, sort and page, read from the page URL and turned into the API's
 * device list query. The URL is the state: a filtered, sorted page can be bookmarked and shared.
 */
import type { RestClient } from '@edgeloop/protocol/client';
import type { DeviceSummary } from '@edgeloop/protocol';

export const PAGE_SIZE = 50;
export const SORTS = ['id', 'lastSeen', 'backlog', 'dropped', 'group', 'hardware', 'agentVersion'] as const;
export type DeviceSort = (typeof SORTS)[number];

export interface DeviceTableQuery {
  q?: string;
  group?: string;
  tag?: string;
  hardware?: string;
  online?: 'true' | 'false';
  /** "name@version" */
  model?: string;
  sort: DeviceSort;
  order: 'asc' | 'desc';
  offset: number;
}

export function readDeviceQuery(url: URL): DeviceTableQuery {
  const p = url.searchParams;
  const text = (k: string) => {
    const v = p.get(k)?.trim();
    return v ? v.slice(0, 200) : undefined;
  };
  const sort = (SORTS as readonly string[]).includes(p.get('sort') ?? '') ? (p.get('sort') as DeviceSort) : 'id';
  const online = p.get('online');
  return {
    q: text('q'),
    group: text('group'),
    tag: text('tag'),
    hardware: text('hardware'),
    online: online === 'true' || online === 'false' ? online : undefined,
    model: text('model'),
    sort,
    order: p.get('order') === 'desc' ? 'desc' : 'asc',
    offset: Math.max(0, Math.min(1_000_000, Number.parseInt(p.get('offset') ?? '0', 10) || 0)),
  };
}

export interface DevicePage {
  devices: DeviceSummary[];
  total: number;
  facets: { groups: string[]; hardware: string[]; versions: string[] };
}

/** One page of devices as the query asks, with the total and the values the filters offer. */
export async function loadDevicePage(api: RestClient, q: DeviceTableQuery): Promise<DevicePage> {
  const [name, version] = q.model?.split('@') ?? [];
  const { devices } = await api.listDevices({
    query: { ...(q.group ? { group: q.group } : {}), ...(q.tag ? { tag: [q.tag] } : {}) },
  });
  const facets = {
    groups: [...new Set(devices.map((d) => d.group).filter((g): g is string => !!g))].sort(),
    hardware: [...new Set(devices.map((d) => d.hardware).filter((h): h is string => !!h))].sort(),
    versions: [
      ...new Set(
        devices.flatMap((d) => [
          ...d.models.map((m) => `${m.name}@${m.version}`),
          ...d.assignments.map((a) => `${a.model}@${a.version}`),
        ]),
      ),
    ].sort(),
  };
  const matches = devices.filter(
    (d) =>
      (!q.q || d.id.includes(q.q)) &&
      (!q.hardware || d.hardware === q.hardware) &&
      (!q.online || String(d.online && !d.disabled) === q.online) &&
      (!name ||
        d.models.some((m) => m.name === name && (!version || String(m.version) === version)) ||
        d.assignments.some((a) => a.model === name && (!version || String(a.version) === version))),
  );
  const key = (d: DeviceSummary): string | number => {
    switch (q.sort) {
      case 'lastSeen':
        return d.lastSeen ?? 0;
      case 'backlog':
        return d.backlog;
      case 'dropped':
        return d.dropped;
      default:
        return (d[q.sort] as string | null) ?? '';
    }
  };
  matches.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const c = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return q.order === 'desc' ? -c : c;
  });
  return { devices: matches.slice(q.offset, q.offset + PAGE_SIZE), total: matches.length, facets };
}
