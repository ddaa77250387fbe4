/**
 * Acceptance of several fleet servers: two server processes on one real Mosquitto (shared
 * subscriptions) and one PostgreSQL database, keys and artifacts in one shared folder, started
 * together. Two agents (separate processes) answer predictions without pause; ingest is split
 * between the servers. A staged rollout is running when the leader is killed with SIGKILL in the
 * middle of ingest: the other server takes the leader lease within 30 s and finishes the
 * rollout, and every answered prediction is stored exactly once — nothing acknowledged before
 * the kill is lost, nothing is stored twice when the agents send again what the dead server had
 * taken but not acknowledged. Once with artifacts in the shared folder, once in PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthResponse, RolloutDetail } from '@edgeloop/protocol';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { startMosquitto, which } from '../support/mosquitto.js';
import {
  adminJson,
  runCli,
  startAgentProcess,
  startServerProcess,
  writeAgentConfig,
  type AgentReady,
  type Proc,
  type ServerReady,
} from '../support/processes.js';
import { fleet, getJson } from '../support/fleet-client.js';
import { freshDatabase, storeSkip } from '../support/stores.js';

const DEVICES = ['cluster-pi-1', 'cluster-pi-2'];

async function health(server: Proc<ServerReady>): Promise<HealthResponse> {
  return getJson<HealthResponse>(`${server.ready.httpUrl}/api/v1/health`);
}

async function backlogOf(agent: Proc<AgentReady>): Promise<number> {
  return ((await (await fetch(`${agent.ready.apiUrl}/v1/health`)).json()) as { backlog: number }).backlog;
}

const mosquittoMissing = (await which('mosquitto'))
  ? false
  : '*** mosquitto NOT INSTALLED: skipping the cluster test (apt-get install mosquitto) ***';
if (mosquittoMissing) console.warn(mosquittoMissing);

for (const blobs of ['folder', 'postgres'] as const)
  test(
    `two fleet servers on Mosquitto + PostgreSQL: ingest shared, leader killed mid-ingest and mid-rollout, nothing lost or doubled, rollout finished by the other (artifacts: ${blobs})`,
    { timeout: 240_000, skip: mosquittoMissing || (await storeSkip('postgres')) },
    async (t) => {
      const tmp = tempDir('cluster-failover');
      const etc = join(tmp.dir, 'mosquitto');
      mkdirSync(etc);
      const broker = await startMosquitto(etc);
      const db = (await freshDatabase('postgres'))!;
      const shared = join(tmp.dir, 'shared');
      const cleanups: Array<() => Promise<unknown>> = [() => broker.stop(), () => db.drop()];
      let feeding = true;
      const feeders: Array<Promise<void>> = [];
      t.after(async () => {
        feeding = false;
        await Promise.allSettled(feeders);
        for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
        tmp.cleanup();
      });
      const serverArgs = (id: string) => [
        '--db',
        db.url,
        '--mqtt-url',
        broker.url,
        '--shared-dir',
        shared,
        '--instance-id',
        id,
        '--blob-store',
        blobs,
      ];
      // Started together: the first start (root key, first keyset) is taken in turns.
      const servers = await Promise.all(
        ['fleet-a', 'fleet-b'].map((id) => startServerProcess(join(tmp.dir, id), serverArgs(id))),
      );
      for (const s of servers) cleanups.push(() => s.kill('SIGKILL'));
      assert.equal(servers[0]!.ready.publicKey, servers[1]!.ready.publicKey, 'one root key for the fleet');
      assert.equal(servers[0]!.ready.keyId, servers[1]!.ready.keyId, 'one signing key');

      const roles = await Promise.all(servers.map(health));
      assert.deepEqual(roles.map((h) => h.cluster?.leader).sort(), [false, true], 'exactly one leader');
      const leader = servers[roles.findIndex((h) => h.cluster?.leader)]!;
      const other = servers[roles.findIndex((h) => !h.cluster?.leader)]!;

      // Everything below goes through the follower's API: any server serves it.
      const agents: Array<Proc<AgentReady>> = [];
      for (const id of DEVICES) {
        const config = await writeAgentConfig(other.ready, tmp.dir, id, {
          sync: { flushIntervalMs: 20, ackTimeoutMs: 2000, backoffMinMs: 100, backoffMaxMs: 1000 },
        });
        const agent = await startAgentProcess(config);
        agents.push(agent);
        cleanups.push(() => agent.kill('SIGKILL'));
      }
      const cli = async (args: string[]) => {
        const r = await runCli(args, other.ready.httpUrl);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      const api = fleet(other.ready.httpUrl);
      await cli(['models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath]);
      await cli(['models', 'push', sample.v2Path, '--name', 'distance', '--meta', sample.metadataPath]);
      await cli(['deploy', 'distance@1', ...DEVICES.flatMap((d) => ['--device', d])]);
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
      const split = await waitFor(
        'ingest flowing and shared by both servers',
        async () => {
          const counts = (await Promise.all(servers.map(health))).map((h) => h.ingest?.stored ?? 0);
          const stored = await Promise.all(DEVICES.map((d) => api.telemetry(d)));
          return counts.every((c) => c > 0) && stored.every((r) => r.length >= 100) ? counts : undefined;
        },
        60_000,
        100,
      );
      t.diagnostic(`records stored before the kill, per server: ${split.join(', ')}`);

      // A staged rollout, wave 1 soaking: whoever leads must advance and finish it.
      const created = await cli([
        'rollouts',
        'create',
        'distance@2',
        '--strategy',
        'staged',
        '--waves',
        '1,100%',
        '--wait',
        '8s',
      ]);
      const id = /rollout (ro-[0-9a-f]+)/.exec(created)![1]!;
      const get = () => adminJson<RolloutDetail>(other.ready, 'GET', `/api/v1/rollouts/${id}`);
      assert.equal((await get()).rollout.state, 'running');

      await leader.kill('SIGKILL');
      const killedAt = Date.now();
      const ackedAtKill = await Promise.all(
        agents.map(async (a, i) => {
          const answeredSoFar = answered[i]!.length;
          const backlog = await backlogOf(a);
          return answered[i]!.slice(0, Math.max(0, answeredSoFar - backlog));
        }),
      );
      for (const [i, acked] of ackedAtKill.entries())
        assert.ok(acked.length > 0, `${DEVICES[i]} had records acknowledged before the kill`);

      await waitFor(
        'the other server took the leader lease',
        async () => (await health(other)).cluster?.leader,
        30_000,
        100,
      );
      t.diagnostic(`leader lease taken over ${Date.now() - killedAt} ms after the kill`);
      const done = await waitFor(
        'the rollout finished by the new leader',
        async () => {
          const r = await get();
          return r.rollout.state === 'completed' ? r : undefined;
        },
        90_000,
        200,
      ).catch(async (err: Error) => {
        // The failure says why: where the rollout stands and what the new leader logged about it.
        const r = await get().catch((e: Error) => e.message);
        const detail =
          typeof r === 'string'
            ? r
            : JSON.stringify({
                state: r.rollout.state,
                currentWave: r.rollout.currentWave,
                waves: r.waves,
                gates: r.gates,
                devices: r.devices.map((d) => ({ id: d.deviceId, state: d.state, reason: d.reason })),
              });
        const lines = (p: Proc<unknown>, pattern: RegExp) =>
          p
            .logs()
            .split('\n')
            .filter((l) => pattern.test(l))
            .slice(-40)
            .join('\n');
        const agentLogs = agents.map(
          (a, i) => `${DEVICES[i]}:\n${lines(a, /update|ack|activ|model|desired|warn|error/i)}`,
        );
        throw new Error(
          [
            err.message,
            `rollout: ${detail}`,
            `new leader's log:\n${lines(other, /rollout|leader|duty|device update|update report/i)}`,
            `killed leader's log:\n${lines(leader, /rollout|device update|update report/i)}`,
            ...agentLogs,
          ].join('\n'),
        );
      });
      assert.deepEqual(done.devices.map((d) => d.state).sort(), ['active', 'active']);
      assert.ok((done.waves[1]?.startedAt ?? 0) > killedAt, 'wave 2 was started after the old leader died');

      feeding = false;
      await Promise.all(feeders);
      for (const [i, deviceId] of DEVICES.entries()) {
        const records = await waitFor(
          `${deviceId}: every answered record stored`,
          async () => {
            const recs = await api.telemetry(deviceId);
            return recs.length >= answered[i]!.length ? recs : undefined;
          },
          60_000,
          100,
        );
        const stored = [...records].sort((a, b) => a.seq - b.seq).map((r) => r.requestId!);
        const storedSet = new Set(stored);
        assert.equal(storedSet.size, stored.length, `${deviceId}: no record stored twice`);
        assert.deepEqual(
          ackedAtKill[i]!.filter((r) => !storedSet.has(r)),
          [],
          `${deviceId}: no record acknowledged before the kill is lost`,
        );
        assert.deepEqual(stored, answered[i], `${deviceId}: each answered prediction exactly once`);
        t.diagnostic(`${deviceId}: ${stored.length} records, ${ackedAtKill[i]!.length} acknowledged before the kill`);
      }
      for (const [i, a] of agents.entries())
        await waitFor(`${DEVICES[i]} backlog drained`, async () => (await backlogOf(a)) === 0 || undefined);
    },
  );
