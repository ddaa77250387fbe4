/**
 * Acceptance: fleet server and agent as separate processes. Push v1, deploy, predict,
 * records synced with the right version; v2 replaces it; a v3 with a flipped byte, an unsigned
 * desired state (with a manifest signed by another key), and a replayed older desired state are
 * refused with reasons, and v2 keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { buildReferenceModel } from '@edgeloop/models';
import {
  MANIFEST_SCHEMA,
  deviceTopic,
  encodeMessage,
  generateKeyPair,
  sha256Hex,
  signManifest,
} from '@edgeloop/protocol';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { wallFrame } from '../support/wall-frame.js';
import { runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';

const DEVICE = 'itest-pi-1';

test(
  'push, deploy, predict, sync, upgrade, and refuse bad updates across processes',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('lifecycle');
    const server = await startServerProcess(join(tmp.dir, 'fleet'));
    const api = fleet(server.ready.httpUrl);
    const config = await writeAgentConfig(server.ready, tmp.dir, DEVICE, {
      sync: { flushIntervalMs: 20 },
      log: { level: 'debug' },
    });
    const agent = await startAgentProcess(config);
    // The server's own broker user: the spy replays desired states as only the fleet server may.
    const spy = await mqtt.connectAsync(server.ready.mqttUrl, {
      clientId: 'itest-observer',
      ...server.ready.mqttAdmin,
    });
    t.after(async () => {
      await spy.endAsync();
      await agent.kill('SIGKILL');
      await server.kill('SIGKILL');
      tmp.cleanup();
    });

    await waitFor('the agent to announce itself', async () =>
      (await api.devices()).find((d) => d.id === DEVICE && d.online),
    );

    const push = (file: string, extra: string[] = []) =>
      runCli(
        ['models', 'push', file, '--name', 'distance', '--meta', sample.metadataPath, ...extra],
        server.ready.httpUrl,
      );
    const deploy = (version: number) =>
      runCli(['deploy', `distance@${version}`, '--device', DEVICE], server.ready.httpUrl);
    const runningVersion = async () =>
      (await api.device(DEVICE)).device.models.find((m) => m.name === 'distance')?.version;
    const predictVersion = async (requestId: string) => {
      const res = await postJson(`${agent.ready.apiUrl}/v1/predict`, greyTensor(0.5, requestId));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.version as number;
    };

    // v1: push, deploy, activate, predict (JPEG and JSON), synced with version 1.
    const pushed1 = await push(sample.v1Path);
    assert.equal(pushed1.code, 0, pushed1.stderr);
    assert.match(pushed1.stdout, /registered distance v1/);
    assert.equal((await deploy(1)).code, 0);
    await waitFor('v1 active', async () => (await runningVersion()) === 1);

    const v1Desired = await new Promise<Buffer>((resolve) => {
      spy.on('message', (topic, payload) => {
        if (topic === deviceTopic(DEVICE, 'desired')) resolve(payload);
      });
      void spy.subscribeAsync(deviceTopic(DEVICE, 'desired'), { qos: 1 });
    });

    const img = await wallFrame(150);
    const imgRes = await fetch(`${agent.ready.apiUrl}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'x-request-id': 'img-1' },
      body: new Uint8Array(img),
    });
    const imgBody = (await imgRes.json()) as { version: number; prediction: number; record: { seq: number } };
    assert.equal(imgRes.status, 200);
    assert.equal(imgBody.version, 1);
    assert.ok(
      Math.abs(imgBody.prediction - 150) < 25,
      `a frame 150 mm from the wall, predicted ${imgBody.prediction} mm`,
    );
    assert.equal(await predictVersion('json-1'), 1);

    const v1Records = await waitFor('v1 records at the server', async () => {
      const recs = await api.telemetry(DEVICE);
      return recs.filter((r) => r.requestId === 'img-1' || r.requestId === 'json-1').length === 2 ? recs : undefined;
    });
    assert.ok(v1Records.every((r) => r.version === 1 && r.model === 'distance'));
    assert.equal(v1Records.find((r) => r.requestId === 'img-1')?.prediction?.toFixed(3), imgBody.prediction.toFixed(3));

    // v2 replaces v1.
    assert.equal((await push(sample.v2Path)).code, 0);
    assert.equal((await deploy(2)).code, 0);
    await waitFor('v2 active', async () => (await runningVersion()) === 2);
    assert.equal(await predictVersion('json-2'), 2);
    await waitFor('v2 record at the server', async () =>
      (await api.telemetry(DEVICE)).find((r) => r.requestId === 'json-2' && r.version === 2),
    );

    // v3 with one byte flipped in the artifact the server hands out.
    const v3Bytes = buildReferenceModel({ seed: 3 });
    const v3Path = join(tmp.dir, 'v3.onnx');
    writeFileSync(v3Path, v3Bytes);
    assert.equal((await push(v3Path)).code, 0);
    const stored = join(tmp.dir, 'fleet', 'artifacts', sha256Hex(v3Bytes));
    const corrupted = readFileSync(stored);
    corrupted[corrupted.length - 10] = corrupted[corrupted.length - 10]! ^ 0xff;
    writeFileSync(stored, corrupted);
    assert.equal((await deploy(3)).code, 0);
    const flipped = await waitFor('v3 rejected', async () =>
      (await api.device(DEVICE)).device.assignments.find((a) => a.version === 3 && a.state === 'rejected'),
    );
    assert.equal(flipped.code, 'hash-mismatch');
    assert.match(flipped.reason ?? '', /sha256/);
    assert.equal(await predictVersion('after-flip'), 2);

    // A manifest signed by a key the device does not trust (an attacker with broker access).
    const attacker = generateKeyPair();
    const forged = signManifest(
      {
        schema: MANIFEST_SCHEMA,
        name: 'distance',
        version: 4,
        artifact: { sha256: sha256Hex(v3Bytes), size: v3Bytes.length, mediaType: 'application/onnx' },
        created: new Date().toISOString(),
        expires: new Date(Date.now() + 86_400_000).toISOString(),
        targets: { arch: ['x64', 'arm64', 'arm'] },
        inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
        outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
      },
      attacker,
    );
    const refusals = async (code: string) => {
      const text = await (await fetch(`${agent.ready.apiUrl}/metrics`)).text();
      return Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`edgeloop_desired_states_refused_total{code="${code}"}`))
          ?.split(' ')
          .pop() ?? 0,
      );
    };
    // Unsigned, as desired states were before they were signed: refused whole, before any manifest.
    await spy.publishAsync(
      deviceTopic(DEVICE, 'desired'),
      encodeMessage({
        v: 1,
        deviceId: DEVICE,
        issuedAt: Date.now(),
        models: [{ manifest: forged, artifactUrl: `${server.ready.httpUrl}/api/v1/artifacts/${sha256Hex(v3Bytes)}` }],
      }),
      { qos: 1 },
    );
    await waitFor('unsigned desired state refused', async () => (await refusals('unsigned')) === 1 || undefined);
    assert.equal(
      (await api.device(DEVICE)).events.filter((e) => e.version === 4).length,
      0,
      'nothing in it was acted on',
    );
    assert.equal(await predictVersion('after-forgery'), 2);

    // The validly signed v1 desired state, replayed: its counter is below the accepted one.
    await spy.publishAsync(deviceTopic(DEVICE, 'desired'), v1Desired, { qos: 1 });
    await waitFor('replayed v1 desired state refused', async () => (await refusals('replay')) === 1 || undefined);
    assert.equal(await predictVersion('after-replay'), 2);
    assert.equal(await runningVersion(), 2);
    assert.equal(agent.child.exitCode, null, 'agent still running');
    assert.equal(server.child.exitCode, null, 'server still running');
  },
);
