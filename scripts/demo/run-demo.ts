/**
 * @module demo/run-demo
 * The origin's evaluation, end to end, in one process and with nobody at the keyboard: a fleet
 * server (SQLite, embedded broker) with the retraining loop enabled for the model by a policy in
 * its config, N simulated cars (each a real agent), and the simulated world switched phase by
 * phase. Phase 1 trains the first version from generated frames and measures it on the baseline
 * world; every later phase changes the world and watches the loop heal it (phase-runner.ts).
 *
 * Time is compressed: the simulation's clock runs `timeScale` times the wall clock, and the
 * server's rule engine runs on it (records carry simulated time), so windows, for-durations and
 * the reported times to detect and recover are simulated seconds. Training, evaluation and the
 * rollout's downloads take wall time, which counts `timeScale` times over in simulated seconds.
 */
import { join } from 'node:path';
import type { FleetConfigInput } from '@edgeloop/fleet-server';
import { createRestClient } from '@edgeloop/protocol/client';
import { startSimulatedFleet, type SimulatedFleet } from '@edgeloop/simulator/fleet';
import { TEST_MQTT_SERVER } from '@edgeloop/test/support/fleet-client';
import { startTestFleet, type TestFleet } from '@edgeloop/test/support/in-process-fleet';
import { DEMO_PHASES, ORIGIN_SCENARIO, phaseById, type PhaseId } from './demo-plan.js';
import { compressedServerConfig, demoPolicy, sloRule } from './demo-policy.js';
import { summarize, type DemoResult, type PhaseResult } from './demo-result.js';
import { FleetReads } from './fleet-reads.js';
import { FrameMeter } from './frame-meter.js';
import { trainInitialModel } from './initial-model.js';
import { runDriftPhase, type PhaseContext, type PhaseTimings } from './phase-runner.js';
import { collectTimeline } from './timeline.js';

export interface DemoOptions {
  /** Simulated cars, each a real agent (default 8). */
  devices?: number;
  /** Phases to play (phase 1 always runs first); default all five. */
  phases?: readonly PhaseId[];
  seed?: number;
  /** Simulated seconds per wall second (default 2). */
  timeScale?: number;
  /** Frames of the initial dataset (default 2,000, as the sample recipe). */
  initialFrames?: number;
  /** Built-in trainer parameters of the initial model over its defaults. */
  initialParams?: Record<string, number | string | boolean>;
  /** Simulated seconds of the baseline world over which phase 1's MAE is measured (default 60). */
  baselineSeconds?: number;
  timings?: Partial<PhaseTimings>;
  /** Rollout strategy of the loop's policy (default canary). */
  strategy?: 'canary' | 'direct';
  /** Wall seconds the simulation may run at most: simulated time must not overtake the wall clock (default 1800). */
  maxWallSeconds?: number;
  progress?: (line: string) => void;
  /** Each phase's result as soon as it is known. */
  onPhase?: (result: PhaseResult) => void;
  /** Runs with the fleet before it is closed (tests, benchmarks: read what it stored). */
  inspect?: (fleet: TestFleet, reads: FleetReads) => Promise<void>;
}

export const DEMO_DEFAULTS = {
  devices: 8,
  seed: 1,
  timeScale: 2,
  initialFrames: 2000,
  baselineSeconds: 60,
  maxWallSeconds: 1800,
  timings: { afterSeconds: 60, preOnsetSeconds: 30, phaseTimeoutSeconds: 600, healSeconds: 180 },
} as const;

const MODEL = 'distance';
/** Buckets of the cars' own live-error line, simulated seconds. */
const FRAME_BUCKET_S = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const devices = o.devices ?? DEMO_DEFAULTS.devices;
  const seed = o.seed ?? DEMO_DEFAULTS.seed;
  const timeScale = o.timeScale ?? DEMO_DEFAULTS.timeScale;
  const phases = [...new Set<PhaseId>([1, ...(o.phases ?? DEMO_PHASES.map((p) => p.id))])].sort((a, b) => a - b);
  const timings: PhaseTimings = { ...DEMO_DEFAULTS.timings, ...o.timings };
  const maxWall = o.maxWallSeconds ?? DEMO_DEFAULTS.maxWallSeconds;
  if (!Number.isInteger(devices) || devices < 1 || devices > 50)
    throw new RangeError(`devices must be a whole number from 1 to 50, got ${devices}`);
  if (!(timeScale >= 1 && timeScale <= 20))
    throw new RangeError(`the time scale must be from 1 to 20 simulated seconds per wall second, got ${timeScale}`);
  const started = Date.now();
  const say = (line: string) => o.progress?.(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

  let sim: SimulatedFleet | undefined;
  const config: Partial<FleetConfigInput> = {
    ...compressedServerConfig(timeScale),
    loop: { policies: [demoPolicy({ model: MODEL, timeScale, ...(o.strategy ? { strategy: o.strategy } : {}) })] },
  };
  say(`starting a fleet server (SQLite, embedded broker) with the retraining loop on for "${MODEL}"`);
  const h: TestFleet = await startTestFleet({
    registerBaseline: false,
    parts: { monitoringNow: () => (sim ? sim.now() : Date.now()) },
    config,
  });
  try {
    const reads = new FleetReads(h.server.httpUrl, h.adminToken, MODEL);
    const client = createRestClient({
      baseUrl: h.server.httpUrl,
      headers: { authorization: `Bearer ${h.adminToken}` },
    });

    // Phase 1: the first version, trained from generated baseline frames.
    const initial = await trainInitialModel({
      httpUrl: h.server.httpUrl,
      token: h.adminToken,
      datasets: h.server.datasets,
      workDir: h.dir,
      model: MODEL,
      frames: o.initialFrames ?? DEMO_DEFAULTS.initialFrames,
      seed,
      ...(o.initialParams ? { params: o.initialParams } : {}),
      progress: (l) => say(`phase 1: ${l}`),
    });

    const deviceIds = Array.from({ length: devices }, (_, i) => `car-${i + 1}`);
    const meter = new FrameMeter(FRAME_BUCKET_S, 4);
    say(`starting ${devices} simulated cars (real agents), time ×${timeScale}`);
    sim = await startSimulatedFleet({
      scenario: ORIGIN_SCENARIO,
      phases: 'on-demand',
      initialPhase: 'baseline',
      deviceIds,
      seed,
      dataDir: join(h.dir, 'sim'),
      fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
      enroll: (id) => h.enroll(id),
      sensorCredentials: TEST_MQTT_SERVER,
      timeScale,
      durationSeconds: maxWall * timeScale,
      // Keep (and upload) inputs while the fleet asks for them: the loop's capture windows.
      agent: { sampling: { captureOnRequest: true } },
      onFrame: (_id, f) => meter.add(f.k, f.prediction, f.readingMm, f.version),
    });
    const fps = sim.scenario.fps;
    if (fps !== 4) throw new Error(`the demo expects the ${ORIGIN_SCENARIO} scenario at 4 frames/s, got ${fps}`);

    await waitUntil('every car online', 60_000, async () => {
      const { devices: seen } = await client.listDevices();
      return deviceIds.every((id) => seen.some((d) => d.id === id && d.online));
    });
    await client.deploy({ body: { model: MODEL, version: initial.version, devices: deviceIds } });
    await waitUntil(`every car running v${initial.version}`, 60_000, async () =>
      [...(await reads.runningVersions(deviceIds)).values()].every((v) => v === initial.version),
    );
    say(`phase 1: v${initial.version} deployed directly to ${devices} cars; cameras on (baseline world)`);
    sim.run();
    const simEpoch = sim.simEpoch!;
    const phase1Wall = Date.now();
    const baselineS = o.baselineSeconds ?? DEMO_DEFAULTS.baselineSeconds;
    let lastSay = Date.now();
    while (sim.clock().t < baselineS) {
      await sleep(250);
      if (Date.now() - lastSay >= 5000) {
        lastSay = Date.now();
        const t = sim.clock().t;
        const { mae } = meter.mae(t - 10 - FRAME_BUCKET_S, t);
        say(
          `phase 1: t=${t.toFixed(0)} s of ${baselineS} on the baseline world, live MAE ${mae?.toFixed(1) ?? '—'} mm`,
        );
      }
    }
    // Records reach the server a moment after their frame: give the last ones time to arrive.
    await sleep(1500);
    const p1 = await reads.liveMae(initial.version, simEpoch);
    const results: PhaseResult[] = [
      {
        kind: 'phase',
        phase: 1,
        name: phaseById(1).name,
        drift: phaseById(1).drift,
        world: phaseById(1).world,
        outcome: 'baseline',
        onsetAt: simEpoch,
        onsetS: 0,
        previousVersion: null,
        maeBefore: null,
        nBefore: 0,
        maeAfter: p1.mae,
        nAfter: p1.n,
        detectS: null,
        recoverS: null,
        version: initial.version,
        loopRunId: null,
        incidentId: null,
        rule: null,
        detectedBy: null,
        runState: null,
        resolvedBy: null,
        note: `trained on ${o.initialFrames ?? DEMO_DEFAULTS.initialFrames} generated frames (dataset ${initial.datasetId}, job ${initial.jobId}) in ${initial.seconds.train.toFixed(0)} s wall`,
        detectedAt: null,
        activeAt: simEpoch,
        alerts: [],
        otherRuns: [],
        steps: [],
        gate: null,
        wallSeconds: (Date.now() - started) / 1000,
      },
    ];
    o.onPhase?.(results[0]!);
    say(
      `phase 1: MAE ${p1.mae?.toFixed(2) ?? '—'} mm over ${p1.n} records (${((Date.now() - phase1Wall) / 1000).toFixed(0)} s wall)`,
    );
    if (p1.mae === null)
      throw new Error('phase 1 measured no live error: no record with a reference value reached the fleet');
    // The operator's service level, set once the first version is measured (demo-policy.ts).
    const slo = sloRule(p1.mae, MODEL);
    await client.putRule({ body: slo });
    say(`rule ${slo.rule.name}: a live MAE above 1.5 × phase 1 starts a retraining too`);

    const ctx: PhaseContext = { sim, reads, deviceIds, meter, serving: initial.version, timings, say };
    for (const id of phases) {
      if (id === 1) continue;
      const r = await runDriftPhase(ctx, phaseById(id));
      results.push(r);
      o.onPhase?.(r);
    }

    say('reading the series and histograms for the report');
    const timeline = await collectTimeline({
      reads,
      phases: results,
      simEpoch,
      end: sim.now(),
      afterSeconds: timings.afterSeconds,
      frames: meter.toBuckets(),
      frameBucketSeconds: FRAME_BUCKET_S,
      switches: sim.phaseHistory(),
    });
    const summary = summarize(results, {
      phase1ValidationMae: initial.validationMae,
      devices,
      seed,
      timeScale,
      simSeconds: sim.clock().t,
      wallSeconds: (Date.now() - started) / 1000,
      frames: Object.values(sim.stats()).reduce(
        (a, st) => ({
          predicted: a.predicted + st.predicted,
          failed: a.failed + st.failed,
          skipped: a.skipped + st.skipped,
        }),
        { predicted: 0, failed: 0, skipped: 0 },
      ),
    });
    await o.inspect?.(h, reads);
    return { phases: results, summary, timeline };
  } finally {
    await sim?.close();
    await h.close();
  }
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}
