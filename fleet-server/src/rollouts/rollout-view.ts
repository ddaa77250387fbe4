/**
 * @module rollouts/rollout-view
 * REST views of rollouts (protocol/src/rest/rollouts.ts): the list summary and the full progress
 * (counts per state and per wave, gate readings with their numbers, live error per arm, drift,
 * every device with its state timestamps).
 */
import type { RolloutDetail, RolloutDeviceState, RolloutSummary, WaveProgress } from '@edgeloop/protocol';
import type { RolloutEngine } from './rollout-engine.js';
import { evaluate, isOfflineTooLong } from './rollout-evaluation.js';
import type { Rollout, RolloutDevice } from './rollout-store.js';

export function summaryOf(r: Rollout, devs: readonly RolloutDevice[]): RolloutSummary {
  const counts: Partial<Record<RolloutDeviceState, number>> = {};
  for (const d of devs) counts[d.state] = (counts[d.state] ?? 0) + 1;
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    baselineVersion: r.baselineVersion,
    strategy: r.strategy,
    role: r.role,
    target: r.target,
    state: r.state,
    reason: r.reason,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
    currentWave: r.currentWave,
    waveCount: r.waves.length,
    holding: r.holding,
    rollbackVersions: r.rollbackVersions,
    devices: devs.filter((d) => d.wave >= 0).length,
    counts,
  };
}

export async function listView(
  engine: RolloutEngine,
  q: { model?: string; state?: string; limit?: number },
): Promise<RolloutSummary[]> {
  const out: RolloutSummary[] = [];
  for (const r of await engine.store.list(q)) out.push(summaryOf(r, await engine.store.devices(r.id)));
  return out;
}

export async function detailView(engine: RolloutEngine, r: Rollout, now = Date.now()): Promise<RolloutDetail> {
  const devs = await engine.store.devices(r.id);
  const presence = await engine.store.presence(
    r.model,
    devs.map((d) => d.deviceId),
  );
  const e = await evaluate(r, devs, presence, engine.queries, now);
  const waves: WaveProgress[] = r.waves.map((w, index) => ({
    index,
    size: w.size,
    cumulative: w.cumulative,
    waitMs: w.waitMs,
    startedAt: w.startedAt,
    passedAt: w.passedAt,
    counts: e.counts[index] ?? {},
    offline: devs.filter(
      (d) =>
        d.wave === index &&
        d.state !== 'pending' &&
        d.state !== 'skipped' &&
        d.state !== 'rolled-back' &&
        isOfflineTooLong(d, presence.get(d.deviceId), now, r.params.offlineGraceMs),
    ).length,
  }));
  return {
    rollout: summaryOf(r, devs),
    parameters: r.params,
    waves,
    gates: e.gates,
    liveError: { candidate: e.liveError.candidate, baseline: e.liveError.baseline, ratio: e.liveError.verdict.ratio },
    drift: { psi: e.drift.psi, records: { candidate: e.drift.candidate, baseline: e.drift.baseline } },
    devices: devs.map((d) => ({
      deviceId: d.deviceId,
      wave: d.wave,
      state: d.state,
      previousVersion: d.previousVersion,
      assignedAt: d.assignedAt,
      stateAt: d.stateAt,
      times: d.times,
      reason: d.reason,
    })),
  };
}
