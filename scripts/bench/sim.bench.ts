/**
 * @module bench/sim
 * sim.device_fps: frames per second each simulated car sustains with 10 cars and their agents
 * running (target ≥ 4, the origin's camera rate). Everything runs in this process, as
 * `npm run sim` does: the fleet server with its embedded broker, 10 real agents (ONNX Runtime,
 * SQLite buffers, MQTT links, reference bindings), and the simulator rendering, encoding and
 * posting each frame and publishing each ToF reading. The figure is the slowest car's rate over
 * the measured window (after a warm-up), so one starved device cannot hide behind the mean.
 *
 * Baseline, in the same run: how many frames per second rendering and JPEG encoding alone
 * manage in this process, one after another (the simulator's own ceiling on one core).
 *
 * Env: EDGELOOP_BENCH_SIM_DEVICES (default 10), EDGELOOP_BENCH_SIM_SECONDS (measured window,
 * default 30).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { renderFrame, SceneSampler, loadScenario } from '@edgeloop/simulator';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';
import { startTestFleet } from '@edgeloop/test/support/in-process-fleet';
import { TEST_MQTT_SERVER } from '@edgeloop/test/support/fleet-client';
import type { Bench } from './figure.js';

const DEVICES = Number(process.env.EDGELOOP_BENCH_SIM_DEVICES ?? 10);
const SECONDS = Number(process.env.EDGELOOP_BENCH_SIM_SECONDS ?? 30);
const WARMUP_S = 5;

/** Frames per second of render + JPEG encode alone, over about two seconds. */
async function renderOnlyFps(): Promise<number> {
  const sampler = new SceneSampler(loadScenario('baseline'), { seed: 1 });
  for (let k = 0; k < 20; k++) await renderFrame(sampler.at(k / 4).params); // JIT warm-up
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 2000) await renderFrame(sampler.at(n++ / 4).params);
  return n / ((performance.now() - t0) / 1000);
}

export const simBench: Bench = {
  name: 'sim.device_fps',
  async run(progress) {
    progress('render-only baseline');
    const baseline = await renderOnlyFps();
    const h = await startTestFleet();
    try {
      const ids = Array.from({ length: DEVICES }, (_, i) => `bench-car-${i + 1}`);
      progress(`starting ${DEVICES} agents and simulated cars`);
      const sim = await startSimulatedFleet({
        scenario: 'baseline',
        deviceIds: ids,
        seed: 1,
        dataDir: join(h.dir, 'sim'),
        fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
        enroll: (id) => h.enroll(id),
        sensorCredentials: TEST_MQTT_SERVER,
      });
      try {
        for (const id of ids) await h.deploySample(id);
        sim.run();
        progress(`warm-up ${WARMUP_S} s, then ${SECONDS} s measured`);
        await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
        const before = sim.stats();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        const elapsed = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const after = sim.stats();
        const rates = ids.map((id) => (after[id]!.predicted - before[id]!.predicted) / elapsed);
        const failed = ids.reduce((s, id) => s + after[id]!.failed - before[id]!.failed, 0);
        const skipped = ids.reduce((s, id) => s + after[id]!.skipped - before[id]!.skipped, 0);
        const mean = rates.reduce((s, r) => s + r, 0) / rates.length;
        const cores = (cpu.user + cpu.system) / 1e6 / elapsed;
        const total = rates.reduce((s, r) => s + r, 0);
        // CPU per frame does not depend on what else the machine runs: it says how many cars the
        // cores could carry at 4 frames/s when they are free.
        const cpuMsPerFrame = (cores * 1000) / total;
        const withReference = (await h.server.telemetry.query({ device: ids[0]!, limit: 10_000 })).filter(
          (r) => r.reference !== null,
        ).length;
        return [
          {
            name: 'sim.device_fps',
            value: Math.min(...rates),
            unit: 'frames/s',
            baseline,
            note: `slowest of ${DEVICES} cars over ${SECONDS} s with their agents running (mean ${mean.toFixed(2)}, ${failed} refused, ${skipped} skipped; this process used ${cores.toFixed(2)} cores at load average ${loadavg()[0]!.toFixed(1)}, ${cpuMsPerFrame.toFixed(1)} ms of CPU per frame for simulator, agent and fleet server together; ${withReference} records of ${ids[0]} reached the fleet with a reference); baseline: render + JPEG alone, frames/s on one core`,
          },
        ];
      } finally {
        await sim.close();
      }
    } finally {
      await h.close();
    }
  },
};
