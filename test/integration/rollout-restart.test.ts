/**
 * Rollouts survive a fleet-server restart: a staged rollout is half-way — wave 1 done,
 * wave 2's device assigned but offline — when the server is killed with SIGKILL. The server comes
 * back on the same ports and data; the offline device returns, gets the candidate, and the
 * rollout completes by itself. Real server and agent processes, real MQTT, the edgeloop CLI; once
 * on each store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutDetail } from '@edgeloop/protocol';
import { sample, tempDir, waitFor } from '../support/fixtures.js';
import {
  adminJson,
  portOf,
  runCli,
  startAgentProcess,
  startServerProcess,
  writeAgentConfig,
  type Proc,
  type AgentReady,
} from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';
import { STORES, storeSkip } from '../support/stores.js';

for (const store of STORES)
  test(
    `a rollout carries on after the fleet server is killed mid-way (${store})`,
    { timeout: 180_000, skip: await storeSkip(store) },
    async (t) => {
      const tmp = tempDir('rollout-restart');
      const dataDir = `${tmp.dir}/fleet`;
      let server = await startServerProcess(dataDir, [], { store });
      const ports = { http: portOf(server.ready.httpUrl), mqtt: portOf(server.ready.mqttUrl), store };
      const configs = {
        early: await writeAgentConfig(server.ready, tmp.dir, 'restart-pi-1'),
        late: await writeAgentConfig(server.ready, tmp.dir, 'restart-pi-2'),
      };
      const agents: Array<Proc<AgentReady>> = [
        await startAgentProcess(configs.early),
        await startAgentProcess(configs.late),
      ];
      t.after(async () => {
        for (const a of agents) await a.kill('SIGKILL');
        await server.kill('SIGKILL');
        tmp.cleanup();
      });
      const cli = async (args: string[]) => {
        const r = await runCli(args, server.ready.httpUrl);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      let api = fleet(server.ready.httpUrl);
      await cli(['models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath]);
      await cli(['models', 'push', sample.v2Path, '--name', 'distance', '--meta', sample.metadataPath]);
      await cli(['deploy', 'distance@1', '--device', 'restart-pi-1', '--device', 'restart-pi-2']);
      await waitFor(
        'v1 active on both devices',
        async () =>
          (await api.devices()).filter((d) => d.models.some((m) => m.version === 1)).length === 2 || undefined,
      );

      // restart-pi-2 goes offline: the rollout orders online devices first, so it lands in wave 2.
      await agents[1]!.kill('SIGTERM');
      await waitFor(
        'restart-pi-2 offline',
        async () => (await api.device('restart-pi-2')).device.online === false || undefined,
      );
      const created = await cli([
        'rollouts',
        'create',
        'distance@2',
        '--strategy',
        'staged',
        '--waves',
        '1,100%',
        '--wait',
        '0s',
      ]);
      const id = /rollout (ro-[0-9a-f]+)/.exec(created)![1]!;
      const get = () => adminJson<RolloutDetail>(server.ready, 'GET', `/api/v1/rollouts/${id}`);
      const midway = await waitFor(
        'wave 2 started with its device offline',
        async () => {
          const r = await get();
          return r.rollout.currentWave === 1 &&
            r.devices.find((d) => d.deviceId === 'restart-pi-2')?.state === 'assigned'
            ? r
            : undefined;
        },
        60_000,
      );
      assert.equal(midway.devices.find((d) => d.deviceId === 'restart-pi-1')?.state, 'active');

      await server.kill('SIGKILL');
      server = await startServerProcess(dataDir, [], ports);
      api = fleet(server.ready.httpUrl);
      agents.push(await startAgentProcess(configs.late));

      const done = await waitFor(
        'rollout completed after the restart',
        async () => {
          const r = await get();
          return r.rollout.state === 'completed' ? r : undefined;
        },
        90_000,
        200,
      );
      assert.deepEqual(done.devices.map((d) => d.state).sort(), ['active', 'active']);
      for (const id of ['restart-pi-1', 'restart-pi-2'])
        assert.deepEqual(
          (await api.device(id)).device.models.map((m) => m.version),
          [2],
        );
      const status = await cli(['rollouts', 'status', id]);
      assert.match(status, /completed/);
      assert.match(status, /wave 2 {2}\[#{24}\] 1\/1 active/);
    },
  );
