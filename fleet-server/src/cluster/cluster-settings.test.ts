import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFleetConfig, type FleetConfigInput } from '../config.js';
import { checkClusterSettings, instanceIdOf } from './cluster-settings.js';

const pg = { url: 'postgres://fleet@db/fleet' };
const external = { mode: 'external' as const, url: 'mqtt://broker:1883' };
const check = (input: Omit<FleetConfigInput, 'dataDir'>, location: { url: string } | { sqlitePath: string } = pg) =>
  checkClusterSettings(parseFleetConfig({ dataDir: '/var/lib/edgeloop', ...input }), location);

test('a cluster needs PostgreSQL, an external broker with shared subscriptions; Mosquitto files every instance reaches and reloads', () => {
  const cluster = { sharedDir: '/mnt/edgeloop' };
  assert.doesNotThrow(() => check({ cluster, mqtt: external }));
  assert.throws(
    () => check({ cluster, mqtt: external }, { sqlitePath: '/x/fleet.db' }),
    /SQLite file, which one process owns/,
  );
  assert.throws(() => check({ cluster }), /embedded one, which lives inside one process/);
  assert.throws(
    () => check({ cluster, mqtt: { ...external, sharedSubscriptions: false } }),
    /every instance would ingest/,
  );
  // Mosquitto's files: the leader writes them, so every instance must reach them and reload it.
  const mosquitto = (files: Record<string, unknown>) =>
    check({ cluster, mqtt: { ...external, password: 'p'.repeat(20), mosquitto: files as never } });
  const files = { passwordFile: '/etc/m/passwd', aclFile: '/etc/m/acl' };
  assert.doesNotThrow(() => mosquitto({ ...files, reload: { pidFile: '/run/mosquitto.pid' } }));
  assert.doesNotThrow(() => mosquitto({ ...files, reload: { command: 'systemctl reload mosquitto' } }));
  assert.throws(() => mosquitto(files), /no reload setting/);
  assert.throws(
    () => mosquitto({ ...files, aclFile: 'acl', reload: { pidFile: '/run/mosquitto.pid' } }),
    /acl are relative paths/,
  );
});

test('blobs in PostgreSQL need a PostgreSQL store', () => {
  assert.doesNotThrow(() => check({ cluster: { blobs: 'postgres' } }));
  assert.throws(
    () => check({ cluster: { blobs: 'postgres' } }, { sqlitePath: '/x/fleet.db' }),
    /keep artifacts in a folder/,
  );
  assert.throws(() => parseFleetConfig({ dataDir: '/d', cluster: { blobs: 's3' } }), /blobs/);
});

test('one server keeps working as before: no shared folder, any store and broker', () => {
  assert.doesNotThrow(() => check({}, { sqlitePath: '/x/fleet.db' }));
  assert.doesNotThrow(() => check({ mqtt: external }));
});

test('shared-subscription group and instance names are checked', () => {
  assert.throws(() => parseFleetConfig({ dataDir: '/d', mqtt: { ...external, shareGroup: 'a/b' } }), /shareGroup/);
  assert.throws(() => parseFleetConfig({ dataDir: '/d', cluster: { instanceId: 'a b' } }), /instanceId/);
  assert.equal(instanceIdOf(parseFleetConfig({ dataDir: '/d', cluster: { instanceId: 'fleet-1' } })), 'fleet-1');
  assert.match(instanceIdOf(parseFleetConfig({ dataDir: '/d' })), /^[A-Za-z0-9._-]+-\d+$/);
});
