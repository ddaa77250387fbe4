/**
 * @module api/test-support
 * For the API tests: a fleet server (embedded broker) and agents in this process, with the
 * sample model registered and deployable, everything on free ports in a temp directory. The
 * agent tests import the fleet server only here, never from agent code.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { startFleetServer, type RunningFleetServer } from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { startAgent, type RunningAgent } from '../agent.js';
import { parseAgentConfig, type AgentConfigInput } from '../config.js';

export interface TestFleet {
  server: RunningFleetServer;
  startAgent(deviceId: string, overrides?: Partial<AgentConfigInput>): Promise<RunningAgent>;
  /** Deploys the sample model "distance" v1 to the device and waits until it serves. */
  deploySample(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startTestFleet(): Promise<TestFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-api-test-'));
  const server = await startFleetServer({ dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 } }, silent);
  server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) });
  const agents: RunningAgent[] = [];
  return {
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

export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A JPEG of the sample model's input size (or any) with a flat colour. */
export function flatJpeg(level: number, width = 160, height = 120): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: level, g: level, b: level } } }).jpeg().toBuffer();
}

/** The JSON tensor input for the sample model: one grey image at `level` (0..1). */
export function greyInputs(level: number): { image: { shape: number[]; data: number[] } } {
  return { image: { shape: [1, 3, 48, 64], data: new Array<number>(3 * 48 * 64).fill(level) } };
}

/** The value of one sample in Prometheus text output, e.g. metricValue(text, 'edgeloop_buffer_records'). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
