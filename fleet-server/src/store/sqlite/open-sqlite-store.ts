/**
 * @module store/sqlite/open-sqlite-store
 * The fleet store in one SQLite file: WAL, synchronous=FULL (a transaction is durable when it
 * returns: "acked" survives a power cut of the server too), a busy timeout, the file and its
 * directory private to the user. Migrates the schema on open. The ingest's group commits are the
 * one exception: NORMAL, with the WAL fsynced in the threadpool before they resolve (wal-sync.ts).
 */
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { dirname, resolve } from 'node:path';
import { applyMigrations } from '@edgeloop/protocol';
import { ensureDirForPrivateFile, preparePrivateSqlite } from '@edgeloop/protocol/state-dir';
import { KyselyFleetStore } from '../kysely-fleet-store.js';
import { BetterSqlite3Dialect } from './better-sqlite3-dialect.js';
import type { Database as Schema } from '../schema.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { SqliteTelemetryWriter } from './sqlite-telemetry-writer.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalSync, type Fsync } from './wal-sync.js';

export interface SqliteStoreOptions {
  /** fsync of the WAL for the ingest's group commits (tests hold it to watch acks wait). */
  fsync?: Fsync;
  /** Checkpoint the WAL in a worker thread (default true on a database file). */
  checkpointWorker?: boolean;
  /**
   * Called once when the WAL could not be made durable (a failed fsync). Linux may have dropped
   * the pages it failed to write and reports that only once, so later commits, even fully synced
   * ones, could sit behind a hole that recovery stops at: the owner must stop writing (the fleet
   * server stops; SQLite recovers the database at the next start). Checkpoints stop here.
   */
  onStorageFailure?: (err: Error) => void;
}

/** Opens (creating and migrating as needed) the SQLite database at `path`; ':memory:' for a throwaway one. */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') {
    ensureDirForPrivateFile(dirname(path));
    preparePrivateSqlite(path);
  }
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db, SQLITE_MIGRATIONS, 'fleet database');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export async function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Promise<KyselyFleetStore> {
  const db = openSqliteDatabase(path);
  const kysely = new Kysely<Schema>({ dialect: new BetterSqlite3Dialect(db) });
  // The ack's fsync of the -wal file needs WAL mode; a file system that refused it (the database
  // stays in its old journal mode) keeps every commit synchronous=FULL instead.
  const inWal = db.pragma('journal_mode', { simple: true }) === 'wal';
  if (!db.memory && !inWal)
    process.emitWarning(
      `${path} is not in WAL mode (the file system refused it): every commit is fsynced on the main thread, ingest is slower`,
      'EdgeLoopSqlite',
    );
  // Made after the WAL sync, which stops it when an fsync fails.
  const made: { checkpointer?: WalCheckpointer } = {};
  const wal =
    db.memory || !inWal
      ? undefined
      : new WalSync(`${resolve(path)}-wal`, opts.fsync, (err) => {
          void made.checkpointer?.close();
          opts.onStorageFailure?.(err);
        });
  const exclusive = <T>(fn: () => T) => kysely.connection().execute(async () => fn());
  const checkpointer = (made.checkpointer =
    wal && opts.checkpointWorker !== false
      ? new WalCheckpointer(
          resolve(path),
          (pages) => db.pragma(`wal_autocheckpoint = ${pages}`),
          (message) => process.emitWarning(message, 'EdgeLoopWalCheckpoint'),
        )
      : undefined);
  return new KyselyFleetStore(kysely, sqliteDialect, {
    telemetryWriter: () => new SqliteTelemetryWriter(db, wal && { wal, exclusive, checkpointer }),
    // The worker's checkpoint and the fsync in flight finish (its group is acked) and our
    // descriptors on the WAL close before SQLite's last connection checkpoints and deletes it.
    beforeClose: async () => {
      await checkpointer?.close();
      await wal?.close();
    },
  });
}
