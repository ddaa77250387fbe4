/**
 * Acceptance: the broker is down for a long burst of predictions and the buffer cap
 * is reached → the oldest records are dropped and counted, the agent keeps serving; when the
 * broker is back the rest arrives exactly once, and answered = stored + dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { greyTensor, sample, tempDir, waitFor } from '../support/fixtures.js';
import { portOf, runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';

const DEVICE = 'capped-pi-1';
const BURST = 1500;

test(
  'offline burst past the buffer cap: oldest dropped and counted, the rest exactly once',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('buffer-cap');
    const dataDir = join(tmp.dir, 'fleet');
    let server = await startServerProcess(dataDir);
    const ports = { http: portOf(server.ready.httpUrl), mqtt: portOf(server.ready.mqttUrl) };
    const agent = await startAgentProcess(
      await writeAgentConfig(server.ready, tmp.dir, DEVICE, {
        buffer: { maxBytes: 128 * 1024, checkIntervalMs: 50 },
        sync: { flushIntervalMs: 20 },
      }),
    );
    t.after(async () => {
      await agent.kill('SIGKILL');
      await server.kill('SIGKILL');
      tmp.cleanup();
    });
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

    await server.kill('SIGKILL');
    const seqOf = new Map<string, number>();
    const body = JSON.stringify(greyTensor(0.5));
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < BURST) {
          const id = `burst-${next++}`;
          const res = await fetch(`${agent.ready.apiUrl}/v1/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': id },
            body,
          });
          assert.equal(res.status, 200, 'the agent keeps serving while its buffer overflows');
          seqOf.set(id, ((await res.json()) as { record: { seq: number } }).record.seq);
        }
      }),
    );
    const health = await waitFor('drops counted', async () => {
      const h = (await (await fetch(`${agent.ready.apiUrl}/v1/health`)).json()) as { backlog: number; dropped: number };
      return h.dropped > 0 ? h : undefined;
    });
    assert.ok(health.backlog < BURST, `backlog ${health.backlog} is capped`);

    server = await startServerProcess(dataDir, [], ports);
    api = fleet(server.ready.httpUrl);
    const device = await waitFor(
      'backlog drained',
      async () => {
        const d = (await api.device(DEVICE)).device;
        return d.online && d.backlog === 0 && d.records > 0 ? d : undefined;
      },
      60_000,
      100,
    );
    const stored = (await api.telemetry(DEVICE)).filter((r) => r.requestId?.startsWith('burst-'));
    const storedIds = new Set(stored.map((r) => r.requestId!));
    assert.equal(storedIds.size, stored.length, 'no duplicates');
    const firstKept = Math.min(...stored.map((r) => r.seq));
    for (const [id, seq] of seqOf)
      assert.equal(storedIds.has(id), seq >= firstKept, `${id} (seq ${seq}): only the oldest are missing`);
    const droppedBurst = [...seqOf.values()].filter((s) => s < firstKept).length;
    assert.equal(stored.length + droppedBurst, BURST, 'answered = stored + dropped');
    assert.equal(device.dropped, droppedBurst, 'the device reported exactly the records it dropped');
    t.diagnostic(`burst ${BURST}: stored ${stored.length}, dropped ${droppedBurst}`);
  },
);
