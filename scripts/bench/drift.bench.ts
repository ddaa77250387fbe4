/**
 * @module bench/drift
 * How fast the fleet notices drift, and whether it cries wolf, with the simulator: 10 cars (each a
 * real agent serving the trained sample v1, whose training baseline and validation MAE come with
 * it) and the fleet server's default rules, in compressed simulated time (support/drift-run.ts).
 *
 * fleet.detect_latency_s: simulated seconds from a drift's onset to the first firing alert of the
 *   rule that matches it, worst of the three origin drifts: label shift (default.label-range or
 *   default.label-shift), covariate shift (default.feature-drift) and concept drift
 *   (default.live-error). Target ≤ 60,
 *   goal ≤ 30. Baseline: the same for the earliest alert of any rule in the same runs.
 * fleet.false_alerts_30min: alerts (server and device) raised in 30 simulated minutes of the
 *   baseline scenario, which has no drift. Target 0. Baseline: the rule evaluations made in that
 *   run (each was a chance to raise one).
 *
 * Env: EDGELOOP_BENCH_DRIFT_DEVICES (default 10), EDGELOOP_BENCH_DRIFT_SCALE (simulated seconds per
 * wall second, default 2: what 2 cores sustain for 10 cars at 4 frames/s), EDGELOOP_BENCH_QUIET_MINUTES
 * (default 30).
 */
import { runDrift, type DriftRunResult } from '@edgeloop/test/support/drift-run';
import type { Bench } from './figure.js';

const DEVICES = Number(process.env.EDGELOOP_BENCH_DRIFT_DEVICES ?? 10);
const SCALE = Number(process.env.EDGELOOP_BENCH_DRIFT_SCALE ?? 2);
const QUIET_MINUTES = Number(process.env.EDGELOOP_BENCH_QUIET_MINUTES ?? 30);

/** The drifts of the origin's evaluation and the default rule each must fire. */
export const DRIFTS: ReadonlyArray<{ scenario: string; rules: readonly string[] }> = [
  { scenario: 'label-shift', rules: ['default.label-range', 'default.label-shift'] },
  { scenario: 'covariate-shift', rules: ['default.feature-drift'] },
  { scenario: 'concept-drift', rules: ['default.live-error'] },
];

export const detectLatencyBench: Bench = {
  name: 'fleet.detect_latency_s',
  async run(progress) {
    const lines: string[] = [];
    let worst = 0;
    let earliestWorst = 0;
    for (const d of DRIFTS) {
      const r: DriftRunResult = await runDrift({
        scenario: d.scenario,
        devices: DEVICES,
        timeScale: SCALE,
        // 120 s of baseline, then up to 2 minutes for the alert.
        durationSeconds: 240,
        until: (fired) => fired.some((f) => f.source === 'server' && d.rules.includes(f.rule)),
        progress: (l) => progress(`${d.scenario}: ${l}`),
      });
      const hit = r.fired.find((f) => f.source === 'server' && d.rules.includes(f.rule));
      const first = r.fired.find((f) => (f.afterOnsetS ?? -1) >= 0);
      const latency = hit?.afterOnsetS ?? Number.POSITIVE_INFINITY;
      worst = Math.max(worst, latency);
      earliestWorst = Math.max(earliestWorst, first?.afterOnsetS ?? Number.POSITIVE_INFINITY);
      lines.push(
        `${d.scenario}: ${hit?.rule ?? d.rules.join(' or ')} ${hit ? `after ${latency.toFixed(1)} s simulated (${hit.afterOnsetWallS?.toFixed(1)} s wall)` : 'never fired'}; incident names ${r.incidents.find((i) => i.rule === hit?.rule)?.devices.length ?? 0} devices`,
      );
    }
    return [
      {
        name: 'fleet.detect_latency_s',
        value: worst,
        unit: 's',
        baseline: earliestWorst,
        note: `${lines.join('; ')}; ${DEVICES} cars at 4 frames/s, ×${SCALE} time (target ≤ 60 s)`,
      },
    ];
  },
};

export const falseAlertsBench: Bench = {
  name: 'fleet.false_alerts_30min',
  async run(progress) {
    const r = await runDrift({
      scenario: 'baseline',
      devices: DEVICES,
      timeScale: SCALE,
      durationSeconds: QUIET_MINUTES * 60,
      progress: (l) => progress(`baseline: ${l}`),
    });
    const raised = r.alerts.filter((a) => a.firedAt !== null);
    return [
      {
        name: 'fleet.false_alerts_30min',
        value: raised.length,
        unit: 'alerts',
        baseline: null,
        note: `${QUIET_MINUTES} simulated minutes (${r.wallSeconds.toFixed(0)} s wall, ${r.frames} frames) without drift, ${DEVICES} cars, ×${SCALE} time${raised.length ? `; raised: ${raised.map((a) => `${a.source} ${a.rule} on ${a.scope}`).join(', ')}` : ''} (target 0)`,
      },
    ];
  },
};
