/**
 * @module store/postgres/test-postgres
 * A real PostgreSQL server for tests and benches, one per process, with a fresh database per
 * caller. Where it comes from, in order:
 *   1. the machine's PostgreSQL binaries (Debian's /usr/lib/postgresql/<highest>/bin, else initdb
 *      and postgres on PATH): initdb in a temp dir, postgres on a free loopback port, its unix
 *      socket in the temp dir — never the machine's own server or port 5432;
 *   2. EDGELOOP_TEST_DATABASE_URL (a server whose user may CREATE DATABASE);
 *   3. neither: `{skip}` with a loud warning that says what to install.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user,
 * in a temp dir under the first of $TMPDIR, /var/tmp, /dev/shm that user can reach.
 *
 * Clean-up does not depend on the test process ending well: a small shell watchdog owns the
 * server and reads the end of a pipe from this process. When this process exits — normally,
 * on a failed test, or killed — the pipe closes, and the watchdog stops the server and removes
 * the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';
import { openPostgresPool, type PostgresPoolOptions } from './pg-pool.js';

export interface TestDatabase {
  /** postgres:// URL of a database made for this caller alone. */
  url: string;
  /** Drops the database (the server itself stops when the process exits). */
  stop(): Promise<void>;
}
export type TestPostgres = TestDatabase | { skip: string };

export interface TestPostgresOptions {
  /**
   * fsync and synchronous commit on, as in production. Tests leave it off (faster; a test server
   * never survives a power cut); benches turn it on so their figures are honest.
   */
  durable?: boolean;
}

/** A server's admin URL (database `postgres`) and how to make database URLs on it. */
interface Server {
  adminUrl: string;
  databaseUrl(name: string): string;
}

const servers = new Map<string, Promise<Server | { skip: string }>>();
let databases = 0;

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const found = await sharedServer(options);
  if ('skip' in found) return found;
  const name = `edgeloop_test_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
  await admin(found.adminUrl, `CREATE DATABASE ${name}`);
  return {
    url: found.databaseUrl(name),
    stop: () => admin(found.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function findServer(options: TestPostgresOptions): Promise<Server | { skip: string }> {
  const bin = findPostgresBin();
  if (bin) return launchServer(bin, options);
  const external = process.env.EDGELOOP_TEST_DATABASE_URL;
  if (external) {
    const adminUrl = new URL(external);
    return {
      adminUrl: external,
      databaseUrl: (name) => Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString(),
    };
  }
  const skip =
    'PostgreSQL tests SKIPPED: no PostgreSQL server binaries (initdb, postgres) found in /usr/lib/postgresql/*/bin or on PATH, ' +
    'and EDGELOOP_TEST_DATABASE_URL is not set. Install them (Debian/Ubuntu: apt-get install postgresql) or point ' +
    'EDGELOOP_TEST_DATABASE_URL at a server whose user may CREATE DATABASE.';
  console.warn(`\n*** ${skip}\n`);
  return { skip };
}

/** Directory holding initdb and postgres: Debian's highest version, else the first on PATH. */
export function findPostgresBin(): string | undefined {
  const debian = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not Debian-style; PATH below.
  }
  const candidates = [
    ...versions.map((v) => join(debian, v, 'bin')),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  ];
  return candidates.find((dir) => executable(join(dir, 'initdb')) && executable(join(dir, 'postgres')));
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether another user can reach files under dir: every directory on the way is searchable by others. */
function searchableByOthers(dir: string): boolean {
  try {
    for (let d = dir; ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false;
      if (d === dirname(d)) return true;
    }
  } catch {
    return false;
  }
}

/** uid and gid of a system user, from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Runs initdb, then postgres, under the watchdog. Arguments: dir bin port durable [runner...],
 * where runner (e.g. setpriv …) is put in front of initdb and postgres. `cat` blocks until the
 * test process's end of stdin closes; the EXIT trap then stops the server (immediate shutdown:
 * the data is thrown away anyway) and removes the directory.
 */
const WATCHDOG = `
set -u
dir=$1; bin=$2; port=$3; durable=$4; shift 4
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
"$@" "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/password" -A scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \\
  || { cat "$dir/initdb.log" >&2; exit 1; }
if [ "$durable" = 1 ]; then sync=on; else sync=off; fi
"$@" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \\
  -c fsync=$sync -c synchronous_commit=$sync -c full_page_writes=$sync -c max_connections=200 -c log_min_messages=warning 2>&1 &
pid=$!
cat >/dev/null
`;

async function launchServer(bin: string, options: TestPostgresOptions): Promise<Server | { skip: string }> {
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? systemUser('postgres') : undefined;
  if (asRoot && !owner) {
    const skip = `PostgreSQL tests SKIPPED: running as root and there is no "postgres" system user to run ${bin}/postgres as (PostgreSQL refuses root).`;
    console.warn(`\n*** ${skip}\n`);
    return { skip };
  }
  const base = owner ? [tmpdir(), '/var/tmp', '/dev/shm'].find(searchableByOthers) : tmpdir();
  if (!base) {
    const skip = `PostgreSQL tests SKIPPED: none of ${tmpdir()}, /var/tmp, /dev/shm is reachable by the postgres user (a directory on the way is not searchable by others)`;
    console.warn(`\n*** ${skip}\n`);
    return { skip };
  }
  // A free port can be taken by another process between our probe and the server's bind (tests run
  // in parallel): the server then cannot listen, and we start over on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce(bin, base, owner, options);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt === 5) throw err;
    }
  }
}

class PortTaken extends Error {}

async function launchOnce(
  bin: string,
  base: string,
  owner: { uid: number; gid: number } | undefined,
  options: TestPostgresOptions,
): Promise<Server> {
  const dir = mkdtempSync(join(base, 'edgeloop-pg-'));
  const password = randomBytes(18).toString('base64url');
  writeFileSync(join(dir, 'password'), `${password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(join(dir, 'password'), owner.uid, owner.gid);
  }
  const port = await freePort();
  const runner = owner ? ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', '--'] : [];
  const watchdog = spawn(
    '/bin/sh',
    ['-c', WATCHDOG, 'edgeloop-pg-watchdog', dir, bin, String(port), options.durable ? '1' : '0', ...runner],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  // Keep the last few KB of the server's output for error messages; reading it also keeps the pipe from filling.
  let output = '';
  watchdog.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8192)));
  // The test process must be free to exit while the server runs: its exit is what stops the server.
  watchdog.unref();
  for (const stream of [watchdog.stdin, watchdog.stderr]) (stream as unknown as Socket).unref();

  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilAccepting(adminUrl, watchdog, () => output);
  } catch (err) {
    watchdog.stdin!.end();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { adminUrl, databaseUrl: (name) => `postgres://postgres:${password}@127.0.0.1:${port}/${name}` };
}

async function waitUntilAccepting(url: string, watchdog: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (watchdog.exitCode !== null) throw new Error(`the test PostgreSQL server did not start:\n${output()}`);
    if (/could not create any TCP\/IP sockets/.test(output()))
      throw new PortTaken(`the test PostgreSQL server's port was taken:\n${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline)
        throw new Error(
          `the test PostgreSQL server did not accept connections within 60 s (${(err as Error).message}):\n${output()}`,
          { cause: err },
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * For node:test files: starts (or finds) the shared server and says why PostgreSQL tests must be
 * skipped, or false. Use as `test(name, { skip: await testPostgresSkip() }, …)`.
 */
export async function testPostgresSkip(options: TestPostgresOptions = {}): Promise<string | false> {
  const found = await sharedServer(options);
  return 'skip' in found ? found.skip : false;
}

function sharedServer(options: TestPostgresOptions): Promise<Server | { skip: string }> {
  const key = options.durable ? 'durable' : 'fast';
  let server = servers.get(key);
  if (!server) {
    server = findServer(options);
    servers.set(key, server);
  }
  return server;
}

/**
 * For a test: a fresh database on the shared server and a pool on it (the store's own int8
 * parsing), both gone after the test. Call only when testPostgresSkip() said false.
 */
export async function openTestPool(
  t: { after(fn: () => Promise<void>): void },
  options: PostgresPoolOptions = {},
): Promise<{ pool: pg.Pool; url: string }> {
  const db = await startTestPostgres();
  if ('skip' in db) throw new Error(db.skip);
  const pool = openPostgresPool(db.url, options);
  t.after(async () => {
    await pool.end();
    await db.stop();
  });
  return { pool, url: db.url };
}
