/**
 * @module sim
 * `npm run sim`: N simulated cars on one machine, each a real agent fed by the simulator
 * (rendered rear-camera frames posted to its local API at the scenario's frame rate, a ToF
 * sensor on the fleet broker as its reference), against a fleet server of its own (fresh, the
 * sample model registered, signed and deployed) or one already running (--fleet). The
 * scenario's phases advance on the clock; every 5 s a line shows the phase, the frames and the
 * live error against the sensor per model version.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { builtinScenarios, loadScenario, ScenarioError, type Scenario } from '@edgeloop/simulator';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';
import { ownFleet, remoteFleet, type FleetTarget } from './sim/fleet-target.js';

const USAGE = `usage: npm run sim -- [--scenario NAME|FILE] [--devices N] [--duration SECONDS] [--seed N]
         [--sample-every N] [--data DIR] [--http-port N] [--mqtt-port N] [--log-level warn]
         [--fleet URL [--token T] [--sensor-password P]] [--model NAME@VERSION]
  --scenario         a shipped scenario (${builtinScenarios().join(', ')}) or a .yaml/.json file; default baseline
  --devices          simulated cars, each a real agent; default 4
  --sample-every     each agent keeps every Nth frame for retraining and uploads it (0: off); default 4
  --data             simulator state (default .edgeloop/sim): fresh each run with its own server, kept with --fleet
  --fleet            a running fleet server's URL instead of a fresh one; admin token from --token or
                     EDGELOOP_TOKEN, the broker login of the sensors from --sensor-password or
                     EDGELOOP_MQTT_SERVER_PASSWORD (the server's mqtt.serverPassword)
  --model            deploy this model version to the cars (default with a fresh server: distance@1;
                     with --fleet: none, deploy as you like)`;

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

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
        fleet: { type: 'string' },
        token: { type: 'string' },
        'sensor-password': { type: 'string' },
        model: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
function whole(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}
const deviceCount = whole(values.devices, 'devices', 1, 200)!;
const seed = whole(values.seed, 'seed', 0, 2 ** 31)!;
const sampleEvery = whole(values['sample-every'], 'sample-every', 0, 1_000_000)!;
const duration = whole(values.duration, 'duration', 1, 30 * 86_400);
let deployRequest: { name: string; version: number } | undefined;
if (values.model !== undefined) {
  const m = /^([A-Za-z0-9_.-]{1,64})@(\d+)$/.exec(values.model);
  if (!m) fail(`--model must be NAME@VERSION, e.g. distance@3, got "${values.model}"`);
  deployRequest = { name: m[1]!, version: Number(m[2]) };
}
let scenario: Scenario;
try {
  scenario = loadScenario(values.scenario);
} catch (err) {
  if (!(err instanceof ScenarioError)) throw err;
  fail(err.message);
}

const dataDir = resolve(values.data ?? '.edgeloop/sim');
const log = pino({ level: values['log-level'] ?? 'warn' });
const started = Date.now();
const say = (msg: string) => console.log(`[sim ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

let target: FleetTarget;
if (values.fleet !== undefined) {
  // The cars keep their state and credentials between runs against the same fleet, as devices do.
  say(`simulator state in ${dataDir} (kept between runs against ${values.fleet})`);
  const token = values.token ?? process.env.EDGELOOP_TOKEN;
  const sensorPassword = values['sensor-password'] ?? process.env.EDGELOOP_MQTT_SERVER_PASSWORD;
  if (!token) fail('--fleet needs an admin token: --token or EDGELOOP_TOKEN');
  if (!sensorPassword)
    fail(
      "--fleet needs the broker login the sensors publish with: --sensor-password or EDGELOOP_MQTT_SERVER_PASSWORD (the server's mqtt.serverPassword)",
    );
  target = await remoteFleet({
    httpUrl: values.fleet,
    adminToken: token,
    sensorPassword,
    credentialsDir: join(dataDir, 'credentials'),
  });
} else {
  say(`fresh simulator state in ${dataDir}`);
  rmSync(dataDir, { recursive: true, force: true });
  const own = await ownFleet({
    dataDir,
    ...(values['http-port'] !== undefined ? { httpPort: whole(values['http-port'], 'http-port', 0, 65535)! } : {}),
    ...(values['mqtt-port'] !== undefined ? { mqttPort: whole(values['mqtt-port'], 'mqtt-port', 0, 65535)! } : {}),
    announce: values.data === undefined,
    log: log.child({ part: 'fleet' }),
  });
  target = own.target;
  deployRequest ??= { name: 'distance', version: own.version };
}
say(target.describe());

const deviceIds = Array.from({ length: deviceCount }, (_, i) => `sim-car-${i + 1}`);
/** Live error per model version since the last status line: |prediction − sensor reading|. */
const errors = new Map<number, number[]>();
const fleet = await startSimulatedFleet({
  scenario,
  deviceIds,
  seed,
  dataDir: join(dataDir, 'devices'),
  fleet: { mqttUrl: target.mqttUrl, httpUrl: target.httpUrl, trustedKeys: [target.publicKey] },
  enroll: (deviceId) => target.enroll(deviceId, 'sim'),
  sensorCredentials: target.sensorLogin,
  agent: sampleEvery > 0 ? { sampling: { everyN: sampleEvery, upload: 'with-sync' } } : {},
  log: log.child({ part: 'agent' }),
  onFrame(_deviceId, f) {
    if (f.prediction === undefined || f.version === undefined) return;
    const list = errors.get(f.version) ?? [];
    list.push(Math.abs(f.prediction - f.readingMm));
    errors.set(f.version, list);
  },
});
say(
  `${deviceCount} simulated cars started (real agents, group "sim"), scenario "${scenario.name}": ${scenario.phases
    .map((p) => `${p.name}${Number.isFinite(p.end) ? ` until ${p.end}s` : ''}`)
    .join(', ')}`,
);
if (deployRequest) {
  await target.deploy(deployRequest.name, deployRequest.version, deviceIds);
  say(`deployed ${deployRequest.name} v${deployRequest.version} to the cars`);
}
fleet.run();
let previousPhase = fleet.clock().phase;
say(`cameras on at ${scenario.fps} frames/s per car; phase "${previousPhase}" begins`);

/** Kept inputs the fleet holds (up to the listing's cap), when sampling is on. */
async function samplesAtFleet(): Promise<string> {
  if (sampleEvery === 0) return '';
  const res = await fetch(`${target.httpUrl}/api/v1/samples?limit=10000`, {
    headers: { authorization: `Bearer ${target.adminToken}` },
  }).catch(() => undefined);
  if (!res?.ok) return '';
  const n = ((await res.json()) as { samples: unknown[] }).samples.length;
  return `; ${n === 10_000 ? '≥ ' : ''}${n} samples at the fleet`;
}

const status = setInterval(async () => {
  const { t, phase } = fleet.clock();
  if (phase !== previousPhase) say(`phase "${phase}" begins`);
  previousPhase = phase;
  const frames = Object.values(fleet.stats());
  const predicted = frames.reduce((s, f) => s + f.predicted, 0);
  const failed = frames.reduce((s, f) => s + f.failed, 0);
  const skipped = frames.reduce((s, f) => s + f.skipped, 0);
  const fps = t > 0 ? predicted / deviceCount / t : 0;
  const problem = frames.find((f) => f.lastError)?.lastError;
  const mae =
    [...errors]
      .sort(([a], [b]) => a - b)
      .map(([v, e]) => `v${v} ${(e.reduce((s, x) => s + x, 0) / e.length).toFixed(1)} mm (${e.length})`)
      .join(', ') || '—';
  errors.clear();
  const samples = await samplesAtFleet();
  say(
    `${phase}: ${predicted} frames predicted (${fps.toFixed(2)}/s per car), ${failed} refused, ${skipped} skipped; live MAE vs sensor ${mae}${samples}${problem ? `; last refusal: ${problem}` : ''}`,
  );
}, 5000);

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(status);
  say(`${reason}; stopping…`);
  await fleet.close();
  await target.close();
  say('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('Ctrl-C'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
if (duration !== undefined) setTimeout(() => void shutdown(`ran for ${duration}s`), duration * 1000);
say('running — Ctrl-C to stop');
