/**
 * @module start
 * `npm start`: the whole EdgeLoop loop on one machine. A fleet server with its embedded broker
 * and fleet console, the sample model registered and signed, and three simulated cars running
 * the real agent (real ONNX Runtime, SQLite buffers, MQTT) on the simulator's rendered camera
 * frames, with a simulated ToF sensor each as the reference (@edgeloop/simulator, baseline
 * scenario). After a while v2 goes to one device, so the console shows two versions side by
 * side.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { readFileSync } from 'node:fs';
import {
  startFleetServer,
  writeServerInfo,
  parseCreateRollout,
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
} from '@edgeloop/fleet-server';
import { SAMPLE_VERSION_METADATA, SAMPLE_MODELS } from '@edgeloop/models';
import { preferredPort } from './demo/ports.js';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';

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
// The simulated sensors publish on the fleet broker as its full-access user, with a password made here.
const sensorLogin = { username: 'edgeloop-server', password: randomBytes(24).toString('hex') };
const server = await startFleetServer(
  {
    dataDir: join(dataDir, 'fleet'),
    http: { port: httpPort },
    mqtt: { mode: 'embedded', port: mqttPort, serverPassword: sensorLogin.password },
  },
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
    console      ${server.httpUrl}/
                 logged in at once: ${server.httpUrl}/login#token=${server.adminToken ?? `(token in ${server.adminTokenFile})`}
    REST API     ${server.httpUrl}/api/v1  (Authorization: Bearer <token from ${server.adminTokenFile}>)
    MQTT broker  ${server.mqttUrl}
    signing key  ${server.keyId}
    try in another terminal:  npx edgeloop devices   ·   npx edgeloop telemetry --limit 5`);

// Each version with its training metrics and training summary: the drift and live-error baseline.
const metadataOf = (version: 'v1' | 'v2') =>
  JSON.parse(readFileSync(SAMPLE_VERSION_METADATA[version], 'utf8')) as object;
const v1 = await server.registry.register({
  name: 'distance',
  bytes: readFileSync(SAMPLE_MODELS.v1),
  metadata: metadataOf('v1'),
});
say(`registered model distance v${v1.version} (sha256 ${v1.sha256.slice(0, 12)}, signed by ${v1.keyId})`);

const hardware = (deviceId: string) => (deviceId.includes('jetson') ? 'jetson-orin' : 'raspberrypi4');

/** Enrolls a simulated device as a real one would: a one-use enrollment token traded for credentials. */
async function enroll(deviceId: string): Promise<{ username: string; password: string }> {
  const { token } = await server.identity.enrollmentTokens.create(
    { uses: 1, group: 'demo', tags: { hw: hardware(deviceId) } },
    'npm-start',
  );
  const { username, password } = await server.identity.enroll({ token, deviceId });
  return { username, password };
}

const cars = await startSimulatedFleet({
  scenario: 'baseline',
  deviceIds: DEVICES,
  seed: 1,
  dataDir: join(dataDir, 'devices'),
  fleet: { mqttUrl: server.mqttUrl, httpUrl: server.httpUrl, trustedKeys: [server.publicKey] },
  enroll,
  sensorCredentials: sensorLogin,
  agent: (deviceId) => ({ hardware: hardware(deviceId) }),
  log: log.child({ part: 'agent' }),
});
for (const agent of cars.agents) say(`agent ${agent.deviceId} started, local API ${agent.apiUrl}`);

// Devices become assignable once their birth has arrived.
const until = Date.now() + 10_000;
const allOnline = async () => (await Promise.all(DEVICES.map((d) => server.devices.get(d)))).every((d) => d?.online);
while (!(await allOnline()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
await server.deployments.assign('distance', v1.version, DEVICES);
say(`deployed distance v${v1.version} to ${DEVICES.join(', ')}`);

// The cameras: each car posts its rendered frame to its agent 4 times a second, and its ToF
// sensor publishes the distance it measured, which the agent joins as the reference value.
cars.run();
say('simulated cars driving: frames at 4/s per car, ToF readings on site/tof/<device>');
let stopping = false;

const canaryAfter = (num(values['canary-after'], 'canary-after') ?? 25) * 1000;
let rolloutId: string | undefined;
const canaryTimer = setTimeout(async () => {
  const v2 = await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v2),
    metadata: { ...metadataOf('v2'), lineage: { parent: v1.version, trigger: 'demo' } },
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
  await cars.close();
  await server.close();
  say('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('Ctrl-C'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
const duration = num(values.duration, 'duration');
if (duration !== undefined) setTimeout(() => void shutdown(`ran for ${duration}s`), duration * 1000);
say('running — Ctrl-C to stop');
