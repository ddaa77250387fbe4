/**
 * @module demo/demo-result
 * What one demo run measured: a row per phase (the `--json` lines), the run's summary with the
 * acceptance checks, and the timeline the HTML report plots. Times are simulated: epoch ms of the
 * simulation's clock (the records' time base) or simulated seconds; wall seconds say so.
 */
import type { GateComparison, HistogramResponse, LoopStep, SeriesPoint } from '@edgeloop/protocol/rest';
import type { PhaseId } from './demo-plan.js';

/**
 * recovered: a new version serves on every car and MAE after was measured.
 * baseline: phase 1 (no drift). Otherwise what stopped the phase: the drift was never detected,
 * the loop did not produce a version (its run was rejected, rolled back or failed), or the new
 * version did not reach every car, within the phase's time limit.
 */
export type PhaseOutcome = 'baseline' | 'recovered' | 'not-detected' | 'no-version' | 'not-everywhere';

export interface PhaseResult {
  kind: 'phase';
  phase: PhaseId;
  name: string;
  drift: string;
  /** The world the cars drove in after the onset (an origin-phases phase). */
  world: string;
  outcome: PhaseOutcome;
  /** Simulated epoch ms of the onset (phase 1: when the cameras started). */
  onsetAt: number;
  /** Simulated seconds from the cameras' start to the onset. */
  onsetS: number;
  /** The version serving when the phase began (phase 1: none). */
  previousVersion: number | null;
  /** The serving version's live MAE on the drifted world, after the onset and before the new version was active. */
  maeBefore: number | null;
  nBefore: number;
  /** The new version's live MAE over a window once it was active on every car (phase 1: the initial model's). */
  maeAfter: number | null;
  nAfter: number;
  /** Phase 5: the serving version's live MAE on the beige floor before it turned red. */
  maePreOnset?: number | null;
  /** Onset → the first incident opened after it on the serving version (the fleet noticed), simulated seconds. */
  detectS: number | null;
  /** The rule of that first incident (a server rule, or a device's own detector). */
  detectedBy: string | null;
  /** Onset → the new version active on every car, simulated seconds. */
  recoverS: number | null;
  /** The version serving at the end of the phase. */
  version: number | null;
  /** The loop run that made the version (the last one the phase saw, when several ran). */
  loopRunId: string | null;
  /** The incident that run started from (the one it heals), else the first after the onset. */
  incidentId: string | null;
  /** That incident's rule. */
  rule: string | null;
  /** The loop run's state when the phase ended. */
  runState: string | null;
  /** What the incident said resolved it (null: still open, or resolved without a fix). */
  resolvedBy: { loopRunId: string | null; version: number | null; note: string } | null;
  /** Why the phase ended short of recovering, or other runs the phase saw; null when all went well. */
  note: string | null;
  /** Simulated epoch ms of the incident, and of the moment every car ran the new version. */
  detectedAt: number | null;
  activeAt: number | null;
  /** Alerts that fired from a minute before the onset to the phase's end (server rules and devices' own). */
  alerts: FiredAlert[];
  otherRuns: OtherRun[];
  /** The loop run's steps and gate, for the report. */
  steps: LoopStep[];
  gate: GateComparison | null;
  wallSeconds: number;
}

/** A loop run the phase saw besides the one that made its version (a false alarm, a rejected try…). */
export interface OtherRun {
  id: string;
  /** The rule of the incident that started it, and that incident's version (its champion). */
  rule: string | null;
  champion: number | null;
  state: string;
  reason: string | null;
  /** before-onset: it ran while the demo waited to change the world; after-onset: during the drift. */
  when: 'before-onset' | 'after-onset';
}

export interface FiredAlert {
  rule: string;
  source: 'server' | 'device';
  scope: string;
  version: number;
  /** Simulated seconds from the onset to when it fired (negative: before). */
  afterOnsetS: number;
  value: number | null;
}

export interface AcceptanceCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface DemoSummary {
  kind: 'summary';
  phase1Mae: number | null;
  /** Validation MAE of the initial model (the trainer's). */
  phase1ValidationMae: number | null;
  phases: Array<
    Pick<
      PhaseResult,
      | 'phase'
      | 'name'
      | 'outcome'
      | 'maeBefore'
      | 'maeAfter'
      | 'detectS'
      | 'recoverS'
      | 'version'
      | 'loopRunId'
      | 'incidentId'
    >
  >;
  checks: AcceptanceCheck[];
  /** Every check passed. */
  accepted: boolean;
  devices: number;
  seed: number;
  /** Simulated seconds per wall second. */
  timeScale: number;
  simSeconds: number;
  wallSeconds: number;
  /** The cars' frames: answered, refused or lost, and skipped because a car fell behind the compressed clock. */
  frames: { predicted: number; failed: number; skipped: number };
  /** Where the HTML report was written (set by the CLI). */
  report: string | null;
}

/** A metric's fleet series for one version. */
export interface VersionSeries {
  metric: string;
  version: number;
  points: SeriesPoint[];
}

export interface PhaseHistograms {
  phase: PhaseId;
  quantity: 'output' | 'reference';
  /** The serving version on the drifted world, before the new one was active everywhere. */
  before: HistogramResponse | null;
  /** The new version once it was active everywhere. */
  after: HistogramResponse | null;
}

/** Live MAE per bucket of simulated time as the cars' frames showed it (prediction vs sensor reading). */
export interface FrameBucket {
  /** Simulated seconds since the cameras started (bucket start). */
  t: number;
  mae: number;
  n: number;
  /** The version that answered most of the bucket's frames. */
  version: number | null;
}

export interface DemoTimeline {
  /** Simulated epoch ms when the cameras started. */
  simEpoch: number;
  /** Simulated epoch ms when the run stopped. */
  end: number;
  series: VersionSeries[];
  frames: FrameBucket[];
  frameBucketSeconds: number;
  histograms: PhaseHistograms[];
  /** The world's phase switches (simulated seconds since the cameras started). */
  switches: Array<{ at: number; phase: string }>;
}

export interface DemoResult {
  phases: PhaseResult[];
  summary: DemoSummary;
  timeline: DemoTimeline;
}

/** The demo's acceptance: what every drift phase and phase 5 must show (docs/demo.md). */
export const ACCEPTANCE = {
  /** MAE after ≤ this × phase 1's MAE, in every drift phase. */
  maeAfterVsPhase1: 1.5,
  /**
   * MAE after ≤ this × MAE before ("well below"), in every drift phase. Not a half: the mildest
   * drift, 30° angles, costs the serving version only ~1.7–2 × its phase-1 error in this
   * simulator (the origin's car lost 4.4 ×), so a retrained version a quarter or more below it is
   * as far as the sensor's noise lets it go.
   */
  maeAfterVsBefore: 0.75,
  /** Phase 5: onset → incident, simulated seconds. */
  detectS: 60,
  /** Phase 5: onset → new version on every car, simulated seconds. */
  recoverS: 300,
} as const;

const mm = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)} mm`);
const s = (v: number | null) => (v === null ? 'never' : `${v.toFixed(0)} s`);

/** The acceptance checks of a run's phases against phase 1's MAE. */
export function acceptanceChecks(phases: readonly PhaseResult[], phase1Mae: number | null): AcceptanceCheck[] {
  const checks: AcceptanceCheck[] = [];
  for (const p of phases) {
    if (p.phase === 1) continue;
    const limit = phase1Mae === null ? null : ACCEPTANCE.maeAfterVsPhase1 * phase1Mae;
    checks.push({
      name: `phase ${p.phase}: MAE after ≤ ${ACCEPTANCE.maeAfterVsPhase1} × phase 1`,
      passed: p.maeAfter !== null && limit !== null && p.maeAfter <= limit,
      detail: `${mm(p.maeAfter)} after, limit ${mm(limit)} (phase 1: ${mm(phase1Mae)})`,
    });
    checks.push({
      name: `phase ${p.phase}: MAE after ≤ ${ACCEPTANCE.maeAfterVsBefore} × MAE before`,
      passed: p.maeAfter !== null && p.maeBefore !== null && p.maeAfter <= ACCEPTANCE.maeAfterVsBefore * p.maeBefore,
      detail: `${mm(p.maeAfter)} after, ${mm(p.maeBefore)} before`,
    });
    if (p.phase === 5) {
      checks.push({
        name: `phase 5: detected ≤ ${ACCEPTANCE.detectS} s after the onset`,
        passed: p.detectS !== null && p.detectS <= ACCEPTANCE.detectS,
        detail: `incident after ${s(p.detectS)} (simulated)`,
      });
      checks.push({
        name: `phase 5: new version on every car ≤ ${ACCEPTANCE.recoverS} s after the onset`,
        passed: p.recoverS !== null && p.recoverS <= ACCEPTANCE.recoverS,
        detail: `every car on v${p.version ?? '?'} after ${s(p.recoverS)} (simulated)`,
      });
    }
  }
  return checks;
}

/** The summary line of a run (without the report path, which the CLI sets). */
export function summarize(
  phases: readonly PhaseResult[],
  run: {
    phase1ValidationMae: number | null;
    devices: number;
    seed: number;
    timeScale: number;
    simSeconds: number;
    wallSeconds: number;
    frames: DemoSummary['frames'];
  },
): DemoSummary {
  const phase1Mae = phases.find((p) => p.phase === 1)?.maeAfter ?? null;
  const checks = acceptanceChecks(phases, phase1Mae);
  return {
    kind: 'summary',
    phase1Mae,
    phase1ValidationMae: run.phase1ValidationMae,
    phases: phases.map((p) => ({
      phase: p.phase,
      name: p.name,
      outcome: p.outcome,
      maeBefore: p.maeBefore,
      maeAfter: p.maeAfter,
      detectS: p.detectS,
      recoverS: p.recoverS,
      version: p.version,
      loopRunId: p.loopRunId,
      incidentId: p.incidentId,
    })),
    checks,
    accepted:
      checks.every((c) => c.passed) && phases.every((p) => p.outcome === 'baseline' || p.outcome === 'recovered'),
    devices: run.devices,
    seed: run.seed,
    timeScale: run.timeScale,
    simSeconds: run.simSeconds,
    wallSeconds: run.wallSeconds,
    frames: run.frames,
    report: null,
  };
}
