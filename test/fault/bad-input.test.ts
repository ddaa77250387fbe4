/**
 * Acceptance: malformed MQTT payloads, unknown topics, invalid HTTP bodies and
 * non-image uploads get a clear error (HTTP 4xx with a reason, or a logged rejection), and
 * neither the fleet server nor the agent process crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { deviceTopic, MAX_PAYLOAD_BYTES } from '@edgeloop/protocol';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';

const DEVICE = 'fuzz-pi-1';

test('bad input is refused with reasons and both processes keep working', { timeout: 180_000 }, async (t) => {
  const tmp = tempDir('bad-input');
  const server = await startServerProcess(join(tmp.dir, 'fleet'), ['--log-level', 'debug']);
  const api = fleet(server.ready.httpUrl);
  const config = await writeAgentConfig(server.ready, tmp.dir, DEVICE, { sync: { flushIntervalMs: 20 } });
  const agent = await startAgentProcess(config);
  // Full broker access (the server's own user): this client plays a broken device and a broken server alike.
  const rogue = await mqtt.connectAsync(server.ready.mqttUrl, { clientId: 'rogue-client', ...server.ready.mqttAdmin });
  t.after(async () => {
    await rogue.endAsync(true); // forced: a publish the broker cut off would hold a graceful end forever
    await agent.kill('SIGKILL');
    await server.kill('SIGKILL');
    tmp.cleanup();
  });
  await waitFor('agent online', async () => (await api.devices()).find((d) => d.id === DEVICE));

  await t.test('agent HTTP API: 4xx with a reason for every kind of bad request', async () => {
    const url = agent.ready.apiUrl;
    const noModel = await postJson(`${url}/v1/predict`, greyTensor(0.5));
    assert.equal(noModel.status, 404);
    assert.match(String(noModel.body.error), /no model is active yet/);

    assert.equal(
      (
        await runCli(
          ['models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath],
          server.ready.httpUrl,
        )
      ).code,
      0,
    );
    assert.equal((await runCli(['deploy', 'distance@1', '--device', DEVICE], server.ready.httpUrl)).code, 0);
    await waitFor('v1 active', async () => (await api.device(DEVICE)).device.models.some((m) => m.version === 1));

    const cases: Array<{ name: string; init: RequestInit; path?: string; status: number; error: RegExp }> = [
      {
        name: 'invalid JSON',
        init: { headers: { 'content-type': 'application/json' }, body: '{"inputs": ' },
        status: 400,
        error: /not valid JSON/,
      },
      {
        name: 'wrong JSON shape',
        init: { headers: { 'content-type': 'application/json' }, body: '{"image": [1,2,3]}' },
        status: 400,
        error: /inputs/,
      },
      {
        name: 'wrong tensor shape',
        init: {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: { image: { shape: [1, 3, 10, 10], data: new Array(300).fill(0) } } }),
        },
        status: 422,
        error: /shape \[1, 3, 10, 10\]/,
      },
      {
        name: 'data/shape mismatch',
        init: {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: { image: { shape: [1, 3, 48, 64], data: [1, 2] } } }),
        },
        status: 422,
        error: /needs 9216 values, got 2/,
      },
      {
        name: 'unknown input',
        init: {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: { ...greyTensor(0.1).inputs, extra: { shape: [1], data: [1] } } }),
        },
        status: 422,
        error: /unknown input/,
      },
      {
        name: 'non-image upload labelled image/jpeg',
        init: { headers: { 'content-type': 'image/jpeg' }, body: 'this is plain text, not a JPEG' },
        status: 415,
        error: /not a decodable image/,
      },
      {
        name: 'truncated JPEG',
        init: {
          headers: { 'content-type': 'image/png' },
          body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
        },
        status: 415,
        error: /not a decodable image/,
      },
      {
        name: 'empty image',
        init: { headers: { 'content-type': 'image/jpeg' }, body: '' },
        status: 400,
        error: /empty/,
      },
      {
        name: 'unsupported content type',
        init: { headers: { 'content-type': 'text/plain' }, body: 'hello' },
        status: 415,
        error: /unsupported content-type/,
      },
      {
        name: 'unknown model',
        path: '/v1/models/nope/predict',
        init: { headers: { 'content-type': 'application/json' }, body: JSON.stringify(greyTensor(0.1)) },
        status: 404,
        error: /no active model named "nope"/,
      },
      {
        name: 'over-long request id',
        init: {
          headers: { 'content-type': 'application/json', 'x-request-id': 'x'.repeat(200) },
          body: JSON.stringify(greyTensor(0.1)),
        },
        status: 400,
        error: /x-request-id/,
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}${c.path ?? '/v1/predict'}`, { method: 'POST', ...c.init });
      const body = (await res.json()) as { error?: string };
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(body)}`);
      assert.match(body.error ?? '', c.error, c.name);
    }
    const notFound = await fetch(`${url}/v2/whatever`);
    assert.equal(notFound.status, 404);
  });

  await t.test('fleet server REST API: 4xx with a reason', async () => {
    const url = server.ready.httpUrl;
    const upload = async (fields: Record<string, string | Blob>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const res = await fetch(`${url}/api/v1/models`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.ready.adminToken}` },
        body: form,
      });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
    };
    const notOnnx = await upload({ file: new Blob(['definitely not a model']), name: 'distance' });
    assert.equal(notOnnx.status, 400);
    assert.match(notOnnx.error, /not an ONNX model/);
    assert.match((await upload({ file: new Blob([sample.v1]) })).error, /"name" is missing/);
    assert.match((await upload({ file: new Blob([sample.v1]), name: 'bad/name' })).error, /invalid model name/);
    const conflict = await upload({ file: new Blob([sample.v2]), name: 'distance', version: '1' });
    assert.equal(conflict.status, 409);
    assert.match(conflict.error, /not newer than the latest registered v1/);
    assert.match(
      (await upload({ file: new Blob([sample.v2]), name: 'distance', metadata: '{nope' })).error,
      /not valid JSON/,
    );
    assert.match(
      (
        await upload({
          file: new Blob([sample.v2]),
          name: 'distance',
          metadata: '{"preprocessing": {"kind": "image", "input": "pixels", "width": 64, "height": 48}}',
        })
      ).error,
      /preprocessing.input "pixels"/,
    );

    const deploy = async (body: string) => {
      const res = await fetch(`${url}/api/v1/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.ready.adminToken}` },
        body,
      });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
    };
    assert.equal((await deploy('not json')).status, 400);
    assert.match((await deploy('{"model": "distance", "version": 0, "devices": []}')).error, /version/);
    const ghost = await deploy('{"model": "distance", "version": 1, "devices": ["ghost"]}');
    assert.equal(ghost.status, 404);
    assert.match(ghost.error, /unknown device\(s\) ghost/);
    const noVersion = await deploy(JSON.stringify({ model: 'distance', version: 9, devices: [DEVICE] }));
    assert.equal(noVersion.status, 404);
    assert.match(noVersion.error, /has no v9/);
    const badQuery = await fetch(`${url}/api/v1/telemetry?limit=-5`, {
      headers: { authorization: `Bearer ${server.ready.adminToken}` },
    });
    assert.equal(badQuery.status, 400);
  });

  await t.test('MQTT: malformed payloads and unknown topics are rejected and logged', async () => {
    const sends: Array<[string, string | Buffer]> = [
      [deviceTopic(DEVICE, 'telemetry'), 'not json at all'],
      [deviceTopic(DEVICE, 'telemetry'), JSON.stringify({ v: 1, stream: 'sX', records: [{ seq: 'one' }], backlog: 0 })],
      // Over the message limit but under the broker's packet limit (which cuts larger ones off from
      // the fixed header, test/security/broker-packet-size.test.ts): the server's decoder refuses it.
      [deviceTopic(DEVICE, 'telemetry'), Buffer.alloc(MAX_PAYLOAD_BYTES + 16 * 1024, 0x20)],
      [deviceTopic('other-device', 'presence'), JSON.stringify({ v: 1, type: 'birth', deviceId: 'someone-else' })],
      [deviceTopic(DEVICE, 'update'), '{"v": 1, "state": "exploded"}'],
      ['edgeloop/v1/devices/fuzz-pi-1/firmware', 'x'],
      ['edgeloop/v1/whatever', 'x'],
      [deviceTopic(DEVICE, 'desired'), '{"v": 1, "models": "all of them"}'],
      [deviceTopic(DEVICE, 'ack'), '[1, 2, 3]'],
    ];
    for (const [topic, payload] of sends) await rogue.publishAsync(topic, payload, { qos: 1 });

    await waitFor('server rejections logged', () => {
      const logs = server.logs();
      return (
        [
          'rejected telemetry batch',
          'too-large',
          'rejected presence message',
          'rejected update report',
          'rejected message on unknown topic',
        ].every((m) => logs.includes(m)) || undefined
      );
    });
    assert.match(server.logs(), /records\.0\.seq/);
    await waitFor('agent rejections logged', () => {
      const logs = agent.logs();
      return logs.includes('refused desired state') && logs.includes('rejected malformed ack') ? true : undefined;
    });
  });

  await t.test('both processes still serve: a new prediction reaches the server', async () => {
    assert.equal(agent.child.exitCode, null);
    assert.equal(server.child.exitCode, null);
    const res = await postJson(`${agent.ready.apiUrl}/v1/predict`, greyTensor(0.3, 'still-alive'));
    assert.equal(res.status, 200);
    await waitFor('record synced', async () =>
      (await api.telemetry(DEVICE)).find((r) => r.requestId === 'still-alive'),
    );
    const device = (await api.device(DEVICE)).device;
    assert.ok(device.online);
    assert.equal(device.models[0]?.version, 1, 'a malformed desired state did not remove the model');
  });
});
