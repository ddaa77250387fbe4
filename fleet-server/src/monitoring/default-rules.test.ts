/**
 * The default rule set on the real metric catalogue: 30 simulated minutes of stable data from 10
 * devices at 4 frames/s raise nothing, and each kind of shift (covariate, label, concept) fires
 * its rule within 60 s of onset.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { binSpecFor, FEATURE_EDGES, histogramOf, valueEdges, type TrainingSummary } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import { keptLogger, MemoryRollups } from './monitoring-test-kit.js';
import { Monitoring } from './monitoring-service.js';
import { catalogueMetrics } from './store-sources.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-default-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** mulberry32 with Box-Muller: the same numbers on every run. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

interface Shift {
  feature?: number;
  output?: number;
  /** Added to the reference value only (the model is now wrong by this much). */
  concept?: number;
}

function sample(g: () => number, shift: Shift) {
  const sat = 0.5 + 0.08 * g() + (shift.feature ?? 0);
  const bright = 0.5 + 0.1 * g() + (shift.feature ?? 0);
  const truth = 150 + 30 * g() + (shift.output ?? 0);
  const prediction = truth + 5 * g();
  return { features: { saturation: sat, brightness: bright }, prediction, reference: truth + (shift.concept ?? 0) };
}

const T0 = 1_800_000_000_000;
const SIM_MS = 30 * 60_000;

async function simulate(shiftAt: number | null, shift: Shift, seed: number) {
  const g = gaussian(seed);
  const training = Array.from({ length: 20_000 }, () => sample(g, {}));
  const outputEdges = valueEdges(50, 250);
  const summary: TrainingSummary = {
    count: training.length,
    features: {
      saturation: histogramOf(
        training.map((r) => r.features.saturation),
        FEATURE_EDGES.saturation!,
      ),
      brightness: histogramOf(
        training.map((r) => r.features.brightness),
        FEATURE_EDGES.brightness!,
      ),
    },
    prediction: histogramOf(
      training.map((r) => r.prediction),
      outputEdges,
    ),
    reference: histogramOf(
      training.map((r) => r.reference),
      outputEdges,
    ),
  };
  const spec = binSpecFor(summary);
  const store = await openFleetStore({ sqlitePath: join(dir, `fleet-${++n}.db`) });
  const rollups = new MemoryRollups(spec);
  let now = T0;
  const monitoring = new Monitoring({
    repo: store.monitoring,
    log: keptLogger().log,
    now: () => now,
    engine: {
      rollups,
      metrics: catalogueMetrics,
      versions: {
        versions: async () => [{ model: 'cam', version: 1, spec, trainingSummary: summary, validationMae: 4 }],
      },
    },
  });
  const end = shiftAt === null ? T0 + SIM_MS : shiftAt + 120_000;
  while (now < end) {
    const shifted = shiftAt !== null && now >= shiftAt;
    for (let d = 0; d < 10; d++)
      for (let f = 0; f < 4; f++) rollups.add('cam', 1, `cam-${d}`, now + f * 250, sample(g, shifted ? shift : {}));
    now += 1000;
    if ((now - T0) % 5000 === 0) await monitoring.engine!.tick();
  }
  const alerts = await store.monitoring.listAlerts({ limit: 1000 });
  await store.close();
  return alerts;
}

test('30 simulated minutes of stable data: the default rules raise nothing', { timeout: 120_000 }, async () => {
  const alerts = await simulate(null, {}, 7);
  assert.deepEqual(
    alerts.map((a) => `${a.rule} ${a.state} ${a.value}`),
    [],
  );
});

const firstFiring = (alerts: Awaited<ReturnType<typeof simulate>>, rule: string) =>
  alerts.find((a) => a.rule === rule && a.firedAt !== null);

for (const [kind, shift, rule] of [
  ['covariate shift', { feature: 0.2 }, 'default.feature-drift'],
  ['label shift', { output: 60 }, 'default.label-shift'],
  ['concept drift', { concept: 25 }, 'default.live-error'],
] as const) {
  test(`${kind} fires ${rule} within 60 s of onset`, { timeout: 120_000 }, async () => {
    const onset = T0 + 10 * 60_000;
    const alerts = await simulate(onset, shift, 11);
    const fired = firstFiring(alerts, rule);
    assert.ok(fired, `${rule} fired; got ${alerts.map((a) => a.rule).join(', ') || 'nothing'}`);
    assert.ok(fired.firedAt! - onset <= 60_000, `${rule} fired ${(fired.firedAt! - onset) / 1000} s after onset`);
    assert.ok(
      alerts.every((a) => (a.firedAt ?? a.since) >= onset),
      'nothing before the onset',
    );
  });
}
