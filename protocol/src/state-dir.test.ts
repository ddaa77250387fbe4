import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import {
  ensureDirForPrivateFile,
  ensurePrivateDir,
  lockStateDir,
  preparePrivateSqlite,
  StateDirLockedError,
} from './state-dir.js';

const mode = (path: string) => statSync(path).mode & 0o777;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("a shared sticky folder like /tmp is never narrowed, and a database file's existing folder is left as it is", (t) => {
  const dir = tempDir(t);
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  ensurePrivateDir(shared);
  assert.equal(statSync(shared).mode & 0o7777, 0o1777);
  const chosen = join(dir, 'chosen');
  mkdirSync(chosen);
  chmodSync(chosen, 0o755);
  ensureDirForPrivateFile(chosen);
  assert.equal(mode(chosen), 0o755);
  const missing = join(dir, 'x', 'y');
  ensureDirForPrivateFile(missing);
  assert.equal(mode(missing), 0o700);
});

test('a state folder left 0755 by an older version is narrowed to 0700; a new one is made 0700', (t) => {
  const dir = tempDir(t);
  const old = join(dir, 'old');
  mkdirSync(old, { mode: 0o755 });
  chmodSync(old, 0o755);
  ensurePrivateDir(old);
  assert.equal(mode(old), 0o700);
  const fresh = join(dir, 'a', 'b');
  const umask = process.umask(0o022);
  try {
    ensurePrivateDir(fresh);
  } finally {
    process.umask(umask);
  }
  assert.equal(mode(fresh), 0o700);
});

test('a SQLite database and its WAL and shm files are 0600 whatever the umask', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'x.db');
  const umask = process.umask(0o022);
  try {
    preparePrivateSqlite(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    for (const suffix of ['', '-wal', '-shm']) assert.equal(mode(`${path}${suffix}`), 0o600, `x.db${suffix}`);
    db.close();
  } finally {
    process.umask(umask);
  }
  // A database an older version left 0644 is narrowed at the next open.
  chmodSync(path, 0o644);
  writeFileSync(`${path}-wal`, '');
  chmodSync(`${path}-wal`, 0o644);
  preparePrivateSqlite(path);
  assert.equal(mode(path), 0o600);
  assert.equal(mode(`${path}-wal`), 0o600);
});

test('a second owner of a state folder is refused with the first one named, and can take over after release', (t) => {
  const dir = tempDir(t);
  const first = lockStateDir(dir, 'fleet server', 'stop it first');
  first.describe({ http: 'http://127.0.0.1:1234' });
  assert.throws(
    () => lockStateDir(dir, 'fleet server', 'stop it first'),
    (err: unknown) =>
      err instanceof StateDirLockedError &&
      err.message.includes(`another fleet server is already running on ${dir}`) &&
      err.message.includes(`pid ${process.pid}`) &&
      err.message.includes('http://127.0.0.1:1234') &&
      err.message.endsWith('stop it first'),
  );
  assert.equal(mode(join(dir, 'owner.lock')), 0o600);
  assert.equal(mode(join(dir, 'owner.lock.json')), 0o600);
  first.release();
  const second = lockStateDir(dir, 'fleet server', 'stop it first');
  second.release();
});

test(
  'the lock of a process killed with SIGKILL is free at once: nothing stale to clean up',
  { timeout: 30_000 },
  async (t) => {
    const dir = tempDir(t);
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
    import { lockStateDir } from ${JSON.stringify(new URL('./state-dir.ts', import.meta.url).pathname)};
    lockStateDir(${JSON.stringify(dir)}, 'agent', 'stop it');
    console.log('locked');
    setInterval(() => {}, 1000);
  `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: holder.stdout! }).on('line', (line) => line === 'locked' && resolve());
      void exited.then(() => reject(new Error('the lock holder exited early')));
    });
    assert.throws(
      () => lockStateDir(dir, 'agent', 'stop it'),
      (err: unknown) => err instanceof StateDirLockedError && err.message.includes(`pid ${holder.pid}`),
    );
    holder.kill('SIGKILL');
    await exited;
    lockStateDir(dir, 'agent', 'stop it').release();
  },
);
