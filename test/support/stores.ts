/**
 * @module support/stores
 * The fleet stores a fleet-level test runs against: SQLite (the default, `<dataDir>/fleet.db`)
 * and PostgreSQL (a fresh database on the test process's private server, test-postgres.ts).
 * Scenario tests loop over STORES, one test per store, and skip the PostgreSQL one with the
 * harness's reason when no PostgreSQL is available:
 *
 *   for (const store of STORES)
 *     test(`… (${store})`, { skip: await storeSkip(store) }, async (t) => { … { store } … });
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPostgresBin, startTestPostgres, testPostgresSkip } from '@edgeloop/fleet-server/testing';

export const STORES = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORES)[number];

/** Why a test on this store cannot run (the harness has already warned loudly), or false. */
export async function storeSkip(store: StoreKind): Promise<string | false> {
  return store === 'postgres' ? testPostgresSkip() : false;
}

/** A server's `db` setting for the store: undefined for SQLite, else a fresh database and how to drop it. */
export async function freshDatabase(store: StoreKind): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (store === 'sqlite') return undefined;
  const db = await startTestPostgres();
  // storeSkip() said so before the test started; reaching here without a server is a harness misuse.
  if ('skip' in db) throw new Error(db.skip);
  return { url: db.url, drop: db.stop };
}

/**
 * Everything a store holds at rest, as bytes to search for a secret: the SQLite file with its
 * write-ahead log, or a data-only pg_dump of the PostgreSQL database.
 */
export async function bytesAtRest(db: { sqlitePath: string } | { url: string }): Promise<Buffer> {
  if ('sqlitePath' in db)
    return Buffer.concat(
      [db.sqlitePath, `${db.sqlitePath}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
  const bin = findPostgresBin();
  const { stdout } = await promisify(execFile)(bin ? join(bin, 'pg_dump') : 'pg_dump', ['--data-only', db.url], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}
