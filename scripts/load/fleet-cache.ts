/**
 * @module load/fleet-cache
 * Enrolling 10,000 devices through the API takes minutes on a busy machine (every enrollment is
 * its own committed transaction, audit entry included). `--fleet-cache DIR` keeps what an
 * enrollment produced — the server's data directory, its SQLite store and the devices'
 * credentials — so later runs (a benchmark's search steps, repeated runs by hand) start a fresh
 * server on a copy and skip enrolling. Only for one server with the embedded broker on SQLite:
 * Mosquitto's password file and a PostgreSQL database live outside the data directory.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceCredentials } from './ipc.js';
import type { LoadOptions } from './options.js';

const CREDENTIALS = 'devices.json';
const STORE_FILES = ['fleet.db', 'fleet.db-wal', 'fleet.db-shm'];

export function cacheApplies(o: LoadOptions): boolean {
  return o.fleetCache !== null && o.instances === 1 && o.broker === 'embedded' && o.db === 'sqlite';
}

/** Credentials of the first `count` cached devices, or null when the cache holds fewer. */
export function cachedDevices(cacheDir: string, count: number): DeviceCredentials[] | null {
  const file = join(cacheDir, CREDENTIALS);
  if (!existsSync(file)) return null;
  const all = JSON.parse(readFileSync(file, 'utf8')) as DeviceCredentials[];
  return all.length >= count ? all.slice(0, count) : null;
}

/** Copies the cached data directory and store into a run's directory (before its server starts). */
export function restoreCache(cacheDir: string, runDir: string, dataDirName: string): void {
  cpSync(join(cacheDir, dataDirName), join(runDir, dataDirName), { recursive: true });
  for (const f of STORE_FILES) if (existsSync(join(cacheDir, f))) cpSync(join(cacheDir, f), join(runDir, f));
}

/** Saves a stopped server's data directory and store with the devices' credentials (0600: they are secrets). */
export function saveCache(cacheDir: string, runDir: string, dataDirName: string, devices: DeviceCredentials[]): void {
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  cpSync(join(runDir, dataDirName), join(cacheDir, dataDirName), { recursive: true });
  for (const f of STORE_FILES) if (existsSync(join(runDir, f))) cpSync(join(runDir, f), join(cacheDir, f));
  writeFileSync(join(cacheDir, CREDENTIALS), JSON.stringify(devices), { mode: 0o600 });
}
