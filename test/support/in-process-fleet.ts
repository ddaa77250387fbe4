/**
 * @module support/in-process-fleet
 * A fleet server (embedded broker) and agents in one process, with the sample model registered
 * and deployable, on free ports in a temp directory: for API tests, integration tests that need
 * no process boundary, and benchmarks. Logs are silent. The server accepts TEST_ADMIN_TOKEN;
 * every agent is enrolled (an enrollment token traded in-process) before it starts. Every API
 * answer is checked against the REST contract (validateResponses): one that breaks it is answered
 * 500, and close() fails listing them. The store is SQLite in the temp directory unless
 * `{ store: 'postgres' }` asks for a fresh PostgreSQL database (support/stores.ts), dropped by close().
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAgent, parseAgentConfig, type AgentConfigInput, type RunningAgent } from '@edgeloop/agent';
import {
  startFleetServer,
  type FleetConfigInput,
  type FleetServerParts,
  type RunningFleetServer,
} from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { waitFor } from './fixtures.js';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from './fleet-client.js';
import { bytesAtRest, freshDatabase, type StoreKind } from './stores.js';

export interface TestFleet {
  /** Temp directory holding the fleet's and the agents' state; removed by close(). */
  dir: string;
  server: RunningFleetServer;
  /** Admin token for the REST API (TEST_ADMIN_TOKEN). */
  adminToken: string;
  /** Enrolls the device (once per fleet; later calls return the same credentials). */
  enroll(
    deviceId: string,
    labels?: { group?: string; tags?: Record<string, string> },
  ): Promise<{ username: string; password: string }>;
  /**
   * Starts an enrolled agent. `overrides.fleet` is merged over the fleet section; with a
   * `password` of its own the device is not enrolled here (credentials for another broker).
   */
  startAgent(deviceId: string, overrides?: Partial<AgentConfigInput>): Promise<RunningAgent>;
  /** Everything the fleet store holds at rest (support/stores.ts bytesAtRest), to search for secrets. */
  bytesAtRest(): Promise<Buffer>;
  /** Deploys "distance" v1 (the sample, or `baselineModel`) to the device and waits until it serves. */
  deploySample(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export interface TestFleetOptions {
  /** Default 'sqlite'. A test on 'postgres' must be skipped when storeSkip('postgres') says so. */
  store?: StoreKind;
  /** Bytes of "distance" v1 (default: the committed trained sample). */
  baselineModel?: Uint8Array;
  /**
   * Registration metadata of "distance" v1 (default: the shared sample metadata, no training
   * summary); `SAMPLE_VERSION_METADATA.v1` gives the trained sample's metrics and baseline.
   */
  baselineMetadata?: unknown;
  /** Parts handed to startFleetServer (e.g. a data clock for compressed simulated time). */
  parts?: FleetServerParts;
  /** false: no "distance" v1 at start (a harness that trains and registers its own first version). */
  registerBaseline?: boolean;
  /** Config sections merged over the test server's (e.g. `monitoring`, `training`, `loop`). */
  config?: Partial<FleetConfigInput>;
}

export async function startTestFleet(options: TestFleetOptions = {}): Promise<TestFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-fleet-'));
  const database = await freshDatabase(options.store ?? 'sqlite');
  const sqlitePath = join(dir, 'fleet', 'fleet.db');
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      // Always explicit: an EDGELOOP_DB_URL in the developer's environment must not pick the store.
      db: database?.url ?? sqlitePath,
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0, serverPassword: TEST_MQTT_SERVER.password },
      adminToken: TEST_ADMIN_TOKEN,
      validateResponses: true,
      ...options.config,
    },
    silent,
    options.parts,
  );
  if (options.registerBaseline !== false)
    await server.registry.register({
      name: 'distance',
      bytes: options.baselineModel ?? readFileSync(SAMPLE_MODELS.v1),
      metadata: options.baselineMetadata ?? JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
    });
  const agents: RunningAgent[] = [];
  const enrolled = new Map<string, { username: string; password: string }>();
  const enroll: TestFleet['enroll'] = async (deviceId, labels = {}) => {
    let creds = enrolled.get(deviceId);
    if (!creds) {
      const { token } = await server.identity.enrollmentTokens.create(
        { uses: 1, group: labels.group, tags: labels.tags },
        'test-support',
      );
      const e = await server.identity.enroll({ token, deviceId });
      creds = { username: e.username, password: e.password };
      enrolled.set(deviceId, creds);
    }
    return creds;
  };
  return {
    dir,
    server,
    adminToken: TEST_ADMIN_TOKEN,
    enroll,
    async startAgent(deviceId, overrides = {}) {
      const creds = overrides.fleet?.password ? {} : await enroll(deviceId);
      const config = parseAgentConfig({
        deviceId,
        dataDir: join(dir, deviceId),
        api: { port: 0 },
        sync: { flushIntervalMs: 10 },
        ...overrides,
        fleet: {
          mqttUrl: server.mqttUrl,
          httpUrl: server.httpUrl,
          trustedKeys: [server.publicKey],
          ...creds,
          ...overrides.fleet,
        },
      });
      const agent = await startAgent(config, silent);
      agents.push(agent);
      return agent;
    },
    bytesAtRest: () => bytesAtRest(database ? { url: database.url } : { sqlitePath }),
    async deploySample(deviceId) {
      await until('agent birth', async () => (await server.devices.get(deviceId))?.online === true);
      await server.deployments.assign('distance', 1, [deviceId]);
      await until('model active', async () => ((await server.devices.get(deviceId))?.models.length ?? 0) > 0);
    },
    async close() {
      for (const a of agents) await a.close();
      await server.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
      assertKeptContract(server);
    },
  };
}

/** Fails with every API answer the server gave outside the REST contract. */
export function assertKeptContract(server: Pick<RunningFleetServer, 'contractViolations'>): void {
  const broken = server.contractViolations.map((v) => `${v.route} answered ${v.status} for ${v.path}: ${v.problem}`);
  if (broken.length) throw new Error(`the fleet server answered outside the REST contract:\n  ${broken.join('\n  ')}`);
}

/** waitFor for boolean probes, polling every 10 ms (benchmarks time what follows). */
export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => (await probe()) || undefined, timeoutMs, 10);
}
