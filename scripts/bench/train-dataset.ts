/**
 * @module bench/train-dataset
 * The dataset folder the training benchmarks run on: the simulator's phase 1 (beige floor,
 * 0–250 mm, straight approaches), labelled with the simulated time-of-flight reading.
 */
import { generateDataset } from '@edgeloop/simulator';

export async function benchDataset(dir: string, count: number): Promise<{ dir: string; source: string }> {
  await generateDataset({ scenario: 'baseline', phase: 'baseline', count, seed: 1, out: dir, createdAt: 0 });
  return { dir, source: 'simulator phase-1' };
}
