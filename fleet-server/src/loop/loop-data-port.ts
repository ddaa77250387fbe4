/**
 * @module loop/loop-data-port
 * The loop's data port over loop/data/: counts and snapshots on the store's samples and datasets,
 * capture windows through the devices' signed desired states.
 */
import type { LoopDataDeps } from './data/loop-dataset.js';
import { buildLoopDataset, countRecentSamples, newSamplesSince, openCapture } from './data/loop-dataset.js';
import type { LoopDataPort } from './loop-ports.js';

export function loopDataPort(deps: LoopDataDeps): LoopDataPort {
  return {
    countRecent: (w) => countRecentSamples(deps, w),
    async build(spec) {
      const r = await buildLoopDataset(deps, spec);
      if (!r.ok) return r;
      return {
        ok: true,
        datasetId: r.outcome.dataset.id,
        recent: r.recent,
        replayed: r.replayed,
        total: r.outcome.dataset.counts.total,
      };
    },
    async openCapture(q) {
      const outcome = await openCapture(deps, {
        model: q.model,
        ...(q.devices ? { devices: q.devices } : {}),
        everyN: q.everyN,
        until: Date.now() + q.forMs,
      });
      return outcome.devices.length;
    },
    newSamplesSince: (model, since) => newSamplesSince(deps, model, since),
  };
}
