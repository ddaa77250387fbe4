/**
 * @module store/storage-failure
 * What the server does when its store can no longer be made durable (a failed fsync of SQLite's
 * WAL): it stops at once, as PostgreSQL does, rather than acknowledge data that may not survive.
 * The supervisor restarts it and SQLite recovers the database. A server embedded in another
 * process ends that process too.
 */
import type { Logger } from 'pino';

/** Exit status after a storage failure (EX_SOFTWARE), so a supervisor can tell it apart. */
export const STORAGE_FAILURE_EXIT = 70;

export interface StorageFailureHandler {
  /** Set once the server can close cleanly; a clean close is tried for up to 10 s. */
  stop?: () => Promise<void>;
  failed(err: Error): void;
}

export function storageFailureHandler(log: Logger): StorageFailureHandler {
  const handler: StorageFailureHandler = {
    failed(err) {
      log.fatal(
        { err: err.message },
        'the fleet store can no longer be written durably: the server stops; check the disk (dmesg), then start it again',
      );
      process.exitCode = STORAGE_FAILURE_EXIT;
      const stopping = handler.stop?.() ?? Promise.resolve();
      void Promise.race([stopping, new Promise((r) => setTimeout(r, 10_000).unref())]).finally(() =>
        process.exit(STORAGE_FAILURE_EXIT),
      );
    },
  };
  return handler;
}
