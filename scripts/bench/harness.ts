/**
 * @module bench/harness
 * A fleet server and one agent in this process, with the sample model deployed: the setting
 * most agent benchmarks need.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAgent, parseAgentConfig, type RunningAgent, type AgentConfigInput } from '@edgeloop/agent';
import { startFleetServer, type RunningFleetServer } from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';

export interface Harness {
  dir: string;
  server: RunningFleetServer;
  agent?: RunningAgent;
  startAgent(deviceId: string, overrides?: Partial<AgentConfigInput>): Promise<RunningAgent>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-'));
  const server = await startFleetServer({ dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 } }, silent);
  server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) });
  const agents: RunningAgent[] = [];
  return {
    dir,
    server,
    async startAgent(deviceId, overrides = {}) {
      const agent = await startAgent(
        parseAgentConfig({
          deviceId,
          dataDir: join(dir, deviceId),
          api: { port: 0 },
          fleet: { mqttUrl: server.mqttUrl, trustedKeys: [server.publicKey] },
          ...overrides,
        }),
        silent,
      );
      agents.push(agent);
      return agent;
    },
    async close() {
      for (const a of agents) await a.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function deploySample(h: Harness, deviceId: string): Promise<void> {
  await until('agent birth', () => h.server.devices.exists(deviceId));
  await h.server.deployments.assign('distance', 1, [deviceId]);
  await until('model active', () => (h.server.devices.get(deviceId)?.models.length ?? 0) > 0);
}
