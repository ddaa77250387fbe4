/**
 * @module store/sqlite/wal-checkpointer
 * WAL checkpoints off the main thread. SQLite checkpoints automatically at the commit that
 * finds the WAL over wal_autocheckpoint pages, inside that commit: it copies the pages into the
 * database file and fsyncs both files, and the event loop waits for all of it. Here a worker
 * thread with a connection of its own runs PASSIVE checkpoints (they never block the writer)
 * once the ingest has committed CHECKPOINT_EVERY_RECORDS since the last one; the main
 * connection's automatic checkpoint stays as a safety net, at SAFETY_NET_PAGES, for when the
 * worker falls behind or is gone.
 *
 * Durability is untouched: every connection's checkpoint fsyncs the WAL before copying from it
 * and the database after. Checkpointing in larger steps also means the WAL starts over (and
 * SQLite syncs its new header, on the main thread) once per step rather than once per group.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Telemetry records committed between two checkpoints: roughly 10–20 MB of WAL. */
export const CHECKPOINT_EVERY_RECORDS = 40_000;
/** wal_autocheckpoint of the main connection while the worker runs (SQLite's default is 1000). */
export const SAFETY_NET_PAGES = 20_000;
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

// Plain CommonJS, so the worker needs no TypeScript loader whatever the server runs under.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
// OFF would skip the WAL and database fsyncs around the copy; say FULL whatever the build's default.
db.pragma('synchronous = FULL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ ok: true, result: checkpoint.get() });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  }
});
`;

type Reply = { ok: true; result: { busy: number; log: number; checkpointed: number } } | { ok: false; error: string };

export class WalCheckpointer {
  private readonly worker: Worker;
  private running = false;
  private pending = 0;
  private gone = false;
  private idle: Array<() => void> = [];
  /** Checkpoints the worker completed (tests, diagnostics). */
  done = 0;

  /**
   * `setAutocheckpoint` sets the main connection's wal_autocheckpoint: raised while the worker
   * runs, back to SQLite's default if it dies. `onError` hears about failed checkpoints.
   */
  constructor(
    path: string,
    private readonly setAutocheckpoint: (pages: number) => void,
    private readonly onError: (message: string) => void = () => {},
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver } });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      this.running = false;
      if (reply.ok) this.done++;
      else this.onError(`WAL checkpoint failed: ${reply.error}`);
      this.settle();
    });
    this.worker.on('error', (err) => this.stop(`the WAL checkpoint worker failed: ${err.message}`));
    this.worker.on('exit', () => this.stop(this.gone ? undefined : 'the WAL checkpoint worker exited'));
    setAutocheckpoint(SAFETY_NET_PAGES);
  }

  /** After a commit of `records` telemetry records: checkpoint once enough has piled up. */
  committed(records: number): void {
    this.pending += records;
    if (this.gone || this.running || this.pending < CHECKPOINT_EVERY_RECORDS) return;
    this.pending = 0;
    this.running = true;
    this.worker.postMessage('checkpoint');
  }

  private stop(reason?: string): void {
    if (this.gone) return;
    this.gone = true;
    this.running = false;
    if (reason) {
      this.onError(reason);
      this.setAutocheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
    }
    this.settle();
  }

  private settle(): void {
    if (this.running) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  /** Waits for the checkpoint in flight and closes the worker's connection. Before the main one closes. */
  async close(): Promise<void> {
    // Unreferenced so a store left open never keeps the process alive; closing it, we wait for it.
    this.worker.ref();
    if (this.running) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.gone) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.gone = true;
    this.worker.postMessage('close');
    await exited;
  }
}
