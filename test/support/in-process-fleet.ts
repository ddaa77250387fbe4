/**
 * @module support/in-process-fleet
 * A fleet server (embedded broker) and agents in one process, with the sample model registered
 * and deployable, on free ports in a temp directory: for API tests, integration tests that need
 * no process boundary, and benchmarks. Logs are silent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAgent, parseAgentConfig, type AgentConfigInput, type RunningAgent } from '@edgeloop/agent';
import { startFleetServer, type RunningFleetServer } from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { waitFor } from './fixtures.js';

export interface TestFleet {
  /** Temp directory holding the fleet's and the agents' state; removed by close(). */
  dir: string;
  server: RunningFleetServer;
  startAgent(deviceId: string, overrides?: Partial<AgentConfigInput>): Promise<RunningAgent>;
  /** Deploys the sample model "distance" v1 to the device and waits until it serves. */
  deploySample(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startTestFleet(): Promise<TestFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-fleet-'));
  const server = await startFleetServer({ dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 } }, silent);
  server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) });
  const agents: RunningAgent[] = [];
  return {
    dir,
    server,
    async startAgent(deviceId, overrides = {}) {
      const config = parseAgentConfig({
        deviceId,
        dataDir: join(dir, deviceId),
        api: { port: 0 },
        fleet: { mqttUrl: server.mqttUrl, trustedKeys: [server.publicKey] },
        sync: { flushIntervalMs: 10 },
        ...overrides,
      });
      const agent = await startAgent(config, silent);
      agents.push(agent);
      return agent;
    },
    async deploySample(deviceId) {
      await until('agent birth', () => server.devices.exists(deviceId));
      await server.deployments.assign('distance', 1, [deviceId]);
      await until('model active', () => (server.devices.get(deviceId)?.models.length ?? 0) > 0);
    },
    async close() {
      for (const a of agents) await a.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** waitFor for boolean probes, polling every 10 ms (benchmarks time what follows). */
export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => (await probe()) || undefined, timeoutMs, 10);
}
