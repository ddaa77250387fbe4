/**
 * @module sim
 * `npm run sim`: a fleet server (embedded broker, status page) and N simulated cars on one
 * machine. Each car is a real agent fed by the simulator: rendered rear-camera frames posted to
 * its local API at the scenario's frame rate, and a ToF sensor on the fleet broker as its
 * reference. The sample model is registered, signed and deployed; the scenario's phases advance
 * on the clock; every few seconds a line shows the phase, the frames and the live error
 * against the sensor.
 *
 *   npm run sim -- --scenario baseline --devices 4 [--duration S] [--seed N] [--sample-every N]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import {
  removeServerInfo,
  startFleetServer,
  writeServerInfo,
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
} from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { builtinScenarios, loadScenario, ScenarioError } from '@edgeloop/simulator';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';
import { preferredPort } from './demo/ports.js';

const USAGE = `usage: npm run sim -- [--scenario NAME|FILE] [--devices N] [--duration SECONDS] [--seed N]
         [--sample-every N] [--data DIR] [--http-port N] [--mqtt-port N] [--log-level warn]
  --scenario      a shipped scenario (${builtinScenarios().join(', ')}) or a .yaml/.json file; default baseline
  --devices       simulated cars, each a real agent; default 4
  --sample-every  each agent keeps every Nth frame for retraining and uploads it (0: off); default 4`;

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        scenario: { type: 'string', default: 'baseline' },
        devices: { type: 'string', default: '4' },
        duration: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'sample-every': { type: 'string', default: '4' },
        data: { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
function whole(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`error: --${name} must be a whole number from ${min} to ${max}, got "${v}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const deviceCount = whole(values.devices, 'devices', 1, 200)!;
const seed = whole(values.seed, 'seed', 0, 2 ** 31)!;
const sampleEvery = whole(values['sample-every'], 'sample-every', 0, 1_000_000)!;
const duration = whole(values.duration, 'duration', 1, 30 * 86_400);
let scenario;
try {
  scenario = loadScenario(values.scenario);
} catch (err) {
  if (!(err instanceof ScenarioError)) throw err;
  console.error(`error: ${err.message}`);
  process.exit(2);
}

const dataDir = resolve(values.data ?? '.edgeloop/sim');
const log = pino({ level: values['log-level'] ?? 'warn' });
const started = Date.now();
const say = (msg: string) => console.log(`[sim ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

say(`fresh simulator state in ${dataDir}`);
rmSync(dataDir, { recursive: true, force: true });
// The sensors publish on the fleet broker as the integrator's full-access user; its password is
// made here so the simulator can hand it to them (devices themselves cannot publish there).
const sensorLogin = { username: 'edgeloop-server', password: randomBytes(24).toString('hex') };
const server = await startFleetServer(
  {
    dataDir: join(dataDir, 'fleet'),
    http: { port: whole(values['http-port'], 'http-port', 0, 65535) ?? (await preferredPort(DEFAULT_HTTP_PORT)) },
    mqtt: {
      mode: 'embedded',
      port: whole(values['mqtt-port'], 'mqtt-port', 0, 65535) ?? (await preferredPort(DEFAULT_MQTT_PORT)),
      serverPassword: sensorLogin.password,
    },
  },
  log.child({ part: 'fleet' }),
);
// Removed on a clean stop, so the CLI in this directory does not keep naming a server that is gone.
const cliServerFile = writeServerInfo(
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
    status page  ${server.httpUrl}/#token=${server.adminToken ?? `(see ${server.adminTokenFile})`}
    REST API     ${server.httpUrl}/api/v1
    MQTT broker  ${server.mqttUrl}  (sensors on site/tof/<device>)`);

const metadata = JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as unknown;
const model = await server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata });
say(`registered distance v${model.version} (signed by ${model.keyId})`);

const deviceIds = Array.from({ length: deviceCount }, (_, i) => `sim-car-${i + 1}`);
/** Live error per device since the last status line: |prediction − sensor reading|. */
const errors = new Map<string, number[]>();
const fleet = await startSimulatedFleet({
  scenario,
  deviceIds,
  seed,
  dataDir: join(dataDir, 'devices'),
  fleet: { mqttUrl: server.mqttUrl, httpUrl: server.httpUrl, trustedKeys: [server.publicKey] },
  async enroll(deviceId) {
    const { token } = await server.identity.enrollmentTokens.create(
      { uses: 1, group: 'sim', tags: { scenario: scenario.name } },
      'npm-run-sim',
    );
    const { username, password } = await server.identity.enroll({ token, deviceId });
    return { username, password };
  },
  sensorCredentials: sensorLogin,
  agent: {
    ...(sampleEvery > 0 ? { sampling: { everyN: sampleEvery, upload: 'with-sync' } } : {}),
  },
  log: log.child({ part: 'agent' }),
  onFrame(deviceId, f) {
    if (f.prediction === undefined) return;
    const list = errors.get(deviceId) ?? [];
    list.push(Math.abs(f.prediction - f.readingMm));
    errors.set(deviceId, list);
  },
});
say(
  `${deviceCount} simulated cars started (real agents), scenario "${scenario.name}": ${scenario.phases
    .map((p) => `${p.name}${Number.isFinite(p.end) ? ` until ${p.end}s` : ''}`)
    .join(', ')}`,
);

const until = Date.now() + 15_000;
const online = async () => (await Promise.all(deviceIds.map((d) => server.devices.get(d)))).every((d) => d?.online);
while (!(await online()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
await server.deployments.assign('distance', model.version, deviceIds);
const serving = async () =>
  (await Promise.all(deviceIds.map((d) => server.devices.get(d)))).every((d) => (d?.models.length ?? 0) > 0);
while (!(await serving()) && Date.now() < until + 15_000) await new Promise((r) => setTimeout(r, 50));
say(`deployed distance v${model.version}; cameras on at ${scenario.fps} frames/s per car`);
fleet.run();
let previousPhase = fleet.clock().phase;
say(`phase "${previousPhase}" begins`);

/** Kept inputs the fleet holds (up to the listing's cap), when sampling is on. */
async function samplesAtFleet(): Promise<string> {
  if (sampleEvery === 0) return '';
  const res = await fetch(`${server.httpUrl}/api/v1/samples?limit=10000`, {
    headers: { authorization: `Bearer ${server.adminToken ?? ''}` },
  }).catch(() => undefined);
  if (!res?.ok) return '';
  const n = ((await res.json()) as { samples: unknown[] }).samples.length;
  return `; ${n === 10_000 ? '≥ ' : ''}${n} samples at the fleet`;
}

const status = setInterval(async () => {
  const { t, phase } = fleet.clock();
  if (phase !== previousPhase) say(`phase "${phase}" begins`);
  previousPhase = phase;
  const stats = fleet.stats();
  const all = [...errors.values()].flat();
  const mae = all.length ? (all.reduce((s, e) => s + e, 0) / all.length).toFixed(1) : '—';
  errors.clear();
  const frames = Object.values(stats);
  const predicted = frames.reduce((s, f) => s + f.predicted, 0);
  const failed = frames.reduce((s, f) => s + f.failed, 0);
  const skipped = frames.reduce((s, f) => s + f.skipped, 0);
  const fps = t > 0 ? predicted / deviceCount / t : 0;
  const problem = frames.find((f) => f.lastError)?.lastError;
  const samples = await samplesAtFleet();
  say(
    `${phase}: ${predicted} frames predicted (${fps.toFixed(2)}/s per car), ${failed} refused, ${skipped} skipped; live MAE vs sensor ${mae} mm${samples}${problem ? `; last refusal: ${problem}` : ''}`,
  );
}, 5000);

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(status);
  say(`${reason}; stopping…`);
  await fleet.close();
  await server.close();
  removeServerInfo(cliServerFile);
  say('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('Ctrl-C'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
if (duration !== undefined) setTimeout(() => void shutdown(`ran for ${duration}s`), duration * 1000);
say('running — Ctrl-C to stop');
