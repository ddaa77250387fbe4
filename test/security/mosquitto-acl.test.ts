/**
 * Security (external broker): the password and ACL files the fleet server writes give a
 * real Mosquitto the same per-device isolation as the embedded broker. Mosquitto runs on a free
 * port with exactly the files MosquittoSync generates (from a real SQLite store, credentials issued
 * by the identity service); each attack below fails if the protection
 * is removed (wrong hash format, a missing `pattern` line, `%u` replaced by `+`, no reload, no
 * `use_username_as_clientid`).
 *
 * "Nothing arrived" is shown without waiting: after the forbidden message the same client sends
 * an allowed one on the same connection; MQTT delivers one client's messages in order, so when
 * the allowed one is in, the forbidden one would be too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { deviceTopic } from '@edgeloop/protocol';
import { hashMosquittoPassword, IdentityService, MosquittoSync, openFleetStore } from '@edgeloop/fleet-server/testing';
import { tempDir, waitFor } from '../support/fixtures.js';
import { closed, collect, connectOnce, connectOrThrow, startMosquitto, which } from '../support/mosquitto.js';

const SERVER = { username: 'edgeloop-server', password: 'server-password-0123456789' };
const DEVICES = ['pi-alice', 'pi-bob'] as const;
type Device = (typeof DEVICES)[number];

async function setup(t: { after(fn: () => Promise<void>): void; skip(msg: string): void }) {
  if (!(await which('mosquitto'))) {
    const msg = '*** mosquitto NOT INSTALLED: skipping the Mosquitto ACL tests (apt-get install mosquitto) ***';
    console.warn(msg);
    t.skip(msg);
    return undefined;
  }
  const tmp = tempDir('mosquitto-acl');
  const passwordFile = join(tmp.dir, 'passwd');
  const aclFile = join(tmp.dir, 'acl');
  const pidFile = join(tmp.dir, 'mosquitto.pid');
  // The files exist before Mosquitto starts, as an operator would set it up.
  const closedSessions: string[] = [];
  const store = await openFleetStore({ sqlitePath: join(tmp.dir, 'fleet.db') });
  const identity = new IdentityService(store, () => ({ mqttUrl: '', httpUrl: '', trustedKeys: [] }), {
    brokerPasswordHash: (pw) => hashMosquittoPassword(pw),
  });
  const sync = new MosquittoSync(
    { passwordFile, aclFile, reload: { pidFile }, fileMode: 0o640 },
    SERVER,
    store,
    pino({ level: 'silent' }),
    { onSessionClosed: (id) => closedSessions.push(id) },
  );
  sync.attach(identity);
  await sync.start();
  const passwords = {} as Record<Device, string>;
  for (const id of DEVICES) passwords[id] = await identity.issueCredential(id);
  const broker = await startMosquitto(tmp.dir, { passwordFile, aclFile, usernameAsClientId: true });
  const clients: Array<{ end(force?: boolean): unknown }> = [];
  t.after(async () => {
    for (const c of clients) c.end(true);
    await sync.stop();
    await store.close();
    await broker.stop();
    tmp.cleanup();
  });
  const as = async (username: Device | 'edgeloop-server') => {
    const c = await connectOrThrow(broker.url, {
      username,
      password: username === 'edgeloop-server' ? SERVER.password : passwords[username],
      clientId: username,
    });
    clients.push(c);
    return c;
  };
  return { broker, sync, identity, passwords, as, clients, closedSessions, logs: () => broker.logs() };
}

test(
  'Mosquitto accepts the $7$ hashes we write and refuses wrong, unknown and anonymous logins',
  { timeout: 60_000 },
  async (t) => {
    const h = await setup(t);
    if (!h) return;
    const server = await h.as('edgeloop-server');
    const alice = await h.as('pi-alice');
    assert.ok(server.connected && alice.connected);
    for (const [what, opts] of [
      ['wrong password', { username: 'pi-alice', password: 'alice-password-0123456789abcdeX' }],
      ["another device's password", { username: 'pi-alice', password: h.passwords['pi-bob'] }],
      ['unknown user', { username: 'pi-mallory', password: 'whatever-0123456789' }],
      ['no credentials', {}],
    ] as const) {
      const outcome = await connectOnce(h.broker.url, opts);
      assert.equal(outcome.ok, false, `${what} must be refused`);
      assert.match(outcome.ok ? '' : outcome.reason, /not authori[sz]ed|bad user name or password/i, what);
    }
  },
);

test(
  "a device cannot publish on another device's topics: Mosquitto drops it before the server sees it",
  { timeout: 60_000 },
  async (t) => {
    const h = await setup(t);
    if (!h) return;
    const server = await h.as('edgeloop-server');
    const seen = collect(server);
    await server.subscribeAsync('edgeloop/v1/#', { qos: 1 });
    const bob = await h.as('pi-bob');
    // Bob forges Alice's telemetry, presence and update report, and writes to her desired state.
    for (const channel of ['telemetry', 'presence', 'update', 'desired', 'ack'] as const) {
      await bob.publishAsync(deviceTopic('pi-alice', channel), `forged by bob on ${channel}`, { qos: 1 });
    }
    // ... and to a topic outside the device tree, and one of its own subscribe-only channels.
    await bob.publishAsync('edgeloop/v1/fleet/broadcast', 'forged', { qos: 1 });
    await bob.publishAsync(deviceTopic('pi-bob', 'desired'), 'forged desired for itself', { qos: 1 });
    await bob.publishAsync(deviceTopic('pi-bob', 'telemetry'), 'sentinel', { qos: 1 });
    await waitFor("bob's own telemetry at the server", () => seen.some((m) => m.payload === 'sentinel'));
    assert.deepEqual(
      seen.map((m) => m.topic),
      [deviceTopic('pi-bob', 'telemetry')],
      'only the allowed message arrived',
    );
  },
);

test("a device cannot read another device's assignments, not even with wildcards", { timeout: 60_000 }, async (t) => {
  const h = await setup(t);
  if (!h) return;
  const server = await h.as('edgeloop-server');
  // Alice's assignment is retained, as the server publishes it.
  await server.publishAsync(deviceTopic('pi-alice', 'desired'), 'alice assignment', { qos: 1, retain: true });
  const bob = await h.as('pi-bob');
  const got = collect(bob);
  await bob.subscribeAsync(
    [
      deviceTopic('pi-alice', 'desired'),
      deviceTopic('pi-alice', 'ack'),
      'edgeloop/v1/devices/+/desired',
      'edgeloop/v1/#',
      '#',
    ],
    { qos: 1 },
  );
  await server.publishAsync(deviceTopic('pi-alice', 'desired'), 'alice assignment 2', { qos: 1, retain: true });
  await server.publishAsync(deviceTopic('pi-alice', 'ack'), 'alice ack', { qos: 1 });
  await server.publishAsync(deviceTopic('pi-bob', 'desired'), 'bob assignment', { qos: 1, retain: true });
  await waitFor("bob's own assignment", () => got.some((m) => m.payload === 'bob assignment'));
  assert.deepEqual([...new Set(got.map((m) => m.payload))], ['bob assignment'], 'bob saw only his own assignment');

  // Alice, subscribing the same way, does get hers: the rules isolate, they do not just deny.
  const alice = await h.as('pi-alice');
  const aliceGot = collect(alice);
  await alice.subscribeAsync(deviceTopic('pi-alice', 'desired'), { qos: 1 });
  await waitFor("alice's retained assignment", () => aliceGot.some((m) => m.payload === 'alice assignment 2'));
});

test("a device cannot take over another device's session by reusing its client id", { timeout: 60_000 }, async (t) => {
  const h = await setup(t);
  if (!h) return;
  const server = await h.as('edgeloop-server');
  const alice = await h.as('pi-alice');
  const aliceGot = collect(alice);
  await alice.subscribeAsync(deviceTopic('pi-alice', 'ack'), { qos: 1 });
  // Bob connects claiming Alice's client id (the agent uses its device id as client id).
  const bob = await connectOrThrow(h.broker.url, {
    username: 'pi-bob',
    password: h.passwords['pi-bob'],
    clientId: 'pi-alice',
  });
  h.clients.push(bob);
  await server.publishAsync(deviceTopic('pi-alice', 'ack'), 'still alice', { qos: 1 });
  await waitFor('alice still connected and receiving', () => aliceGot.some((m) => m.payload === 'still alice'));
  assert.ok(alice.connected, 'alice was not kicked');
});

test(
  'disabling a device closes its live session on reload and it cannot log in again; enabling restores it',
  { timeout: 60_000 },
  async (t) => {
    const h = await setup(t);
    if (!h) return;
    const alice = await h.as('pi-alice');
    const bob = await h.as('pi-bob');
    await h.identity.setDisabled('pi-alice', true);
    await closed(alice);
    const again = await connectOnce(h.broker.url, {
      username: 'pi-alice',
      password: h.passwords['pi-alice'],
      clientId: 'pi-alice',
    });
    assert.equal(again.ok, false, 'a disabled device is refused');
    assert.ok(bob.connected, 'the other device is untouched');

    await h.identity.setDisabled('pi-alice', false);
    const back = await waitFor('alice accepted again', async () => {
      const o = await connectOnce(h.broker.url, {
        username: 'pi-alice',
        password: h.passwords['pi-alice'],
        clientId: 'pi-alice',
      });
      if (o.ok) h.clients.push(o.client);
      return o.ok || undefined;
    });
    assert.equal(back, true);

    await h.identity.revokeCredential('pi-bob');
    await closed(bob);
    assert.equal(
      (await connectOnce(h.broker.url, { username: 'pi-bob', password: h.passwords['pi-bob'], clientId: 'pi-bob' })).ok,
      false,
      'a revoked credential is refused',
    );
    assert.equal(h.sync.status().lastError, null);
    // The server is told which sessions ended (Mosquitto sends no last will for them).
    assert.deepEqual(h.closedSessions, ['pi-alice', 'pi-bob']);
  },
);

test(
  're-issuing a credential (re-enrollment) closes the session opened with the old password',
  { timeout: 60_000 },
  async (t) => {
    const h = await setup(t);
    if (!h) return;
    const alice = await h.as('pi-alice');
    const rotated = await h.identity.issueCredential('pi-alice');
    await closed(alice);
    assert.equal(
      (
        await connectOnce(h.broker.url, {
          username: 'pi-alice',
          password: h.passwords['pi-alice'],
          clientId: 'pi-alice',
        })
      ).ok,
      false,
      'the old password is refused',
    );
    const fresh = await connectOnce(h.broker.url, {
      username: 'pi-alice',
      password: rotated,
      clientId: 'pi-alice',
    });
    assert.ok(fresh.ok, 'the new password works');
    if (fresh.ok) h.clients.push(fresh.client);
    assert.deepEqual(h.closedSessions, ['pi-alice']);
  },
);
