/**
 * @module bench/loop
 * The closed retraining loop on the simulator, from one run of the demo's harness (phases 1
 * and 5: the initial model on the baseline world, then the beige floor turning red mid-run),
 * with nobody at the keyboard (scripts/demo/run-demo.ts):
 *
 * loop.detect_s: simulated seconds from the floor change to the incident that started the loop
 *   run. Baseline: the target, 60.
 * loop.recover_s: simulated seconds from the floor change to the new version active on every
 *   car (dataset, training, gate, canary rollout in between). Baseline: the target, 300.
 * loop.mae_recovery_ratio: the new version's live MAE on the red floor ÷ the initial model's on
 *   the baseline world. Baseline: the target, 1.5.
 *
 * A phase that never recovers reports Infinity (and the note says why). Env:
 * EDGELOOP_BENCH_LOOP_DEVICES (default 8), EDGELOOP_BENCH_LOOP_SCALE (simulated seconds per wall
 * second, default 3, the demo's).
 */
import { ACCEPTANCE } from '../demo/demo-result.js';
import { runDemo } from '../demo/run-demo.js';
import type { Bench } from './figure.js';

const DEVICES = Number(process.env.EDGELOOP_BENCH_LOOP_DEVICES ?? 8);
const SCALE = Number(process.env.EDGELOOP_BENCH_LOOP_SCALE ?? 3);

export const loopBench: Bench = {
  name: 'loop.detect_s',
  async run(progress) {
    const r = await runDemo({ phases: [1, 5], devices: DEVICES, timeScale: SCALE, progress });
    const p1 = r.phases.find((p) => p.phase === 1)!;
    const p5 = r.phases.find((p) => p.phase === 5)!;
    const where = `${DEVICES} cars, ×${SCALE} time, ${r.summary.wallSeconds.toFixed(0)} s wall`;
    const why = p5.outcome === 'recovered' ? '' : `; phase 5 ${p5.outcome}${p5.note ? `: ${p5.note}` : ''}`;
    const ratio =
      p5.maeAfter !== null && p1.maeAfter !== null && p1.maeAfter > 0
        ? p5.maeAfter / p1.maeAfter
        : Number.POSITIVE_INFINITY;
    return [
      {
        name: 'loop.detect_s',
        value: p5.detectS ?? Number.POSITIVE_INFINITY,
        unit: 's',
        baseline: ACCEPTANCE.detectS,
        note: `floor beige → red to incident ${p5.incidentId ?? '—'} (${p5.rule ?? 'no rule fired'}), simulated; ${where}${why} (target ≤ ${ACCEPTANCE.detectS})`,
      },
      {
        name: 'loop.recover_s',
        value: p5.recoverS ?? Number.POSITIVE_INFINITY,
        unit: 's',
        baseline: ACCEPTANCE.recoverS,
        note: `floor change to v${p5.version ?? '?'} on every car (loop run ${p5.loopRunId ?? '—'}, ${p5.runState ?? 'no run'}), simulated; ${where}${why} (target ≤ ${ACCEPTANCE.recoverS})`,
      },
      {
        name: 'loop.mae_recovery_ratio',
        value: ratio,
        unit: '×',
        baseline: ACCEPTANCE.maeAfterVsPhase1,
        note: `MAE after ${p5.maeAfter?.toFixed(2) ?? '—'} mm (before ${p5.maeBefore?.toFixed(2) ?? '—'} mm) ÷ phase 1 ${p1.maeAfter?.toFixed(2) ?? '—'} mm; ${where}${why} (target ≤ ${ACCEPTANCE.maeAfterVsPhase1})`,
      },
    ];
  },
};
