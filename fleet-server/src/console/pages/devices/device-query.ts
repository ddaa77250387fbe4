/**
 * @module console/pages/devices/device-query
 * The device table's filter, sort and page, read from the page URL and turned into the API's
 * device list query (filtered, sorted and paged in SQL: a page costs the same with 10 devices or
 * 10,000). The URL is the state: a filtered, sorted page can be bookmarked and shared. Pages
 * follow the API's keyset cursor; `prev` keeps the cursors of the pages before, so "Previous"
 * needs no offset.
 */
import type { DeviceFacets, DeviceSummary } from '@edgeloop/protocol';
import type { RestClient } from '@edgeloop/protocol/client';

export const PAGE_SIZE = 50;
export const SORTS = ['id', 'lastSeen', 'backlog', 'dropped', 'group', 'hardware', 'agentVersion', 'version'] as const;
export type DeviceSort = (typeof SORTS)[number];
/** In `prev`: the first page, which has no cursor. */
const FIRST = '~';
const CURSOR = /^[A-Za-z0-9_-]{1,1024}$/;

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
  cursor?: string;
  /** Cursors of the earlier pages, oldest first (FIRST for the first page). */
  prev: string[];
}

export function readDeviceQuery(url: URL): DeviceTableQuery {
  const p = url.searchParams;
  const text = (k: string) => {
    const v = p.get(k)?.trim();
    return v ? v.slice(0, 200) : undefined;
  };
  const sort = (SORTS as readonly string[]).includes(p.get('sort') ?? '') ? (p.get('sort') as DeviceSort) : 'id';
  const online = p.get('online');
  const cursor = p.get('cursor') ?? '';
  const prev = (p.get('prev') ?? '').split('.').filter((c) => c === FIRST || CURSOR.test(c));
  return {
    q: text('q'),
    group: text('group'),
    tag: text('tag'),
    hardware: text('hardware'),
    online: online === 'true' || online === 'false' ? online : undefined,
    model: /^[^@]+(@\d+)?$/.test(p.get('model') ?? '') ? text('model') : undefined,
    sort,
    order: p.get('order') === 'desc' ? 'desc' : 'asc',
    ...(CURSOR.test(cursor) ? { cursor } : {}),
    prev: CURSOR.test(cursor) ? prev : [],
  };
}

export interface DevicePage {
  devices: DeviceSummary[];
  total: number;
  nextCursor: string | null;
  facets: DeviceFacets;
}

/** The page's URL for another cursor, keeping filters and sort. */
export function pageUrl(base: URL, q: DeviceTableQuery, to: 'next' | 'prev', nextCursor?: string): string {
  const u = new URL(base);
  u.searchParams.delete('fragment');
  if (to === 'next') {
    u.searchParams.set('cursor', nextCursor!);
    u.searchParams.set('prev', [...q.prev, q.cursor ?? FIRST].join('.'));
  } else {
    const back = q.prev.at(-1);
    if (back === undefined || back === FIRST) u.searchParams.delete('cursor');
    else u.searchParams.set('cursor', back);
    const rest = q.prev.slice(0, -1);
    if (rest.length) u.searchParams.set('prev', rest.join('.'));
    else u.searchParams.delete('prev');
  }
  return u.pathname + u.search;
}

/** One page of devices as the query asks, with the total and the values the filters offer. */
export async function loadDevicePage(api: RestClient, q: DeviceTableQuery): Promise<DevicePage> {
  const [name, version] = q.model?.split('@') ?? [];
  const [page, facets] = await Promise.all([
    api.listDevices({
      query: {
        limit: PAGE_SIZE,
        sort: q.sort,
        order: q.order,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.q ? { q: q.q } : {}),
        ...(q.group ? { group: q.group } : {}),
        ...(q.tag ? { tag: [q.tag] } : {}),
        ...(q.hardware ? { hardware: q.hardware } : {}),
        ...(q.online ? { online: q.online === 'true' } : {}),
        ...(name ? { model: name } : {}),
        ...(version ? { version: Number(version) } : {}),
      },
    }),
    api.getDeviceFacets(),
  ]);
  return { devices: page.devices, total: page.total, nextCursor: page.nextCursor, facets };
}
