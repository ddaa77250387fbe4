/**
 * @module rollouts/wave-plan
 * Turns a strategy and its parameters into concrete waves over N eligible devices. Wave specs
 * are cumulative ("10%,50%,100%": after wave 2 half the devices have the candidate; a count is
 * cumulative too), rounded up so a wave never has zero devices; waves that would add nobody are
 * dropped and the last wave always reaches every device. ab stops after its first wave (hold)
 * until promoted; shadow is one wave over every device.
 */
import type { WaveSpec } from '@edgeloop/protocol';
import { defaultWaitMs, type RolloutParams } from './rollout-params.js';

export interface Wave {
  /** Devices in this wave. */
  size: number;
  /** Devices that have the candidate once this wave is done. */
  cumulative: number;
  waitMs: number;
  startedAt: number | null;
  passedAt: number | null;
}

export const DEFAULT_STAGED_WAVES: WaveSpec[] = [{ percent: 10 }, { percent: 50 }, { percent: 100 }];
export const DEFAULT_CANARY_PERCENT = 5;

/** The cumulative wave specs a strategy means, before they meet a device count. */
export function waveSpecs(strategy: string, p: Pick<RolloutParams, 'waves' | 'canary' | 'abPercent'>): WaveSpec[] {
  switch (strategy) {
    case 'direct':
    case 'shadow':
      return [{ percent: 100 }];
    case 'staged':
      return p.waves ?? DEFAULT_STAGED_WAVES;
    case 'canary': {
      const first: WaveSpec =
        p.canary?.count !== undefined
          ? { count: p.canary.count }
          : { percent: p.canary?.percent ?? DEFAULT_CANARY_PERCENT };
      // A canary with explicit later waves is staged with a small first wave.
      return [first, ...(p.waves ?? [{ percent: 100 }])];
    }
    case 'ab':
      return [{ percent: p.abPercent }];
    default:
      throw new Error(`unknown strategy ${strategy}`);
  }
}

/**
 * Concrete waves for `n` devices. `hold` strategies (ab) may end below n: the rest is added by
 * promote ({@link extendToAll}).
 */
export function planWaves(specs: readonly WaveSpec[], n: number, defaultWait: number, reachAll = true): Wave[] {
  const waves: Wave[] = [];
  let done = 0;
  for (const spec of specs) {
    const target =
      spec.count !== undefined
        ? Math.min(spec.count, n)
        : Math.min(n, Math.ceil(((spec.percent ?? 100) / 100) * n - 1e-9));
    const cumulative = Math.max(target, done === 0 && n > 0 ? 1 : 0);
    if (cumulative <= done) continue;
    waves.push({
      size: cumulative - done,
      cumulative,
      waitMs: spec.waitMs ?? defaultWait,
      startedAt: null,
      passedAt: null,
    });
    done = cumulative;
  }
  if (reachAll && done < n) {
    const wait = specs.at(-1)?.waitMs ?? defaultWait;
    waves.push({ size: n - done, cumulative: n, waitMs: wait, startedAt: null, passedAt: null });
  }
  return waves;
}

export function planForStrategy(strategy: string, p: RolloutParams, n: number): Wave[] {
  const wait = p.waitMs ?? defaultWaitMs(strategy);
  return planWaves(waveSpecs(strategy, p), n, wait, strategy !== 'ab');
}

/** ab promote: one more wave with every remaining device. */
export function extendToAll(waves: readonly Wave[], n: number, waitMs: number): Wave[] {
  const done = waves.at(-1)?.cumulative ?? 0;
  return done >= n
    ? [...waves]
    : [...waves, { size: n - done, cumulative: n, waitMs, startedAt: null, passedAt: null }];
}

/** Which wave the device at `position` (0-based, in rollout order) belongs to. */
export function waveOf(waves: readonly Wave[], position: number): number {
  const i = waves.findIndex((w) => position < w.cumulative);
  return i === -1 ? waves.length : i;
}
