/**
 * @module bench/simulated-fleet
 * Child process running many simulated devices (simulated-device.ts), so the fleet server under
 * test keeps its own core. Usage: `node --import tsx scripts/bench/simulated-fleet.ts <config.json>`
 * with {mqttUrl, trustedKeys: [base64 root keys], transport, devices: [{deviceId, username, password}]}.
 * Prints JSON lines: {"event":"ready"} once every device is connected, subscribed and announced;
 * {"event":"active", …} per activation; {"event":"error", …}. Exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { decodePublicKey, trustedKeyMap } from '@edgeloop/protocol';
import { SimulatedDevice, VerifyCache } from './simulated-device.js';

interface FleetConfig {
  mqttUrl: string;
  trustedKeys: string[];
  transport: 'http' | 'mqtt';
  devices: Array<{ deviceId: string; username: string; password: string }>;
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as FleetConfig;
const rootKeys = trustedKeyMap(config.trustedKeys.map(decodePublicKey));
const cache = process.env.EDGELOOP_BENCH_VERIFY === 'each' ? undefined : new VerifyCache();
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const devices = config.devices.map(
  (d) =>
    new SimulatedDevice({
      ...d,
      mqttUrl: config.mqttUrl,
      rootKeys,
      transport: config.transport,
      ...(cache ? { cache } : {}),
      onActive: (deviceId, model, version) => emit({ event: 'active', deviceId, model, version, ts: Date.now() }),
      onError: (deviceId, reason) => emit({ event: 'error', deviceId, reason }),
    }),
);
// Connect in waves: 1,000 simultaneous CONNECTs only measure the broker's accept queue.
const WAVE = 50;
for (let i = 0; i < devices.length; i += WAVE) await Promise.all(devices.slice(i, i + WAVE).map((d) => d.start()));
emit({ event: 'ready', devices: devices.length });
process.on('SIGTERM', () => {
  void Promise.all(devices.map((d) => d.stop().catch(() => undefined))).then(() => process.exit(0));
});
