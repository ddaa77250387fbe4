/**
 * The fleet server (and with it the embedded broker) dies with kill -9 while the agent answers
 * predictions. The agent keeps serving from its buffer; when the server is back on the same
 * ports, it reconnects by itself and every answered prediction arrives exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { greyTensor, postJson, tempDir, waitFor } from '../support/fixtures.js';
import { portOf, runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';
import { sample } from '../support/fixtures.js';

const DEVICE = 'outage-pi-1';

test('an outage of the fleet server loses nothing and duplicates nothing', { timeout: 180_000 }, async (t) => {
  const tmp = tempDir('outage');
  const dataDir = join(tmp.dir, 'fleet');
  let server = await startServerProcess(dataDir);
  const ports = { http: portOf(server.ready.httpUrl), mqtt: portOf(server.ready.mqttUrl) };
  const agent = await startAgentProcess(
    await writeAgentConfig(server.ready, tmp.dir, DEVICE, { sync: { flushIntervalMs: 20 } }),
  );
  t.after(async () => {
    await agent.kill('SIGKILL');
    await server.kill('SIGKILL');
    tmp.cleanup();
  });
  const T0 = Date.now();
  let api = fleet(server.ready.httpUrl);
  await waitFor('agent online', async () => (await api.devices()).find((d) => d.id === DEVICE));
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

  const answered: string[] = [];
  const predict = async (id: string) => {
    const res = await postJson(`${agent.ready.apiUrl}/v1/predict`, greyTensor(0.6, id));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    answered.push(id);
  };
  for (let i = 0; i < 20; i++) await predict(`before-${i}`);
  await waitFor('pre-outage records synced', async () => (await api.telemetry(DEVICE)).length === 20 || undefined);
  // …and acknowledged: the agent's buffer is empty before the outage starts.
  await waitFor('pre-outage acks processed', async () => {
    const h = (await (await fetch(`${agent.ready.apiUrl}/v1/health`)).json()) as { backlog: number };
    return h.backlog === 0 || undefined;
  });

  await server.kill('SIGKILL');
  for (let i = 0; i < 300; i++) await predict(`during-${i}`);
  const health = (await (await fetch(`${agent.ready.apiUrl}/v1/health`)).json()) as {
    connected: boolean;
    backlog: number;
  };
  assert.equal(health.connected, false, 'the agent noticed the outage');
  assert.equal(health.backlog, 300, 'everything answered during the outage is buffered');

  t.diagnostic(`outage predictions done at ${Date.now() - T0} ms`);
  server = await startServerProcess(dataDir, [], ports);
  t.diagnostic(`server back at ${Date.now() - T0} ms`);
  api = fleet(server.ready.httpUrl);
  const records = await waitFor(
    'all records after the outage',
    async () => {
      const recs = await api.telemetry(DEVICE);
      return recs.length >= answered.length ? recs : undefined;
    },
    60_000,
    100,
  );
  t.diagnostic(`all records at ${Date.now() - T0} ms`);
  assert.deepEqual(
    records.map((r) => r.requestId),
    answered,
    'each answered prediction exactly once, in order',
  );
  assert.ok(records.every((r, i) => i === 0 || r.seq > records[i - 1]!.seq));
  assert.ok(
    records.filter((r) => r.requestId!.startsWith('during-')).every((r) => r.historical),
    'outage records are flagged historical',
  );
  assert.ok(
    records.filter((r) => r.requestId!.startsWith('before-')).every((r) => !r.historical),
    'live records are not',
  );
  const device = await waitFor('device online again with no backlog', async () => {
    const d = (await api.device(DEVICE)).device;
    return d.online && d.backlog === 0 ? d : undefined;
  });
  assert.equal(device.models[0]?.version, 1);
});
