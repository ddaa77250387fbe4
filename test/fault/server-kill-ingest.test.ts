/**
 * kill -9 of the fleet server in the middle of ingest, on each store: two agents (separate
 * processes) answer predictions without pause, so batches are in flight — received, perhaps
 * committed, not yet acknowledged — when the server dies. The agents keep answering from their
 * buffers; the server comes back on the same ports and the same store, and every answered
 * prediction is stored exactly once: nothing acknowledged before the kill is lost, nothing the
 * server stored but could not acknowledge is stored twice when the agent sends it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import {
  portOf,
  runCli,
  startAgentProcess,
  startServerProcess,
  writeAgentConfig,
  type AgentReady,
  type Proc,
} from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';
import { STORES, storeSkip } from '../support/stores.js';

const DEVICES = ['ingest-kill-pi-1', 'ingest-kill-pi-2'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function backlogOf(agent: Proc<AgentReady>): Promise<number> {
  return ((await (await fetch(`${agent.ready.apiUrl}/v1/health`)).json()) as { backlog: number }).backlog;
}

for (const store of STORES)
  test(
    `kill -9 of the fleet server mid-ingest: every answered record stored exactly once (${store})`,
    { timeout: 180_000, skip: await storeSkip(store) },
    async (t) => {
      const tmp = tempDir('ingest-kill');
      const dataDir = join(tmp.dir, 'fleet');
      let server = await startServerProcess(dataDir, [], { store });
      const ports = { http: portOf(server.ready.httpUrl), mqtt: portOf(server.ready.mqttUrl), store };
      const agents: Array<Proc<AgentReady>> = [];
      let feeding = true;
      const feeders: Array<Promise<void>> = [];
      t.after(async () => {
        feeding = false;
        await Promise.allSettled(feeders);
        for (const a of agents) await a.kill('SIGKILL');
        await server.kill('SIGKILL');
        tmp.cleanup();
      });
      for (const id of DEVICES)
        agents.push(
          await startAgentProcess(await writeAgentConfig(server.ready, tmp.dir, id, { sync: { flushIntervalMs: 20 } })),
        );
      let api = fleet(server.ready.httpUrl);
      const push = await runCli(
        ['models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath],
        server.ready.httpUrl,
      );
      assert.equal(push.code, 0, push.stderr);
      const deploy = await runCli(
        ['deploy', 'distance@1', ...DEVICES.flatMap((d) => ['--device', d])],
        server.ready.httpUrl,
      );
      assert.equal(deploy.code, 0, deploy.stderr);
      for (const id of DEVICES)
        await waitFor('v1 active', async () => (await api.device(id)).device.models.some((m) => m.version === 1));

      const answered = DEVICES.map(() => [] as string[]);
      DEVICES.forEach((id, i) =>
        feeders.push(
          (async () => {
            for (let n = 0; feeding; n++) {
              const requestId = `${id}-${n}`;
              const res = await postJson(`${agents[i]!.ready.apiUrl}/v1/predict`, greyTensor(0.6, requestId));
              assert.equal(res.status, 200, JSON.stringify(res.body));
              answered[i]!.push(requestId);
            }
          })(),
        ),
      );
      await waitFor(
        'ingest flowing from both agents',
        async () =>
          (await Promise.all(DEVICES.map((d) => api.telemetry(d)))).every((r) => r.length >= 100) || undefined,
        30_000,
        50,
      );

      await server.kill('SIGKILL');
      // What each agent had had acknowledged when the server died: its answers less its buffer.
      // After the kill nothing more is acknowledged, so this is a floor that holds from here on.
      const ackedAtKill = await Promise.all(
        agents.map(async (a, i) => {
          const answeredSoFar = answered[i]!.length;
          const backlog = await backlogOf(a);
          return answered[i]!.slice(0, Math.max(0, answeredSoFar - backlog));
        }),
      );
      for (const [i, acked] of ackedAtKill.entries())
        assert.ok(acked.length > 0, `${DEVICES[i]} had records acknowledged before the kill`);
      await sleep(1000);
      const buffered = await Promise.all(agents.map(backlogOf));
      assert.ok(
        buffered.every((b) => b > 0),
        `the agents buffer while the server is down (backlogs ${buffered.join(', ')})`,
      );

      server = await startServerProcess(dataDir, [], ports);
      api = fleet(server.ready.httpUrl);
      await sleep(500); // the stream resumes while the buffers drain
      feeding = false;
      await Promise.all(feeders);

      for (const [i, id] of DEVICES.entries()) {
        const records = await waitFor(
          `${id}: every answered record after the restart`,
          async () => {
            const recs = await api.telemetry(id);
            return recs.length >= answered[i]!.length ? recs : undefined;
          },
          60_000,
          100,
        );
        // In the agent's order (seq): after the restart, live records may overtake the buffered ones on the wire.
        const stored = [...records].sort((a, b) => a.seq - b.seq).map((r) => r.requestId!);
        const storedSet = new Set(stored);
        assert.equal(storedSet.size, stored.length, `${id}: no record stored twice`);
        assert.deepEqual(
          ackedAtKill[i]!.filter((r) => !storedSet.has(r)),
          [],
          `${id}: no record acknowledged before the kill is lost`,
        );
        assert.deepEqual(stored, answered[i], `${id}: each answered prediction exactly once`);
        t.diagnostic(
          `${id}: ${stored.length} records, ${ackedAtKill[i]!.length} acknowledged before the kill, ${buffered[i]} buffered during the outage`,
        );
      }
      for (const [i, a] of agents.entries())
        await waitFor(`${DEVICES[i]} backlog drained`, async () => (await backlogOf(a)) === 0 || undefined);
    },
  );
