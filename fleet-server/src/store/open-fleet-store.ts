/**
 * @module store/open-fleet-store
 * The one way the server (and tests outside store/) get a FleetStore: from a SQLite path or a
 * database URL. `edgeloop serve --db` and EDGELOOP_DB_URL take either form.
 */
import { resolve } from 'node:path';
import type { FleetStore, FleetStoreLocation } from './fleet-store.js';
import { openPostgresStore } from './postgres/open-postgres-store.js';
import { openSqliteStore } from './sqlite/open-sqlite-store.js';

/** The longest telemetry retention a store accepts, for settings checked before a store is opened. */
export { MAX_TELEMETRY_RETENTION_DAYS } from './postgres/telemetry-partitions.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** `postgres://…` (or postgresql://) is a database URL; anything else is a SQLite file path. */
export function parseStoreLocation(text: string): FleetStoreLocation {
  if (POSTGRES_URL.test(text)) return { url: text };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new Error(`unsupported database URL "${redact(text)}": give a SQLite file path or a postgres:// URL`);
  return { sqlitePath: text === ':memory:' ? text : resolve(text) };
}

export interface FleetStoreOptions {
  /**
   * PostgreSQL only: days of telemetry kept (default EDGELOOP_TELEMETRY_RETENTION_DAYS, else 30).
   * The SQLite store keeps telemetry until it is deleted and ignores it.
   */
  telemetryRetentionDays?: number;
  /** SQLite only: the database can no longer be made durable (see SqliteStoreOptions.onStorageFailure). */
  onStorageFailure?: (err: Error) => void;
}

export async function openFleetStore(
  location: FleetStoreLocation,
  options: FleetStoreOptions = {},
): Promise<FleetStore> {
  if ('sqlitePath' in location)
    return openSqliteStore(
      location.sqlitePath,
      options.onStorageFailure ? { onStorageFailure: options.onStorageFailure } : {},
    );
  if (POSTGRES_URL.test(location.url))
    return openPostgresStore(
      location.url,
      options.telemetryRetentionDays === undefined ? {} : { telemetryRetentionDays: options.telemetryRetentionDays },
    );
  throw new Error(`unsupported database URL "${redact(location.url)}": give a SQLite file path or a postgres:// URL`);
}

/** A URL as it may appear in messages and logs: without its password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
