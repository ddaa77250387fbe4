/**
 * @module store/sqlite/wal-sync
 * Makes commits taken with synchronous=NORMAL durable without stopping the event loop. In WAL
 * mode NORMAL writes a commit's frames to the -wal file but does not fsync it; this fsyncs that
 * file on a descriptor of its own, in libuv's threadpool (fsync works on the inode: SQLite's
 * writes through its own descriptor are covered). Callers wait for `sync()` after their commit
 * and only then acknowledge it.
 *
 * One fsync at a time: callers that commit while one runs share the next, and are answered in
 * the order they called, so acks leave in commit order. Frames that a checkpoint has moved into
 * the database file are durable already (under NORMAL SQLite syncs the WAL before a checkpoint
 * and the database after it).
 *
 * A failed fsync is final. Linux may drop the pages it failed to write and report the error
 * once, so a later fsync can succeed over a WAL whose middle is lost — and WAL recovery stops at
 * the first bad frame, dropping every later commit too. After a failure every sync, pending or
 * new, rejects: nothing more is acknowledged until the server restarts and SQLite recovers from
 * what is really on disk (unacknowledged records are re-sent by the devices).
 */
import { fsync as fsyncCb } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** fsync(2) of a descriptor, off the main thread; injectable so tests can hold it. */
export type Fsync = (fd: number) => Promise<void>;

export const threadpoolFsync: Fsync = promisify(fsyncCb);

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WalSyncError extends Error {
  constructor(cause: unknown) {
    super(
      `fsync of the SQLite WAL failed (${(cause as Error)?.message ?? String(cause)}): ` +
        'telemetry is no longer acknowledged; restart the server',
      { cause },
    );
    this.name = 'WalSyncError';
  }
}

export class WalSync {
  private file: FileHandle | undefined;
  private ino = -1;
  private dev = -1;
  private running: Promise<void> | undefined;
  private waiting: Waiter[] = [];
  private failure: WalSyncError | undefined;
  private closed = false;

  constructor(
    private readonly walPath: string,
    private readonly fsync: Fsync = threadpoolFsync,
    /** Called once, at the first failed fsync: the owner stops everything that writes. */
    private readonly onFailure?: (err: WalSyncError) => void,
  ) {}

  /** The error that stopped acknowledgements, if an fsync failed. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the WAL sync is closed'));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.next();
    });
  }

  private next(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = this.flush().then(
      () => {
        for (const w of batch) w.resolve();
      },
      (err: unknown) => {
        this.failure = new WalSyncError(err);
        const all = [...batch, ...this.waiting];
        this.waiting = [];
        for (const w of all) w.reject(this.failure);
        this.onFailure?.(this.failure);
      },
    );
    void this.running.finally(() => {
      this.running = undefined;
      if (this.waiting.length > 0 && !this.failure) this.next();
    });
  }

  private async flush(): Promise<void> {
    // A missing WAL after a commit cannot be explained while our connection is open: fail.
    const now = await stat(this.walPath);
    if (!this.file || now.ino !== this.ino || now.dev !== this.dev) await this.reopen();
    await this.fsync(this.file!.fd);
  }

  /**
   * A descriptor on the WAL file as it is now (first sync, or the file was recreated), and an
   * fsync of its directory: a new file's name must survive a power cut as well as its content.
   */
  private async reopen(): Promise<void> {
    const old = this.file;
    this.file = undefined;
    // Only the -wal file and the directory are opened here, never the database file: closing a
    // descriptor drops the process's POSIX locks on that file, SQLite's among them.
    await old?.close();
    const file = await open(this.walPath, 'r');
    try {
      const st = await file.stat();
      const dir = await open(dirname(this.walPath), 'r');
      try {
        await this.fsync(dir.fd);
      } finally {
        await dir.close();
      }
      this.ino = st.ino;
      this.dev = st.dev;
      this.file = file;
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** Waits for the fsync in flight, then lets go of the WAL file. Call before closing the database. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
    await this.file?.close();
    this.file = undefined;
  }
}
