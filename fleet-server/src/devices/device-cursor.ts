/**
 * @module devices/device-cursor
 * The device list's page cursor as clients see it: opaque base64url text carrying the sort and
 * order it was made for and where the page ended. A cursor sent with another sort or order
 * would start the next page at a meaningless place, so it is refused with what to do instead.
 */
import type { DevicePageCursor, DeviceSortKey } from '../store/fleet-store.js';

/** Sorts whose values are numbers; the others sort text. */
const NUMERIC_SORTS: ReadonlySet<string> = new Set<DeviceSortKey>(['lastSeen', 'backlog', 'dropped', 'version']);

/** A cursor that this list did not make, or made for another sort: the answer is a 400. */
export class DeviceCursorError extends Error {}

export function encodeDeviceCursor(c: DevicePageCursor, sort: DeviceSortKey, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify([sort, order, c.key, c.id])).toString('base64url');
}

export function decodeDeviceCursor(text: string, sort: DeviceSortKey, order: 'asc' | 'desc'): DevicePageCursor {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 4 ||
    typeof parts[3] !== 'string' ||
    typeof parts[2] !== (NUMERIC_SORTS.has(String(parts[0])) ? 'number' : 'string')
  )
    throw new DeviceCursorError(
      "cursor is not one this server made; send the previous page's nextCursor unchanged, or leave cursor out for the first page",
    );
  const [cSort, cOrder, key, id] = parts as [string, string, string | number, string];
  if (cSort !== sort || cOrder !== order)
    throw new DeviceCursorError(
      `cursor belongs to a list sorted by ${cSort} ${cOrder}, not ${sort} ${order}; leave cursor out to start again from the first page`,
    );
  return { key, id };
}
