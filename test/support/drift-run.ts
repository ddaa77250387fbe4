/**
 * @module support/drift-run
 * One monitoring run of the simulated world, shared by the drift acceptance test and the
 * detection benchmarks: a fleet server (embedded broker, SQLite) whose rule engine runs on the
 * simulation's clock, the trained sample v1 registered with its training metrics and baseline,
 * N simulated cars (each a real agent) serving it, and one shipped scenario played with
 * compressed time. It watches the alerts the fleet raises (server rules and the devices' own)
 * and says when each rule first fired, in simulated seconds after the drift's onset and in wall
 * seconds.
 *
 * Simulated time: records carry the frames' simulated capture times and the ToF readings' ts, so
 * rollup windows, rule windows and for-durations all count simulated seconds (the engine's
 * clock is the simulation's). Wall seconds are reported beside them.
 *
 * A device can be cut off for a stretch (its fleet link goes through a LinkCutter), to show
 * what it detects on its own and that its alerts arrive when it is back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfigInput } from '@edgeloop/agent';
import { SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import type { AlertView, IncidentView } from '@edgeloop/protocol/rest';
import { loadScenario } from '@edgeloop/simulator';
import { startSimulatedFleet, type SimulatedFleet } from '@edgeloop/simulator/fleet';
import { getJson, TEST_MQTT_SERVER } from './fleet-client.js';
import { startTestFleet, type TestFleet } from './in-process-fleet.js';
import { startLinkCutter, type LinkCutter } from './link-cutter.js';

export interface DriftRunOptions {
  /** A shipped scenario (simulator/scenarios). */
  scenario: string;
  devices: number;
  /** Simulated seconds per wall second. */
  timeScale: number;
  /** Simulated seconds to run at most. */
  durationSeconds: number;
  /** Stop as soon as these rules have fired (server alerts, or device alerts by rule name). */
  stopWhenFired?: readonly string[];
  /** Stop as soon as this holds of what fired so far (and a cut-off device is back). */
  until?: (fired: readonly FiredRule[]) => boolean;
  /** Agent config per device, merged over the harness's. */
  agent?: (deviceId: string) => Partial<AgentConfigInput>;
  /** Runs with the fleet before it is closed, e.g. to read what it stored. */
  inspect?: (fleet: TestFleet) => Promise<void>;
  seed?: number;
  /**
   * Frame size the cameras render (default: the simulator's, 160 wide, as the sample models'
   * training frames were: another size changes the image features, which is itself a drift).
   */
  width?: number;
  height?: number;
  /** Cut this device's fleet link over [fromSeconds, toSeconds) of simulated time. */
  disconnect?: { device: string; fromSeconds: number; toSeconds: number };
  progress?: (line: string) => void;
}

export interface FiredRule {
  rule: string;
  source: 'server' | 'device';
  scope: string;
  deviceId: string | null;
  /** Data time it fired at, epoch ms. */
  firedAt: number;
  /** Simulated seconds from the drift's onset (negative: before it). */
  afterOnsetS: number | null;
  /** Wall seconds from the onset until the alert was visible through the API. */
  afterOnsetWallS: number | null;
}

export interface DriftRunResult {
  /** Simulated seconds since the cameras started at which the scenario's drift began (null: no drift phase). */
  onsetSeconds: number | null;
  fired: FiredRule[];
  alerts: AlertView[];
  incidents: IncidentView[];
  simSeconds: number;
  wallSeconds: number;
  frames: number;
  deviceIds: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The start of the scenario's second phase: where its drift begins. */
export function onsetOf(scenario: string): number | null {
  const phases = loadScenario(scenario).phases;
  return phases.length > 1 ? phases[1]!.start : null;
}

export async function runDrift(o: DriftRunOptions): Promise<DriftRunResult> {
  const say = o.progress ?? (() => {});
  let sim: SimulatedFleet | undefined;
  const h: TestFleet = await startTestFleet({
    baselineMetadata: JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v1, 'utf8')),
    parts: { monitoringNow: () => (sim ? sim.now() : Date.now()) },
  });
  let cutter: LinkCutter | undefined;
  try {
    const deviceIds = Array.from({ length: o.devices }, (_, i) => `drift-car-${i + 1}`);
    if (o.disconnect) cutter = await startLinkCutter(h.server.mqttUrl);
    say(`starting ${o.devices} agents and cars (${o.scenario}, ×${o.timeScale} time)`);
    sim = await startSimulatedFleet({
      scenario: o.scenario,
      deviceIds,
      seed: o.seed ?? 1,
      dataDir: join(h.dir, 'sim'),
      fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
      enroll: (id) => h.enroll(id),
      sensorCredentials: TEST_MQTT_SERVER,
      ...(o.width !== undefined ? { width: o.width } : {}),
      ...(o.height !== undefined ? { height: o.height } : {}),
      timeScale: o.timeScale,
      durationSeconds: o.durationSeconds,
      // The cut-off car's agent reaches the broker only through the cutter (its sensor too:
      // the ToF binding is on the fleet broker, so offline it has no reference values).
      agent: (id) => ({
        ...o.agent?.(id),
        ...(cutter && id === o.disconnect!.device ? { fleet: { mqttUrl: cutter.url } as never } : {}),
      }),
    });
    for (const id of deviceIds) await h.deploySample(id);
    const onset = onsetOf(o.scenario);
    const wallStart = Date.now();
    sim.run();
    const simEpoch = sim.simEpoch!;
    const seen = new Map<string, FiredRule>();
    const onsetWall = onset === null ? null : wallStart + (onset * 1000) / o.timeScale;
    let lastSay = 0;
    for (;;) {
      const { t } = sim.clock();
      if (o.disconnect && cutter) {
        const off = t >= o.disconnect.fromSeconds && t < o.disconnect.toSeconds;
        if (off && !cutter.isCut) {
          cutter.cut();
          say(`t=${t.toFixed(0)} s: ${o.disconnect.device} cut off`);
        } else if (!off && cutter.isCut) {
          cutter.restore();
          say(`t=${t.toFixed(0)} s: ${o.disconnect.device} back online`);
        }
      }
      const alerts = await listAlerts(h);
      for (const a of alerts) {
        if (a.firedAt === null) continue;
        const key = `${a.source}:${a.rule}:${a.scope}`;
        if (seen.has(key)) continue;
        seen.set(key, {
          rule: a.rule,
          source: a.source,
          scope: a.scope,
          deviceId: a.deviceId,
          firedAt: a.firedAt,
          afterOnsetS: onset === null ? null : (a.firedAt - (simEpoch + onset * 1000)) / 1000,
          afterOnsetWallS: onsetWall === null ? null : (Date.now() - onsetWall) / 1000,
        });
        say(`t=${t.toFixed(0)} s: ${a.source} alert ${a.rule} on ${a.scope} fired`);
      }
      const fired = [...seen.values()];
      const wanted =
        (o.stopWhenFired !== undefined &&
          o.stopWhenFired.length > 0 &&
          o.stopWhenFired.every((r) => fired.some((f) => f.rule === r))) ||
        (o.until !== undefined && o.until(fired));
      const done = t >= o.durationSeconds || (wanted && (!o.disconnect || t >= o.disconnect.toSeconds));
      if (done) break;
      if (Date.now() - lastSay > 15_000) {
        lastSay = Date.now();
        say(`t=${t.toFixed(0)} s simulated (${sim.clock().phase})`);
      }
      await sleep(500);
    }
    const stats = Object.values(sim.stats());
    const result: DriftRunResult = {
      onsetSeconds: onset,
      fired: [...seen.values()].sort((a, b) => a.firedAt - b.firedAt),
      alerts: await listAlerts(h),
      incidents: (await getJson<{ incidents: IncidentView[] }>(`${h.server.httpUrl}/api/v1/incidents?limit=1000`))
        .incidents,
      simSeconds: sim.clock().t,
      wallSeconds: (Date.now() - wallStart) / 1000,
      frames: stats.reduce((n, s) => n + s.predicted, 0),
      deviceIds,
    };
    await o.inspect?.(h);
    return result;
  } finally {
    await sim?.close();
    await cutter?.close();
    await h.close();
  }
}

async function listAlerts(h: TestFleet): Promise<AlertView[]> {
  return (await getJson<{ alerts: AlertView[] }>(`${h.server.httpUrl}/api/v1/alerts?limit=1000`)).alerts;
}
