/**
 * @module bench/train-dataset
 * The dataset folder the training benchmarks run on.
 */
import { writeSyntheticDataset } from '@edgeloop/models/trainer';

export async function benchDataset(dir: string, count: number): Promise<{ dir: string; source: string }> {
  await writeSyntheticDataset(dir, { count, seed: 1 });
  return { dir, source: 'synthetic' };
}
