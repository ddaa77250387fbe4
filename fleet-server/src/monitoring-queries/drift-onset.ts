/**
 * @module monitoring-queries/drift-onset
 * Since when a scope has been drifting: its windows, oldest first, are merged into chunks of at
 * least MIN_DRIFT_SAMPLES records (a single minute rarely holds enough values for a verdict), each
 * chunk is judged on its own, and the onset is the start of the newest unbroken run of drifted
 * chunks. A trailing chunk too small for a verdict joins the one before it.
 */
import { emptyRollup, mergeRollup, MIN_DRIFT_SAMPLES, type Rollup } from '@edgeloop/protocol';
import type { RollupWindow } from '../store/rollup-store-types.js';

/**
 * Start of the newest run of drifted chunks in `windows` (one scope's, ordered by start), or null
 * when the newest chunk has not drifted. `drifted` judges a chunk's merged rollup.
 */
export function driftOnset(windows: readonly RollupWindow[], drifted: (r: Rollup) => boolean): number | null {
  const chunks: { start: number; rollup: Rollup }[] = [];
  let open: { start: number; rollup: Rollup } | undefined;
  for (const w of windows) {
    open ??= { start: w.windowStart, rollup: emptyRollup(w.rollup.confusion !== undefined) };
    mergeRollup(open.rollup, w.rollup);
    if (open.rollup.count >= MIN_DRIFT_SAMPLES) {
      chunks.push(open);
      open = undefined;
    }
  }
  if (open) {
    const last = chunks[chunks.length - 1];
    if (last) mergeRollup(last.rollup, open.rollup);
    else chunks.push(open);
  }
  let onset: number | null = null;
  for (let i = chunks.length - 1; i >= 0 && drifted(chunks[i]!.rollup); i--) onset = chunks[i]!.start;
  return onset;
}
