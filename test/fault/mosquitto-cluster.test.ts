/**
 * Two fleet servers on one real Mosquitto (password and ACL files written by EdgeLoop) and one
 * PostgreSQL: only the leader writes the files, yet what happens on the other server reaches
 * Mosquitto within seconds. A device enrolled through the follower can log in; disabling it
 * through the follower closes its live session; when the leader is killed, the follower takes
 * over the files and a device enrolled after that can log in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthResponse } from '@edgeloop/protocol';
import { tempDir, waitFor } from '../support/fixtures.js';
import { closed, connectOnce, startMosquitto, which } from '../support/mosquitto.js';
import { adminJson, enrollDevice, startServerProcess, type Proc, type ServerReady } from '../support/processes.js';
import { getJson } from '../support/fleet-client.js';
import { freshDatabase, storeSkip } from '../support/stores.js';

const SERVER_PASSWORD = 'cluster-server-password-0123456789';

const mosquittoMissing = (await which('mosquitto'))
  ? false
  : '*** mosquitto NOT INSTALLED: skipping the Mosquitto cluster test (apt-get install mosquitto) ***';
if (mosquittoMissing) console.warn(mosquittoMissing);

const health = (server: Proc<ServerReady>) => getJson<HealthResponse>(`${server.ready.httpUrl}/api/v1/health`);

test(
  'two fleet servers, one Mosquitto: the leader writes the files for changes made on either, and the other takes over when it dies',
  { timeout: 180_000, skip: mosquittoMissing || (await storeSkip('postgres')) },
  async (t) => {
    const tmp = tempDir('mosquitto-cluster');
    const etc = join(tmp.dir, 'mosquitto');
    mkdirSync(etc);
    const passwordFile = join(etc, 'passwd');
    const aclFile = join(etc, 'acl');
    writeFileSync(passwordFile, '', { mode: 0o640 });
    writeFileSync(aclFile, '', { mode: 0o640 });
    const broker = await startMosquitto(etc, { passwordFile, aclFile, usernameAsClientId: true });
    const db = (await freshDatabase('postgres'))!;
    const cleanups: Array<() => Promise<unknown>> = [() => broker.stop(), () => db.drop()];
    t.after(async () => {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
      tmp.cleanup();
    });
    const args = (id: string) => [
      ...['--db', db.url, '--shared-dir', join(tmp.dir, 'shared'), '--instance-id', id],
      ...['--mqtt-url', broker.url, '--mqtt-password', SERVER_PASSWORD],
      ...['--mosquitto-password-file', passwordFile, '--mosquitto-acl-file', aclFile],
      ...['--mosquitto-pid-file', broker.pidFile],
    ];
    // Started together on a broker that knows nobody yet: one of them writes the server's user first.
    const servers = await Promise.all(
      ['fleet-a', 'fleet-b'].map((id) => startServerProcess(join(tmp.dir, id), args(id))),
    );
    for (const s of servers) cleanups.push(() => s.kill('SIGKILL'));
    const roles = await Promise.all(servers.map(health));
    assert.deepEqual(roles.map((h) => h.mosquitto?.writer).sort(), [false, true], 'one writer');
    const leader = servers[roles.findIndex((h) => h.cluster?.leader)]!;
    const follower = servers[roles.findIndex((h) => !h.cluster?.leader)]!;
    assert.equal((await health(leader)).mosquitto?.writer, true, 'the writer is the leader');

    const loginWithin = async (what: string, auth: { username: string; password: string }) => {
      const started = Date.now();
      const client = await waitFor(
        what,
        async () => {
          const o = await connectOnce(broker.url, { ...auth, clientId: auth.username });
          return o.ok ? o.client : undefined;
        },
        15_000,
        50,
      );
      t.diagnostic(`${what}: ${Date.now() - started} ms`);
      return client;
    };

    // Enrolled through the follower: its hash is in the store, the leader's poll puts it in the file.
    const alice = await enrollDevice(follower.ready, 'mq-alice');
    const session = await loginWithin('device enrolled on the follower logs in', alice);
    assert.ok(!readFileSync(passwordFile, 'utf8').includes(alice.password), 'no plaintext in the file');

    // Disabled through the follower: the leader rewrites, reloads, and Mosquitto drops the session.
    let gone = false;
    void closed(session).then(() => (gone = true));
    await adminJson(follower.ready, 'POST', '/api/v1/devices/mq-alice/disable');
    await waitFor('the live session of the disabled device closed', () => gone, 15_000);
    const refused = await connectOnce(broker.url, { ...alice, clientId: alice.username });
    assert.equal(refused.ok, false, 'a disabled device cannot log in again');

    // The leader dies: the follower takes the lease and with it the files.
    await leader.kill('SIGKILL');
    await waitFor(
      'the follower leads and writes',
      async () => (await health(follower)).mosquitto?.writer || undefined,
      30_000,
    );
    const bob = await enrollDevice(follower.ready, 'mq-bob');
    const bobSession = await loginWithin('device enrolled after the failover logs in', bob);
    bobSession.end(true);
    const status = (await health(follower)).mosquitto!;
    assert.equal(status.lastError, null);
    assert.deepEqual([status.devices, status.enabled], [2, 1]);
  },
);
