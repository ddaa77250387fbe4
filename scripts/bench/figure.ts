/**
 * @module bench/figure
 * One benchmark figure: a value and the baseline measured in the same run, so the ratio means
 * something on any machine.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  /** Human explanation of value and baseline. */
  note: string;
}

export interface Bench {
  name: string;
  run(progress: (msg: string) => void): Promise<Figure[]>;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}
