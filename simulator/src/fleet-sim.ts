/**
 * @module fleet-sim
 * A simulated fleet: N devices, each a real agent (the agent package started in-process: its own
 * SQLite buffer, ONNX Runtime, MQTT link, local API), with a simulated car (sim-device.ts) whose
 * camera posts frames to that agent's local API and whose ToF sensor publishes on its own MQTT
 * topic. The agent takes the sensor as a reference binding like any integrator's sensor.
 *
 * The caller owns the fleet server: it says where the broker is, how a device enrolls, and
 * which credentials a sensor publisher uses (the broker's integrator user). Start-up is two
 * steps, as on real hardware: `startSimulatedFleet` brings the agents up (they announce
 * themselves; the caller can deploy a model), then `run()` switches the cameras on.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { parseAgentConfig, startAgent, type AgentConfigInput, type RunningAgent } from '@edgeloop/agent';
import { loadScenario, type Scenario } from './scenario/load.js';
import { PhaseSchedule, type PhaseSwitch } from './scenario/schedule.js';
import { phaseAt } from './scenario/timeline.js';
import { RenderPool } from './scene/render-pool.js';
import { SimDevice, type SimDeviceStats, type SimFrame } from './fleet/sim-device.js';

export interface SimulatedFleetOptions {
  /** A shipped scenario's name, a scenario file, or a loaded scenario. */
  scenario: string | Scenario;
  deviceIds: readonly string[];
  seed: number;
  /** Where the agents keep their state (one folder per device). */
  dataDir: string;
  fleet: { mqttUrl: string; httpUrl?: string; trustedKeys: string[] };
  /** Trades a device id for its broker credentials (an enrollment, as a real device does). */
  enroll: (deviceId: string) => Promise<{ username: string; password: string }>;
  /** The sensors' publisher login on the fleet broker (an integrator's user; devices cannot publish there). */
  sensorCredentials: { username: string; password: string };
  /** The model the ToF values are the reference of (default "distance"). */
  model?: string;
  /** Merged into an agent's config (sampling, sync, runtime, hardware, …): one for all, or per device. */
  agent?: Partial<AgentConfigInput> | ((deviceId: string) => Partial<AgentConfigInput>);
  /** Sensor topic of a device (default `site/tof/<device id>`). */
  sensorTopic?: (deviceId: string) => string;
  width?: number;
  height?: number;
  /** Threads drawing the frames (default 1; 0: on the calling thread, beside the agents). */
  renderThreads?: number;
  log?: Logger;
  onFrame?: (deviceId: string, frame: SimFrame) => void;
  /**
   * Compressed time: simulated seconds per wall second (default 1). Frames and readings are then
   * stamped with simulated time, which must never run ahead of the wall clock (an agent refuses
   * sensor readings stamped in its future), so a compressed run also needs `durationSeconds`:
   * simulated time then starts that far in the past and reaches the present as the run ends.
   */
  timeScale?: number;
  /** Simulated seconds the run lasts at most (needed with timeScale > 1). */
  durationSeconds?: number;
  /**
   * timed (default): phases follow the scenario's durations. on-demand: the world stays in
   * `initialPhase` (default the first) until setPhase() switches it, for a harness that changes
   * the world when the fleet has reacted, not on a timer.
   */
  phases?: 'timed' | 'on-demand';
  initialPhase?: string;
}

export type { SimFrame, SimDeviceStats, PhaseSwitch };

export interface SimulatedFleet {
  scenario: Scenario;
  agents: RunningAgent[];
  devices: SimDevice[];
  /** Switches the cameras on; phases count from this moment. */
  run(): void;
  /** Simulated seconds since run(), and the phase now on. */
  clock(): { t: number; phase: string };
  /**
   * On-demand phases only: every car's world changes to `name` from the next whole simulated
   * second on (all cars at the same moment; frames already taken keep theirs). Returns the switch.
   */
  setPhase(name: string): PhaseSwitch;
  /** The on-demand switches so far (the initial phase at 0 first); [] for timed phases. */
  phaseHistory(): PhaseSwitch[];
  /** Simulated time now, epoch ms (the wall clock when time is not compressed): the records' time base. */
  now(): number;
  /** Epoch ms of simulated t = 0 (set by run()). */
  readonly simEpoch: number | undefined;
  stats(): Record<string, SimDeviceStats>;
  close(): Promise<void>;
}

const SENSOR_NAME = 'tof';

export async function startSimulatedFleet(o: SimulatedFleetOptions): Promise<SimulatedFleet> {
  const scenario = typeof o.scenario === 'string' ? loadScenario(o.scenario) : o.scenario;
  const timeScale = o.timeScale ?? 1;
  if (!(timeScale >= 1) || !Number.isFinite(timeScale))
    throw new RangeError(`timeScale must be a finite number ≥ 1, got ${timeScale}`);
  if (timeScale > 1 && !(o.durationSeconds! > 0))
    throw new RangeError(
      'a compressed run (timeScale > 1) needs durationSeconds: simulated time must not overtake the wall clock',
    );
  let simEpoch: number | undefined;
  const schedule = o.phases === 'on-demand' ? new PhaseSchedule(scenario, o.initialPhase) : undefined;
  if (o.initialPhase !== undefined && !schedule)
    throw new RangeError('initialPhase needs phases: "on-demand" (timed phases start with the first)');
  const log = o.log ?? pino({ level: 'silent' });
  const model = o.model ?? 'distance';
  const topicOf = o.sensorTopic ?? ((id: string) => `site/tof/${id}`);
  const agents: RunningAgent[] = [];
  const sensors: MqttClient[] = [];
  const devices: SimDevice[] = [];
  let t0: number | undefined;
  const threads = o.renderThreads ?? 1;
  const pool = threads > 0 ? new RenderPool(threads) : undefined;
  const close = async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await pool?.close();
    await Promise.all(sensors.map((s) => s.endAsync()));
    for (const a of agents) await a.close();
  };

  try {
    for (const [index, deviceId] of o.deviceIds.entries()) {
      const topic = topicOf(deviceId);
      const overrides = (typeof o.agent === 'function' ? o.agent(deviceId) : o.agent) ?? {};
      const config = parseAgentConfig(
        {
          deviceId,
          dataDir: join(o.dataDir, deviceId),
          hardware: 'raspberrypi4',
          api: { port: 0 },
          runtime: { intraOpThreads: 1 },
          ...overrides,
          fleet: { ...o.fleet, ...(await o.enroll(deviceId)), ...overrides.fleet },
          sensors: {
            bindings: [
              {
                name: SENSOR_NAME,
                broker: 'fleet',
                topic,
                payload: { format: 'json', valuePath: 'mm', timestampPath: 'ts' },
                unit: 'mm',
                model,
                // A frame's reading is waiting when its prediction is stored and is the nearest
                // (sim-device.ts): nothing to hold the record for, so the join is final at once
                // and a sample kept from the frame carries that same value.
                join: { by: 'timestamp', windowMs: 1000 },
                holdMs: 0,
              },
            ],
            ...overrides.sensors,
          },
        },
        `simulated device ${deviceId}`,
      );
      const agent = await startAgent(config, log.child({ deviceId }));
      agents.push(agent);
      const sensor = await mqtt.connectAsync(o.fleet.mqttUrl, {
        clientId: `sim-tof-${deviceId}`.slice(0, 128),
        ...o.sensorCredentials,
        reconnectPeriod: 1000,
      });
      sensors.push(sensor);
      devices.push(
        new SimDevice({
          deviceId,
          index,
          devices: o.deviceIds.length,
          scenario,
          ...(schedule ? { schedule } : {}),
          seed: o.seed,
          apiUrl: agent.apiUrl,
          sensor,
          sensorTopic: topic,
          ...(pool ? { render: (params) => pool.renderFrame(params) } : {}),
          ...(o.width !== undefined ? { width: o.width } : {}),
          ...(o.height !== undefined ? { height: o.height } : {}),
          ...(o.onFrame ? { onFrame: (f) => o.onFrame!(deviceId, f) } : {}),
          ...(timeScale > 1 ? { timeScale } : {}),
        }),
      );
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }

  return {
    scenario,
    agents,
    devices,
    run() {
      if (t0 === undefined) {
        t0 = Date.now();
        simEpoch = timeScale > 1 ? Math.floor(t0 - (o.durationSeconds! * 1000 * (timeScale - 1)) / timeScale) : t0;
        for (const d of devices) d.start(t0, timeScale > 1 ? simEpoch : undefined);
      }
    },
    clock() {
      const t = t0 === undefined ? 0 : ((Date.now() - t0) * timeScale) / 1000;
      return { t, phase: (schedule?.at(t) ?? phaseAt(scenario, t)).phase.name };
    },
    setPhase(name) {
      if (!schedule)
        throw new Error(
          'this fleet follows the scenario’s timed phases; start it with phases: "on-demand" to switch them',
        );
      // From the next whole second: no frame at or after it has been drawn yet, so none changes.
      const t = t0 === undefined ? 0 : ((Date.now() - t0) * timeScale) / 1000;
      return schedule.switchTo(name, t0 === undefined ? 0 : Math.floor(t) + 1);
    },
    phaseHistory: () => schedule?.history() ?? [],
    now() {
      return t0 === undefined || simEpoch === undefined ? Date.now() : simEpoch + (Date.now() - t0) * timeScale;
    },
    get simEpoch() {
      return simEpoch;
    },
    stats: () => Object.fromEntries(devices.map((d) => [d.deviceId, { ...d.stats }])),
    close,
  };
}
