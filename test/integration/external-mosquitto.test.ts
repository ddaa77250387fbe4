/**
 * Acceptance (external broker mode): the fleet server runs as an ordinary client of a
 * real Mosquitto (started here on a free port with password_file, acl_file and
 * use_username_as_clientid, as docs/external-broker.md sets it up) and keeps its password and ACL
 * files in step with enrollment. Fleet server and agent are separate processes started through
 * their CLIs with the documented flags.
 *
 *   - a device enrolled through the API gets in; its agent works end to end (deploy → active,
 *     predictions stored at the server);
 *   - another enrolled device cannot inject telemetry under the first one's id, nor read its
 *     assignments; a wrong password is refused;
 *   - disabling the device closes its session and keeps it out; enabling lets it back in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceTopic } from '@edgeloop/protocol';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { collect, connectOnce, connectOrThrow, startMosquitto, which } from '../support/mosquitto.js';
import {
  adminJson,
  enrollDevice,
  startAgentProcess,
  startServerProcess,
  writeAgentConfig,
} from '../support/processes.js';

const SERVER_PASSWORD = 'fleet-server-mqtt-password-0123456789';

test(
  'external Mosquitto: enrolled devices work end to end and stay isolated; disabled ones are shut out',
  { timeout: 180_000 },
  async (t) => {
    if (!(await which('mosquitto'))) {
      const msg = '*** mosquitto NOT INSTALLED: skipping the external-broker test (apt-get install mosquitto) ***';
      console.warn(msg);
      t.skip(msg);
      return;
    }
    const tmp = tempDir('external-mosquitto');
    const etc = join(tmp.dir, 'mosquitto');
    mkdirSync(etc);
    // As the docs say: create both files (empty) before Mosquitto first starts; the server fills them.
    const passwordFile = join(etc, 'passwd');
    const aclFile = join(etc, 'acl');
    writeFileSync(passwordFile, '', { mode: 0o640 });
    writeFileSync(aclFile, '', { mode: 0o640 });
    const broker = await startMosquitto(etc, { passwordFile, aclFile, usernameAsClientId: true });
    const dataDir = join(tmp.dir, 'fleet');
    const server = await startServerProcess(dataDir, [
      '--mqtt-url',
      broker.url,
      '--mqtt-password',
      SERVER_PASSWORD,
      '--mosquitto-password-file',
      passwordFile,
      '--mosquitto-acl-file',
      aclFile,
      '--mosquitto-pid-file',
      broker.pidFile,
    ]);
    const stops: Array<() => Promise<unknown>> = [() => server.kill('SIGKILL'), () => broker.stop()];
    t.after(async () => {
      for (const stop of stops.reverse()) await stop();
      tmp.cleanup();
    });

    const http = server.ready.httpUrl;
    const call = <T>(method: string, path: string, body?: unknown) =>
      adminJson<T>(server.ready, method, `/api/v1${path}`, body);
    // Enrollment through the API (an admin makes a token, the device trades it for credentials).
    const alice = await enrollDevice(server.ready, 'ext-alice');
    const bob = await enrollDevice(server.ready, 'ext-bob');
    assert.equal(alice.mqttUrl, broker.url, 'devices are sent to the external broker');
    const passwd = readFileSync(passwordFile, 'utf8');
    assert.match(passwd, /^ext-alice:\$7\$/m);
    assert.ok(!passwd.includes(alice.password), 'the plaintext password is not in the password file');

    // Alice's agent: enrolled credentials in its config; deploy → active; a prediction reaches the server.
    const config = await writeAgentConfig(server.ready, tmp.dir, 'ext-alice', {
      sync: { flushIntervalMs: 20 },
      fleet: { mqttUrl: alice.mqttUrl, username: alice.username, password: alice.password },
    });
    const agent = await startAgentProcess(config);
    stops.push(() => agent.kill('SIGKILL'));
    await waitFor(
      'alice online at the server',
      async () => (await call<{ device: { online: boolean } }>('GET', '/devices/ext-alice')).device.online || undefined,
      30_000,
    );

    const form = new FormData();
    form.set('file', new Blob([sample.v1]), 'distance-v1.onnx');
    form.set('name', 'distance');
    form.set('metadata', JSON.stringify(sample.metadata));
    const push = await fetch(`${http}/api/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.ready.adminToken}` },
      body: form,
    });
    assert.equal(push.status, 201, await push.clone().text());
    await call('POST', '/deployments', { model: 'distance', version: 1, devices: ['ext-alice'] });
    await waitFor(
      'distance v1 active on alice',
      async () => {
        const d = await call<{
          device: {
            models: Array<{ name: string; version: number }>;
            assignments: Array<{ state: string; reason: string | null }>;
          };
        }>('GET', '/devices/ext-alice');
        const failed = d.device.assignments.find((a) => a.state === 'failed' || a.state === 'rejected');
        if (failed) throw new Error(`update ${failed.state}: ${failed.reason}`);
        return d.device.models.some((m) => m.name === 'distance' && m.version === 1) || undefined;
      },
      60_000,
    );
    const predicted = await postJson(`${agent.ready.apiUrl}/v1/predict`, greyTensor(0.5, 'via-mosquitto'));
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    const aliceRecords = async () =>
      (await call<{ records: Array<{ requestId: string | null }> }>('GET', '/telemetry?device=ext-alice&limit=1000'))
        .records;
    await waitFor(
      'the prediction stored at the server',
      async () => (await aliceRecords()).some((r) => r.requestId === 'via-mosquitto') || undefined,
    );

    // Bob, with his own valid credentials, forges a telemetry batch under Alice's id. Mosquitto
    // drops it; Bob's own batch right after it on the same connection is answered, so the forged
    // one would have been processed by then.
    const bobClient = await connectOrThrow(broker.url, {
      username: bob.username,
      password: bob.password,
      clientId: 'ext-bob',
    });
    stops.push(async () => bobClient.end(true));
    const bobGot = collect(bobClient);
    await bobClient.subscribeAsync(
      [
        deviceTopic('ext-bob', 'ack'),
        deviceTopic('ext-alice', 'desired'),
        deviceTopic('ext-alice', 'ack'),
        'edgeloop/v1/#',
      ],
      { qos: 1 },
    );
    const batch = (requestId: string) =>
      JSON.stringify({
        v: 1,
        stream: 'forged-stream',
        backlog: 0,
        records: [
          {
            seq: 1,
            ts: Date.now(),
            model: 'distance',
            version: 1,
            requestId,
            output: [1],
            prediction: 1,
            latencyMs: 1,
            features: {},
          },
        ],
      });
    await bobClient.publishAsync(deviceTopic('ext-alice', 'telemetry'), batch('forged-by-bob'), { qos: 1 });
    await bobClient.publishAsync(deviceTopic('ext-bob', 'telemetry'), batch('bob-own'), { qos: 1 });
    await waitFor(
      "the server answering bob's own batch",
      () => bobGot.some((m) => m.topic === deviceTopic('ext-bob', 'ack')) || undefined,
    );
    assert.ok(
      !(await aliceRecords()).some((r) => r.requestId === 'forged-by-bob'),
      'the forged batch never reached the server',
    );

    // Bob cannot read Alice's retained assignment (it exists: she runs v1) or her acks, even with '#'.
    assert.deepEqual(
      bobGot.filter((m) => m.topic.includes('/ext-alice/')).map((m) => m.topic),
      [],
      "bob received nothing of alice's",
    );

    // Wrong password, and Alice's password under Bob's name, are refused.
    for (const [username, password] of [
      ['ext-alice', `${alice.password}x`],
      ['ext-bob', alice.password],
    ] as const) {
      const o = await connectOnce(broker.url, { username, password, clientId: username });
      assert.equal(o.ok, false, `${username} with a wrong password must be refused`);
    }

    // Disable Alice: Mosquitto reloads, her live session closes, her agent cannot get back in.
    await call('POST', '/devices/ext-alice/disable');
    await waitFor(
      'alice offline at the server',
      async () =>
        !(await call<{ device: { online: boolean } }>('GET', '/devices/ext-alice')).device.online || undefined,
      30_000,
    );
    const refused = await connectOnce(broker.url, {
      username: alice.username,
      password: alice.password,
      clientId: 'ext-alice',
    });
    assert.equal(refused.ok, false, 'a disabled device cannot log in');
    assert.ok(!readFileSync(passwordFile, 'utf8').includes('ext-alice:'), 'and is not in the password file');

    // Enable her again: the same credential works, the agent reconnects by itself.
    await call('POST', '/devices/ext-alice/enable');
    await waitFor(
      'alice back online',
      async () => (await call<{ device: { online: boolean } }>('GET', '/devices/ext-alice')).device.online || undefined,
      30_000,
    );
  },
);

test(
  'edgeloop serve refuses an incomplete Mosquitto setup and says what is missing',
  { timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('external-mosquitto-flags');
    t.after(() => tmp.cleanup());
    const attempt = (args: string[]) =>
      startServerProcess(join(tmp.dir, 'fleet'), args).then(
        async (p) => {
          await p.kill('SIGKILL');
          return 'started';
        },
        (err: Error) => err.message,
      );
    assert.match(
      await attempt([
        '--mosquitto-password-file',
        join(tmp.dir, 'passwd'),
        '--mosquitto-acl-file',
        join(tmp.dir, 'acl'),
      ]),
      /--mosquitto-\* flags need --mqtt-url/,
    );
    assert.match(
      await attempt([
        '--mqtt-url',
        'mqtt://127.0.0.1:1',
        '--mqtt-password',
        'x',
        '--mosquitto-password-file',
        join(tmp.dir, 'passwd'),
      ]),
      /give both --mosquitto-password-file and --mosquitto-acl-file/,
    );
    assert.match(
      await attempt([
        '--mqtt-url',
        'mqtt://127.0.0.1:1',
        '--mosquitto-password-file',
        join(tmp.dir, 'passwd'),
        '--mosquitto-acl-file',
        join(tmp.dir, 'acl'),
      ]),
      /needs the fleet server's own MQTT password: set mqtt.password \(--mqtt-password\)/,
    );
  },
);
