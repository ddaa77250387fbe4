/**
 * @module sample-recipes
 *
 * How the committed sample models are made: simulator frames (scenario, phase, count, seed) and
 * the built-in trainer's default parameters with a seed. `scripts/train-samples.ts` follows these
 * recipes; the recorded sha256 sums next to the samples say which bytes they must produce.
 *
 * The `check` recipe is the same pipeline on a few frames and epochs: small enough for the test
 * suite to rebuild on every run, so a change to the simulator's rendering or to the trainer that
 * would change the samples fails a test instead of leaving stale samples behind.
 */
import { fileURLToPath } from 'node:url';

export interface SampleRecipe {
  /** Simulator scenario and phase the frames are rendered from. */
  readonly scenario: string;
  readonly phase: string;
  readonly count: number;
  /** Seed of the rendered frames. */
  readonly dataSeed: number;
  /** Trainer seed; every other parameter is the built-in trainer's default unless overridden. */
  readonly seed: number;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** Sample model versions shipped in `models/sample/`. */
export type SampleVersion = 'v1' | 'v2';

/**
 * v1 sees the baseline range (0–250 mm); v2 is trained on more frames of the widened range
 * (0–350 mm), so a v1→v2 rollout changes real predictions.
 */
export const SAMPLE_RECIPES: Readonly<Record<SampleVersion, SampleRecipe>> = {
  v1: { scenario: 'baseline', phase: 'baseline', count: 2000, dataSeed: 1, seed: 1 },
  v2: { scenario: 'label-shift', phase: 'label-shift', count: 3000, dataSeed: 2, seed: 2 },
};

/** The pipeline check the suite rebuilds: seconds, not minutes. */
export const SAMPLE_CHECK_RECIPE: SampleRecipe = {
  scenario: 'baseline',
  phase: 'baseline',
  count: 60,
  dataSeed: 1,
  seed: 1,
  params: { epochs: 3 },
};

/** `sha256sum -c` format: the committed v1 and v2 sums. */
export const SAMPLE_SUMS_PATH: string = fileURLToPath(new URL('../sample/SHA256SUMS', import.meta.url));

/** The sha256 the check recipe's model must have (one hex line). */
export const SAMPLE_CHECK_SUM_PATH: string = fileURLToPath(new URL('../sample/rebuild-check.sha256', import.meta.url));

/** Parses `sha256sum` lines into file name → hex sum. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}
