/**
 * @module demo/demo-plan
 * The origin's five evaluation phases as the demo plays them on the simulator
 * (simulator/scenarios/origin-phases.yaml, switched on demand), with the numbers the origin
 * reported for each (REFERENCE §1), and the `--phases` list a user may narrow them to.
 */

export type PhaseId = 1 | 2 | 3 | 4 | 5;

export interface DemoPhase {
  id: PhaseId;
  /** Short name for tables. */
  name: string;
  /** What changes in the world, in words. */
  drift: string;
  /** The origin-phases world the drift switches to (its onset). */
  world: string;
  /**
   * A world switched on before the onset, held for preOnsetSeconds: phase 5 starts on the beige
   * floor (angle 0) and changes to red mid-run, as the origin's did.
   */
  preWorld?: string;
  /** The origin's mean absolute error, mm: before retraining (null: initial model) and after. */
  origin: { before: number | null; after: number; beforeOnset?: number };
}

export const ORIGIN_SCENARIO = 'origin-phases';

export const DEMO_PHASES: readonly DemoPhase[] = [
  {
    id: 1,
    name: 'baseline',
    drift: 'none: beige floor, 0–250 mm (initial model)',
    world: 'baseline',
    origin: { before: null, after: 6.85 },
  },
  {
    id: 2,
    name: 'label shift',
    drift: 'label shift: distances widen to 0–350 mm',
    world: 'label-shift',
    origin: { before: 19, after: 4.83 },
  },
  {
    id: 3,
    name: 'green floor',
    drift: 'covariate shift: the floor turns green (0–250 mm)',
    world: 'green-floor',
    origin: { before: 178, after: 15.5 },
  },
  {
    id: 4,
    name: 'angled',
    drift: 'concept drift: the car approaches at up to 30° (beige floor)',
    world: 'angled',
    origin: { before: 30.0, after: 12.9 },
  },
  {
    id: 5,
    name: 'beige → red',
    drift: 'covariate shift mid-run: the beige floor turns red from one frame to the next',
    world: 'red',
    preWorld: 'beige',
    origin: { before: 45.5, after: 6.17, beforeOnset: 8.47 },
  },
];

export function phaseById(id: PhaseId): DemoPhase {
  return DEMO_PHASES.find((p) => p.id === id)!;
}

/**
 * `--phases 1,5` → [1, 5]. Phase 1 (the initial model) always runs, first; the others run in
 * order, each continuing from the world and model the one before left.
 */
export function parsePhaseList(text: string): PhaseId[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new RangeError('--phases needs a list such as 1,5 or 1,2,3,4,5');
  const ids = new Set<PhaseId>([1]);
  for (const part of parts) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 1 || n > 5)
      throw new RangeError(`--phases: "${part}" is not a phase; give numbers from 1 to 5, e.g. --phases 1,5`);
    ids.add(n as PhaseId);
  }
  return [...ids].sort((a, b) => a - b);
}
