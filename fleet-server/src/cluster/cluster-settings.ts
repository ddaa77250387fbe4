/**
 * @module cluster/cluster-settings
 * What running several fleet servers side by side requires, checked before anything is opened:
 * one PostgreSQL database and one external broker (with shared subscriptions), and the keys and
 * artifacts in a folder every instance reaches. SQLite and the embedded broker belong to one
 * process; a configuration that cannot work is refused with the reason. Mosquitto's password and
 * ACL files are written by the leader (broker/mosquitto-sync.ts), so every instance must reach
 * them and be able to make Mosquitto reload.
 */
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import type { FleetConfig } from '../config.js';
import type { FleetStoreLocation } from '../store/fleet-store.js';

export const INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** This server's name in logs, /health and pg_stat_activity: configured, else host and pid. */
export function instanceIdOf(config: FleetConfig): string {
  return config.cluster.instanceId ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

/** Throws with what to change when the settings ask for a cluster that cannot work. */
export function checkClusterSettings(config: FleetConfig, location: FleetStoreLocation): void {
  if (config.cluster.blobs === 'postgres' && !('url' in location))
    throw new Error(
      'cluster.blobs is "postgres" but the fleet store is a SQLite file: keep artifacts in a folder, or give a postgres:// URL (--db)',
    );
  if (config.cluster.sharedDir === undefined) return;
  const why = (what: string) =>
    new Error(`cluster.sharedDir is set (several fleet servers), but ${what}; see docs/cluster.md`);
  if (!('url' in location))
    throw why(
      'the fleet store is a SQLite file, which one process owns: give every instance the same postgres:// URL (--db)',
    );
  if (config.mqtt.mode !== 'external')
    throw why(
      'the broker is the embedded one, which lives inside one process: point every instance at the same broker (--mqtt-url)',
    );
  if (!config.mqtt.sharedSubscriptions)
    throw why('mqtt.sharedSubscriptions is off: every instance would ingest, acknowledge and answer every message');
  const files = config.mqtt.mosquitto;
  if (files) {
    // Any instance may become the leader, which writes the files and signals Mosquitto: each
    // must reach the same files (same host or a shared folder) and be able to make it reload.
    const relative = [files.passwordFile, files.aclFile].filter((f) => !isAbsolute(f));
    if (relative.length)
      throw why(
        `the Mosquitto files ${relative.join(', ')} are relative paths, which each instance resolves in its own working directory: give absolute paths every instance reaches`,
      );
    if (!files.reload)
      throw why(
        'the Mosquitto files have no reload setting: whichever instance leads must make Mosquitto reload them (--mosquitto-pid-file or --mosquitto-reload-command)',
      );
  }
}
