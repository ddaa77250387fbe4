/**
 * @module load/infra
 * What a load run runs against: one fleet server with its embedded broker, or `instances`
 * servers behind a private Mosquitto, on SQLite or a private PostgreSQL database. Servers are
 * real processes started through the `edgeloop serve` CLI (startServerProcess), so a restart
 * is a real kill and a real start on the same data directory and ports.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '@edgeloop/fleet-server/testing';
import { startMosquitto, type Mosquitto } from '@edgeloop/test/support/mosquitto';
import { portOf, startServerProcess, type Proc, type ServerReady } from '@edgeloop/test/support/processes';
import type { LoadOptions } from './options.js';
import type { DeviceCredentials } from './ipc.js';
import { cacheApplies, cachedDevices, restoreCache, saveCache } from './fleet-cache.js';

const SERVER_MQTT_PASSWORD = 'edgeloop-load-server-mqtt-password';

export interface LoadFleet {
  /** Where devices connect. */
  mqttUrl: string;
  /** Instance 0's REST API, with the admin token. */
  api: ServerReady;
  servers: Array<Proc<ServerReady>>;
  store: { sqlitePath: string } | { url: string };
  /** Kills instance `i` with the signal, starts it again on the same data and ports; times in ms since epoch. */
  restart(i: number, signal: NodeJS.Signals): Promise<{ killedAt: number; readyAt: number }>;
  /** Enrolled devices restored from the fleet cache, or null when the run must enroll. */
  cached: DeviceCredentials[] | null;
  /** Saves the just-enrolled fleet to the fleet cache (stops and restarts server 0 to get a consistent store). */
  saveToCache(devices: DeviceCredentials[]): Promise<void>;
  /** Stops the servers (SIGTERM), leaving broker and database for the store check. */
  stopServers(): Promise<void>;
  /** Stops everything else and removes the temp directory. */
  close(): Promise<void>;
}

export async function startLoadFleet(o: LoadOptions, log: (msg: string) => void): Promise<LoadFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-load-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    let store: LoadFleet['store'] = { sqlitePath: join(dir, 'fleet.db') };
    if (o.db === 'postgres') {
      const pg = await startTestPostgres({ durable: true });
      if ('skip' in pg) throw new Error(`--db postgres: ${pg.skip}`);
      cleanups.push(pg.stop);
      store = { url: pg.url };
    }
    const dbArgs = ['--db', 'url' in store ? store.url : store.sqlitePath];
    let broker: Mosquitto | undefined;
    let brokerArgs: string[] = [];
    if (o.broker === 'mosquitto') {
      const etc = join(dir, 'mosquitto');
      mkdirSync(etc);
      const passwordFile = join(etc, 'passwd');
      const aclFile = join(etc, 'acl');
      writeFileSync(passwordFile, '', { mode: 0o640 });
      writeFileSync(aclFile, '', { mode: 0o640 });
      broker = await startMosquitto(etc, { passwordFile, aclFile, usernameAsClientId: true });
      cleanups.push(() => broker!.stop());
      brokerArgs = [
        '--mqtt-url',
        broker.url,
        '--mqtt-password',
        SERVER_MQTT_PASSWORD,
        '--mosquitto-password-file',
        passwordFile,
        '--mosquitto-acl-file',
        aclFile,
        '--mosquitto-pid-file',
        broker.pidFile,
      ];
    }
    const extra = [...dbArgs, ...brokerArgs, '--log-level', 'warn'];
    const dataDirs = Array.from({ length: o.instances }, (_, i) => join(dir, `fleet-${i}`));
    const useCache = cacheApplies(o);
    if (o.fleetCache && !useCache) log('--fleet-cache ignored: it keeps one server on the embedded broker and SQLite');
    const cached = useCache ? cachedDevices(o.fleetCache!, o.devices) : null;
    if (cached) {
      restoreCache(o.fleetCache!, dir, 'fleet-0');
      log(`reusing ${o.devices} enrolled devices from ${o.fleetCache}`);
    }
    const servers: Array<Proc<ServerReady>> = [];
    cleanups.push(async () => {
      for (const s of servers) await s.kill('SIGKILL');
    });
    for (const d of dataDirs) {
      servers.push(await startServerProcess(d, extra));
      log(`server ${servers.length - 1} ready (pid ${servers.at(-1)!.child.pid}) at ${servers.at(-1)!.ready.httpUrl}`);
    }
    const ports = servers.map((s) => ({
      http: portOf(s.ready.httpUrl),
      ...(broker ? {} : { mqtt: portOf(s.ready.mqttUrl) }),
    }));
    return {
      mqttUrl: broker?.url ?? servers[0]!.ready.mqttUrl,
      api: servers[0]!.ready,
      servers,
      store,
      cached,
      async saveToCache(devices) {
        if (!useCache || cached) return;
        await servers[0]!.kill('SIGTERM');
        saveCache(o.fleetCache!, dir, 'fleet-0', devices);
        servers[0] = await startServerProcess(dataDirs[0]!, extra, ports[0]);
        log(`saved ${devices.length} enrolled devices to ${o.fleetCache}`);
      },
      async restart(i, signal) {
        const killedAt = Date.now();
        await servers[i]!.kill(signal);
        servers[i] = await startServerProcess(dataDirs[i]!, extra, ports[i]);
        return { killedAt, readyAt: Date.now() };
      },
      async stopServers() {
        // A server still working through a backlog may take long to stop; the store check
        // needs it gone, and a SIGKILL loses nothing that was acknowledged.
        for (const s of servers) {
          const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
          await s.kill('SIGTERM');
          clearTimeout(timer);
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
