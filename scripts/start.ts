/**
 * @module start
 * `npm start`: the whole EdgeLoop loop on one machine. A fleet server with its embedded broker
 * and status page, the sample model registered and signed, and three simulated devices running
 * the real agent (real ONNX Runtime, SQLite buffers, MQTT) on generated camera frames. After a
 * while v2 goes to one device, so the status page shows two versions side by side.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { readFileSync } from 'node:fs';
import { startAgent, parseAgentConfig, type RunningAgent } from '@edgeloop/agent';
import {
  startFleetServer,
  writeServerInfo,
  parseCreateRollout,
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
} from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { preferredPort } from './demo/ports.js';
import { encodeFrames, frameAt } from './demo/sensor-scene.js';

const DEVICES = ['demo-pi-1', 'demo-pi-2', 'demo-jetson-1'];
const CANARY = 'demo-jetson-1';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    'http-port': { type: 'string' },
    'mqtt-port': { type: 'string' },
    'canary-after': { type: 'string' },
    data: { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    `usage: npm start -- [--http-port N] [--mqtt-port N] [--duration SECONDS] [--canary-after SECONDS] [--data DIR] [--log-level warn]`,
  );
  process.exit(0);
}
const num = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`error: --${name} must be a non-negative number, got "${v}"`);
    process.exit(2);
  }
  return n;
};

const dataDir = resolve(values.data ?? '.edgeloop/demo');
const log = pino({ level: values['log-level'] ?? 'warn' });
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (msg: string) => console.log(`[edgeloop ${elapsed()}] ${msg}`);

say(`fresh demo state in ${dataDir}`);
rmSync(dataDir, { recursive: true, force: true });

const httpPort = num(values['http-port'], 'http-port') ?? (await preferredPort(DEFAULT_HTTP_PORT));
const mqttPort = num(values['mqtt-port'], 'mqtt-port') ?? (await preferredPort(DEFAULT_MQTT_PORT));
const server = await startFleetServer(
  { dataDir: join(dataDir, 'fleet'), http: { port: httpPort }, mqtt: { mode: 'embedded', port: mqttPort } },
  log.child({ part: 'fleet' }),
);
// The token goes into server.json (0600) so `npx edgeloop …` in this directory is authorised.
writeServerInfo(
  join(dataDir, 'fleet'),
  {
    httpUrl: server.httpUrl,
    mqttUrl: server.mqttUrl,
    publicKey: server.publicKey,
    keyId: server.keyId,
    pid: process.pid,
    ...(server.adminToken ? { token: server.adminToken } : {}),
  },
  values.data === undefined,
);
say(`fleet server up
    status page  ${server.httpUrl}/
                 with the admin token: ${server.httpUrl}/#token=${server.adminToken ?? `(see ${server.adminTokenFile})`}
    REST API     ${server.httpUrl}/api/v1  (Authorization: Bearer <token from ${server.adminTokenFile}>)
    MQTT broker  ${server.mqttUrl}
    signing key  ${server.keyId}
    try in another terminal:  npx edgeloop devices   ·   npx edgeloop telemetry --limit 5`);

const metadata = JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as unknown;
const v1 = await server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata });
say(`registered model distance v${v1.version} (sha256 ${v1.sha256.slice(0, 12)}, signed by ${v1.keyId})`);

/** Enrolls a simulated device as a real one would: a one-use enrollment token traded for credentials. */
async function enroll(deviceId: string): Promise<{ username: string; password: string }> {
  const { token } = await server.identity.enrollmentTokens.create(
    { uses: 1, group: 'demo', tags: { hw: deviceId.includes('jetson') ? 'jetson-orin' : 'raspberrypi4' } },
    'npm-start',
  );
  const { username, password } = await server.identity.enroll({ token, deviceId });
  return { username, password };
}

say('encoding sample camera frames…');
const frames = await encodeFrames();
const agents: RunningAgent[] = [];
for (const deviceId of DEVICES) {
  const config = parseAgentConfig({
    deviceId,
    dataDir: join(dataDir, 'devices', deviceId),
    hardware: deviceId.includes('jetson') ? 'jetson-orin' : 'raspberrypi4',
    api: { port: 0 },
    fleet: {
      mqttUrl: server.mqttUrl,
      httpUrl: server.httpUrl,
      trustedKeys: [server.publicKey],
      ...(await enroll(deviceId)),
    },
    runtime: { intraOpThreads: 1 },
  });
  agents.push(await startAgent(config, log.child({ part: 'agent' })));
  say(`agent ${deviceId} started, local API ${agents.at(-1)!.apiUrl}`);
}

// Devices become assignable once their birth has arrived.
const until = Date.now() + 10_000;
const allOnline = async () => (await Promise.all(DEVICES.map((d) => server.devices.get(d)))).every((d) => d?.online);
while (!(await allOnline()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
await server.deployments.assign('distance', v1.version, DEVICES);
say(`deployed distance v${v1.version} to ${DEVICES.join(', ')}`);

let stopping = false;
const loops = agents.map(async (agent, index) => {
  let n = 0;
  while (!stopping) {
    const frame = frames[frameAt(index, (Date.now() - started) / 1000)]!;
    try {
      await fetch(`${agent.apiUrl}/v1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-request-id': `${agent.deviceId}-${++n}` },
        body: new Uint8Array(frame),
      });
    } catch {
      // agent not ready or stopping
    }
    await new Promise((r) => setTimeout(r, 250));
  }
});

const canaryAfter = (num(values['canary-after'], 'canary-after') ?? 25) * 1000;
let rolloutId: string | undefined;
const canaryTimer = setTimeout(async () => {
  const v2 = await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v2),
    metadata: { ...(metadata as object), lineage: { parent: v1.version, trigger: 'demo' } },
  });
  // A canary rollout as an operator would start it (edgeloop rollouts create distance@2 --strategy
  // canary …): one device first, and after a short soak with no failures, the rest.
  const request = parseCreateRollout({
    model: 'distance',
    version: v2.version,
    strategy: 'canary',
    target: { devices: [CANARY, ...DEVICES.filter((d) => d !== CANARY)] },
    parameters: { canary: { count: 1 }, waitMs: 20_000, healthyAfterMs: 5_000 },
    reason: 'npm start demo',
  });
  if (!request.ok) throw new Error(request.reason);
  const rollout = await server.rollouts.create(request.value, 'npm-start');
  rolloutId = rollout.id;
  say(`registered distance v${v2.version}; canary rollout ${rollout.id}: one device first, the rest after 20 s without failures
    watch it:  npx edgeloop rollouts status ${rollout.id} --watch`);
}, canaryAfter);

const summary = setInterval(
  () => void summarize().catch((err: Error) => say(`status unavailable: ${err.message}`)),
  3000,
);

async function summarize(): Promise<void> {
  const line = (await server.devices.list())
    .map(
      (d) =>
        `${d.id} ${d.online ? '●' : '○'} ${d.models.map((m) => `${m.name} v${m.version}`).join(',') || '(no model)'} ${d.records} rec`,
    )
    .join('  |  ');
  const rollout = rolloutId ? await server.rollouts.store.get(rolloutId) : undefined;
  say(rollout ? `${line}  |  rollout ${rollout.state}, wave ${rollout.currentWave + 1}/${rollout.waves.length}` : line);
}

async function shutdown(reason: string) {
  if (stopping) return;
  stopping = true;
  say(`${reason}; stopping…`);
  clearInterval(summary);
  clearTimeout(canaryTimer);
  await Promise.all(loops);
  for (const agent of agents) await agent.close();
  await server.close();
  say('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('Ctrl-C'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
const duration = num(values.duration, 'duration');
if (duration !== undefined) setTimeout(() => void shutdown(`ran for ${duration}s`), duration * 1000);
say('running — Ctrl-C to stop');
