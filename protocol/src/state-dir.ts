/**
 * @module state-dir
 * A service's state on disk (the fleet server's data directory, the agent's): private to the
 * user the service runs as, and owned by one process at a time.
 *
 * Private, because the databases hold credential hashes, telemetry and raw inputs kept for
 * retraining: folders are 0700 and files 0600 whatever the umask, and state left wider by an
 * older version is narrowed at the next start.
 *
 * One owner, because two processes on one directory would each run their own timers (rollout
 * engine, re-signer, sync) against the same database. The lock is an exclusive SQLite lock on
 * `<dir>/<name>.lock`: an fcntl lock the kernel drops when its process dies, even by kill -9,
 * so there is no stale lock to clean up and no pid-reuse guesswork. Who holds it (pid, addresses)
 * is written beside it in `<name>.lock.json`, so the refusal can name the running instance.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and parents) if missing; narrows it to 0700 if it exists with wider access.
 * A shared sticky directory (/tmp, /var/tmp) is never narrowed: it belongs to every user of the
 * machine, and the 0600 files we put in it are private on their own.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if ((statSync(dir).mode & 0o1000) !== 0) return;
  narrow(dir, PRIVATE_DIR_MODE);
}

/** Creates `dir` (and parents) as 0700 if missing; an existing directory is left as it is (a file's folder the user chose). */
export function ensureDirForPrivateFile(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Writes `text` to `path` as 0600, also when the file existed with a wider mode (a write keeps the old mode). */
export function writePrivateFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: PRIVATE_FILE_MODE });
  narrow(path, PRIVATE_FILE_MODE);
}

/** Narrows an existing file to 0600; a missing one is left missing. */
export function restrictFile(path: string): void {
  if (existsSync(path)) narrow(path, PRIVATE_FILE_MODE);
}

/**
 * Makes the SQLite database at `path` private before it is opened: a new file is created 0600,
 * and SQLite gives its -wal, -shm and -journal files the database file's mode. Files left wider
 * by an older version are narrowed.
 */
export function preparePrivateSqlite(path: string): void {
  if (path === ':memory:') return;
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  for (const suffix of ['', '-wal', '-shm', '-journal']) restrictFile(`${path}${suffix}`);
}

function narrow(path: string, mode: number): void {
  if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
}

/** Refusal to start because another process owns the state directory. */
export class StateDirLockedError extends Error {
  constructor(
    message: string,
    readonly holder: Record<string, unknown> | undefined,
  ) {
    super(message);
    this.name = 'StateDirLockedError';
  }
}

export interface StateDirLock {
  /** Records what the owner is (e.g. its addresses once it listens), for the next refusal message. */
  describe(info: Record<string, unknown>): void;
  release(): void;
}

/**
 * Takes the exclusive lock on `dir` for this process, or throws StateDirLockedError naming the
 * holder. `what` names the service in messages ("fleet server", "agent"); `hint` says what to do.
 */
export function lockStateDir(dir: string, what: string, hint: string, name = 'owner'): StateDirLock {
  ensurePrivateDir(dir);
  const lockPath = join(dir, `${name}.lock`);
  const infoPath = join(dir, `${name}.lock.json`);
  preparePrivateSqlite(lockPath);
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; EXCLUSIVE locking mode keeps it until close.
    db.exec('CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY); DELETE FROM owner;');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const holder = readHolder(infoPath);
    throw new StateDirLockedError(
      `another ${what} is already running on ${dir}${describeHolder(holder)}; ${hint}`,
      holder,
    );
  }
  let released = false;
  const base = { pid: process.pid, startedAt: new Date().toISOString() };
  const write = (info: Record<string, unknown>) => {
    const tmp = `${infoPath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: PRIVATE_FILE_MODE });
    renameSync(tmp, infoPath);
  };
  write(base);
  return {
    describe(info) {
      if (!released) write({ ...base, ...info });
    },
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

function readHolder(infoPath: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(infoPath, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function describeHolder(holder: Record<string, unknown> | undefined): string {
  if (!holder) return '';
  const parts = Object.entries(holder)
    .filter(([key, value]) => key !== 'startedAt' && (typeof value === 'string' || typeof value === 'number'))
    .map(([key, value]) => `${key} ${value}`);
  if (typeof holder.startedAt === 'string') parts.push(`since ${holder.startedAt}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
