/**
 * @module training/sweep
 * A sweep (protocol's rest/training.ts documents the file) turned into the parameter sets a job
 * runs: `runs` as listed, then every combination of `grid`, each over `base`, each with its seed.
 * Every set is checked against the trainer's `--describe` before anything runs, and every
 * problem is reported at once with the run it is in. The best run is the one whose metric is
 * lowest (or highest, goal max); runs without that metric never win.
 */
import {
  resolveParams,
  type ParamValue,
  type TrainerDescription,
  type TrainerMetrics,
  type TrainerParams,
} from '@edgeloop/protocol';
import { MAX_SWEEP_RUNS, type Sweep } from '@edgeloop/protocol/rest';

export const DEFAULT_SWEEP_METRIC = 'validation.mae';
export const DEFAULT_SEED = 1;

export interface SweepPlan {
  /** Parameter sets as written (seed always set), in run order. */
  runs: Array<Record<string, ParamValue>>;
  parallel: number;
  metric: string;
  goal: 'min' | 'max';
}

export function expandSweep(sweep: Sweep): { ok: true; plan: SweepPlan } | { ok: false; error: string } {
  const base = sweep.base ?? {};
  const sets: Array<Record<string, ParamValue>> = (sweep.runs ?? []).map((r) => ({ ...base, ...r }));
  if (sweep.grid) {
    const keys = Object.keys(sweep.grid);
    const total = keys.reduce((n, k) => n * sweep.grid![k]!.length, 1);
    if (sets.length + total > MAX_SWEEP_RUNS)
      return {
        ok: false,
        error: `the sweep makes ${sets.length + total} runs (grid ${keys.map((k) => `${k}×${sweep.grid![k]!.length}`).join(' · ')}); at most ${MAX_SWEEP_RUNS} are allowed — use fewer values`,
      };
    let combos: Array<Record<string, ParamValue>> = [{}];
    for (const key of keys) combos = combos.flatMap((c) => sweep.grid![key]!.map((v) => ({ ...c, [key]: v })));
    sets.push(...combos.map((c) => ({ ...base, ...c })));
  }
  if (sets.length === 0) sets.push({ ...base });
  const seed = sweep.seed ?? DEFAULT_SEED;
  return {
    ok: true,
    plan: {
      runs: sets.map((s) => ({ ...s, seed: s.seed ?? seed })),
      parallel: sweep.parallel ?? 1,
      metric: sweep.metric ?? DEFAULT_SWEEP_METRIC,
      goal: sweep.goal ?? 'min',
    },
  };
}

/** Each run's parameters checked against the trainer and completed with its defaults. */
export function resolveSweep(
  plan: SweepPlan,
  description: TrainerDescription,
): { ok: true; runs: TrainerParams[] } | { ok: false; errors: string[] } {
  const runs: TrainerParams[] = [];
  const errors: string[] = [];
  plan.runs.forEach((set, i) => {
    const r = resolveParams(description, set);
    if (r.ok) runs.push(r.params);
    else errors.push(...r.errors.map((e) => `run ${i + 1}: ${e}`));
  });
  // The same problem in every run of a grid is said once per run; keep the first few.
  return errors.length ? { ok: false, errors: [...new Set(errors)] } : { ok: true, runs };
}

/** The value of `validation.mae`, `holdout.rmse`, `extra.<name>`… in a run's metrics. */
export function metricValue(metrics: TrainerMetrics | null | undefined, metric: string): number | undefined {
  if (!metrics) return undefined;
  const dot = metric.indexOf('.');
  const [group, name] = [metric.slice(0, dot), metric.slice(dot + 1)];
  if (group === 'extra') return metrics.extra?.[name];
  const m = metrics[group as 'validation' | 'holdout' | 'train'];
  return m?.[name as 'mae' | 'rmse'];
}

/** The id of the best run by the metric; earlier runs win ties, so the choice is stable. */
export function bestRun(
  runs: ReadonlyArray<{ id: string; metrics: TrainerMetrics | null }>,
  metric: string,
  goal: 'min' | 'max',
): string | undefined {
  let best: { id: string; value: number } | undefined;
  for (const r of runs) {
    const value = metricValue(r.metrics, metric);
    if (value === undefined || !Number.isFinite(value)) continue;
    if (!best || (goal === 'min' ? value < best.value : value > best.value)) best = { id: r.id, value };
  }
  return best?.id;
}
